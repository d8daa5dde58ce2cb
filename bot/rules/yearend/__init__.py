"""The year-end programme (SPEC 2.6): stories, events, nudges, awards and the export."""
