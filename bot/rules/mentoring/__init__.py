"""Reverse mentoring: pairing, content, and the offline CSV pairing."""
