"""The export's CSV cells: nothing a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from bot.rules.yearend import export


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+1+1", "-1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1"],
)
def test_a_cell_that_would_run_as_a_formula_is_neutralised(text: str) -> None:
    """= + - @ tab and carriage return at the start of a text cell get a leading quote."""
    [row] = list(csv.reader(io.StringIO(export._csv(["a"], [[text]]).decode(), newline="")))[1:]
    assert row == ["'" + text]


def test_numbers_dates_and_plain_text_stay_as_they_are() -> None:
    """A negative amount is a number, not a formula: it stays -5; plain text is untouched."""
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    body = export._csv(["n", "at", "t", "none"], [[-5, at, "Sales - R&D", None]]).decode()
    assert body.split("\r\n")[1] == "-5,2026-01-02T03:04:05+00:00,Sales - R&D,"
