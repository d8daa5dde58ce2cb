"""Tests for reverse mentoring's rules."""
