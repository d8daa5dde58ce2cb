"""storage.yearend: the per-day ledger totals (kept by a trigger) add up to the ledger itself."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.rules.points import ledger
from bot.rules.yearend.awards import year_bounds
from storage import yearend as store
from storage.db import Database
from storage.models.programme import BusinessUnit


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Pacific/Kiritimati"])
def test_day_totals_equal_one_group_by_over_the_rows(db: Database, zone: str) -> None:
    """Rows around the year's edges in any time zone: the summary path gives exactly what a
    GROUP BY over the ledger rows gives (points, hand adjustments, last earning act)."""
    rng = random.Random(3)
    with db.session() as s:
        units = []
        for name in ("A", "B", "C"):
            unit = BusinessUnit(name=name)
            s.add(unit)
            s.flush()
            units.append(unit.id)
    start, end = year_bounds(2025, ZoneInfo(zone))
    moments = [start, end, start - timedelta(microseconds=1), end - timedelta(microseconds=1)]
    moments += [start + timedelta(hours=rng.uniform(-40, 9000)) for _ in range(300)]
    with db.session() as s:
        for index, at in enumerate(moments):
            kind = rng.choice([ledger.CASE, ledger.EVENT, ledger.ADJUSTMENT, ledger.STORY])
            amount = rng.choice([-5, 0, 5, 15]) if kind == ledger.ADJUSTMENT else rng.choice([0, 5])
            ledger.add_entry(
                s,
                business_unit_id=int(rng.choice(units) or 0),
                amount=amount,
                kind=kind,
                reason="r",
                source=f"t:{index}",
                now=at.astimezone(UTC),
            )
    with db.read() as s:
        fast = store.ledger_totals(s, start=start, end=end, adjustment=ledger.ADJUSTMENT)
        slow = store._raw_totals(s, start=start, end=end, adjustment=ledger.ADJUSTMENT)
    assert sorted(fast) == sorted(slow)
    assert sum(row[1] for row in fast) != 0


def test_a_short_span_reads_the_rows(db: Database) -> None:
    """A span shorter than a whole UTC day never touches the summary."""
    start = datetime(2025, 3, 1, 5, tzinfo=UTC)
    with db.read() as s:
        assert (
            store.ledger_totals(s, start=start, end=start + timedelta(hours=3), adjustment="x")
            == []
        )
