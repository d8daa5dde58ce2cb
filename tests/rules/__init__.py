"""Tests for the programme's rules."""
