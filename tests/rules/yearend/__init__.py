"""Tests for the year-end rules."""
