"""Tables of the year-end programme (SPEC 2.6): stories, events, nudges, awards, export."""

from __future__ import annotations
