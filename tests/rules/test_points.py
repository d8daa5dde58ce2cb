"""The points ledger: each source counted once, pair cooldown, self-dealing, standings."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from bot.config import Settings
from bot.devkit import factories
from bot.devkit.factories import ALLY, REQUESTER
from bot.devkit.sandbox import DEFAULT_WORKSPACE, sandbox_settings
from bot.rules.errors import InvalidInput
from bot.rules.points import adjustments, leaderboard, ledger
from messages.charts import bar_chart_png
from storage.db import Database
from storage.models.points import PointsEntry
from storage.models.requests import Match

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(db: Database) -> Settings:
    return sandbox_settings(db.url, DEFAULT_WORKSPACE)


def _rows(db: Database) -> list[PointsEntry]:
    with db.session() as s:
        return list(s.execute(select(PointsEntry).order_by(PointsEntry.id)).scalars())


def _worked(db: Database, match_id: int, when: datetime) -> None:
    with db.session() as s:
        match = s.get(Match, match_id)
        assert match is not None
        match.outcome, match.closed_at = "worked", when
        s.add(match)


def test_defaults_follow_the_spec_in_one_place() -> None:
    """10 allyship, 5 case, 5 story, 15 event."""
    assert ledger.PointRules(10, 5, 5, 15) == ledger.RULES


def test_a_successful_allyship_is_counted_once_however_often_awarded(
    db: Database, settings: Settings
) -> None:
    """Awarding the same match twice adds one row of 10 to the ally's BU."""
    match_id = factories.match(db, settings, matched_at=NOW)
    for _ in range(2):
        with db.session() as s:
            ledger.award_allyship(s, match_id=match_id, settings=settings, now=NOW)
    [row] = _rows(db)
    assert (row.amount, row.kind, row.source) == (10, "allyship", f"match:{match_id}:ally")
    assert row.business_unit_id == factories.business_unit(db, "Engineering")


def test_concurrent_awards_count_once(db: Database, settings: Settings) -> None:
    """Eight threads awarding one match at the same moment add one row."""
    match_id = factories.match(db, settings, matched_at=NOW)
    start = threading.Barrier(8)

    def award(_: int) -> bool:
        start.wait()
        with db.session() as s:
            return ledger.award_allyship(s, match_id=match_id, settings=settings, now=NOW).awarded

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(award, range(8)))
    assert results.count(True) == 1
    assert len(_rows(db)) == 1


def test_the_same_pair_earns_once_per_cooldown(db: Database, settings: Settings) -> None:
    """A second success of the same ally and requester within the cooldown earns nothing."""
    first = factories.match(db, settings, matched_at=NOW)
    _worked(db, first, NOW)
    with db.session() as s:
        assert ledger.award_allyship(s, match_id=first, settings=settings, now=NOW).awarded
    second = factories.match(db, settings, matched_at=NOW)
    with db.session() as s:
        award = ledger.award_allyship(
            s, match_id=second, settings=settings, now=NOW + timedelta(days=30)
        )
    assert not award.awarded and "cooldown" in award.reason
    other = factories.match(db, settings, matched_at=NOW, requester="U0COLLEAGUE")
    with db.session() as s:
        assert ledger.award_allyship(s, match_id=other, settings=settings, now=NOW).awarded
    # The cooldown counts from the last success that earned points, not from `second`.
    later = NOW + settings.pair_cooldown + timedelta(days=1)
    third = factories.match(db, settings, matched_at=later)
    with db.session() as s:
        assert ledger.award_allyship(s, match_id=third, settings=settings, now=later).awarded


def _award(db: Database, match_id: int, settings: Settings) -> ledger.Award:
    with db.session() as s:
        return ledger.award_allyship(s, match_id=match_id, settings=settings, now=NOW)


def _until_waiting_or_done(db: Database, future: concurrent.futures.Future) -> None:
    """Until the other unit of work has finished or waits for a lock (no timing involved).

    On PostgreSQL a waiting backend shows in pg_locks; on SQLite the other one waits for the
    write lock at its BEGIN IMMEDIATE whatever it does, so there is nothing to wait for.
    """
    if not db.is_postgres:
        return
    with db.engine.connect() as connection:
        while not future.done():
            waiting = connection.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
            if waiting.scalar():
                return
            time.sleep(0.01)


def test_two_answers_on_two_matches_of_one_pair_earn_once(db: Database, settings: Settings) -> None:
    """Two "worked" answers at once on two matches of one pair: the second sees the first."""
    first = factories.match(db, settings, matched_at=NOW)
    second = factories.match(db, settings, matched_at=NOW)
    _worked(db, first, NOW)
    _worked(db, second, NOW)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        with db.session() as s:
            assert ledger.award_allyship(s, match_id=first, settings=settings, now=NOW).awarded
            # The other answer runs while this one has not committed yet.
            other = pool.submit(_award, db, second, settings)
            _until_waiting_or_done(db, other)
        award = other.result()
    assert not award.awarded and "cooldown" in award.reason
    assert [r.amount for r in _rows(db) if r.amount] == [10]


def test_a_success_within_the_pair_cooldown_still_counts_as_one(
    db: Database, settings: Settings
) -> None:
    """It earns no points, but the BU's successful allyships count it (SPEC 2.4.4)."""
    first = factories.match(db, settings, matched_at=NOW)
    _worked(db, first, NOW)
    second = factories.match(db, settings, matched_at=NOW)
    _worked(db, second, NOW)
    for match_id in (first, second, second):
        _award(db, match_id, settings)
    zone = ZoneInfo("UTC")
    with db.session() as s:
        standing = leaderboard.standings(s, period=leaderboard.year_period(2026, zone))[0]
    assert standing == leaderboard.Standing("Engineering", 10, 2, 0)
    cooled = _rows(db)[1]
    assert (cooled.amount, cooled.source) == (0, f"match:{second}:ally")
    assert "cooldown" in cooled.reason


def test_nobody_earns_from_their_own_request(db: Database, settings: Settings) -> None:
    """An ally matched on their own request earns nothing."""
    match_id = factories.match(db, settings, matched_at=NOW, requester=ALLY)
    with db.session() as s:
        award = ledger.award_allyship(s, match_id=match_id, settings=settings, now=NOW)
    assert not award.awarded and "self" in award.reason
    assert _rows(db) == []


def _case_match(db: Database, settings: Settings, requester: str | None) -> int:
    """A matched ask made on behalf of `requester`'s anonymous case (None: a purged case,
    whose requester key is gone)."""
    from bot.privacy import privacy
    from bot.rules.anonymous import cases

    case_id = factories.anonymous_case(
        db, privacy(settings), requester=requester or "U0GONE", volunteer="U0VOL1"
    )
    match_id = factories.match_ask(db, settings, factories.case_ask(db, case_id), matched_at=NOW)
    if requester is None:
        with db.session() as s:
            cases.unlink_requester(s, cases.get_case(s, case_id=case_id))
    return match_id


def test_the_pair_cooldown_applies_to_anonymous_cases(db: Database, settings: Settings) -> None:
    """The same anonymous requester and ally earn once per cooldown, also across named asks."""
    first = _case_match(db, settings, REQUESTER)
    _worked(db, first, NOW)
    with db.session() as s:
        award = ledger.award_allyship(s, match_id=first, settings=settings, now=NOW)
    assert award.awarded and "anonymous" in _rows(db)[0].reason
    second = _case_match(db, settings, REQUESTER)
    with db.session() as s:
        award = ledger.award_allyship(s, match_id=second, settings=settings, now=NOW)
    assert not award.awarded and "cooldown" in award.reason
    named = factories.match(db, settings, matched_at=NOW, requester=REQUESTER)
    with db.session() as s:
        award = ledger.award_allyship(s, match_id=named, settings=settings, now=NOW)
    assert not award.awarded and "cooldown" in award.reason
    someone_else = _case_match(db, settings, "U0COLLEAGUE")
    with db.session() as s:
        assert ledger.award_allyship(s, match_id=someone_else, settings=settings, now=NOW).awarded


def test_a_purged_case_without_a_requester_key_skips_only_the_pair_rule(
    db: Database, settings: Settings
) -> None:
    """With no keyed marker left to compare, the pair rule cannot apply; the award happens once."""
    match_id = _case_match(db, settings, None)
    for _ in range(2):
        with db.session() as s:
            ledger.award_allyship(s, match_id=match_id, settings=settings, now=NOW)
    [row] = _rows(db)
    assert "anonymous" in row.reason


def test_a_handled_case_earns_the_volunteers_bu_once(db: Database, settings: Settings) -> None:
    """award_case adds 5 to the volunteer's BU, once per case."""
    factories.member(db, "U0VOL1", "People")
    for _ in range(2):
        with db.session() as s:
            ledger.award_case(s, case_id=7, volunteer_id="U0VOL1")
    [row] = _rows(db)
    assert (row.amount, row.source, row.kind) == (5, "case:7:volunteer", "case")
    with db.session() as s:
        assert not ledger.award_case(s, case_id=8, volunteer_id="U0NOBU").awarded


def test_stories_and_events(db: Database) -> None:
    """A story earns 5 (never for oneself); an event 15 to its BU."""
    factories.member(db, ALLY, "Sales")
    people = factories.business_unit(db, "People")
    with db.session() as s:
        assert not ledger.award_story(s, story_id=1, ally_id=ALLY, reporter_id=ALLY).awarded
        assert ledger.award_story(s, story_id=1, ally_id=ALLY, reporter_id=REQUESTER).awarded
        assert ledger.award_event(s, event_id=3, business_unit_id=people).awarded
    assert [r.amount for r in _rows(db)] == [5, 15]


UNITS = ["Engineering", "Region 1", "Region 10", "Region", "2030 Vision", "People Ops"]


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        ("adjust Engineering five reason", "AMOUNT must be a whole number"),
        ("adjust Engineering 0 reason", "non-zero"),
        ("adjust Engineering 100001 reason", "non-zero"),
        ("adjust -5 reason", "Name the business unit"),
        ("adjust", "Name the business unit"),
        ("adjust Engineering -5", "Give a reason"),
        ("adjust Engineering -5 " + "x" * 301, "under 300"),
        ("adjust Marketing 5 reason", "no business unit called “Marketing”"),
        ("adjust Region 10x 5 reason", "AMOUNT must be a whole number"),
        ("remove Engineering -5 x", "Use `/ally-admin points adjust"),
    ],
)
def test_malformed_adjustments_are_explained(command: str, problem: str) -> None:
    """Each malformed adjustment says what is wrong."""
    with pytest.raises(InvalidInput, match=problem):
        adjustments.parse_adjustment(command, units=UNITS)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("adjust Region 1 5 fixed count", ("Region 1", 5, "fixed count")),
        ("adjust region 10 -3 typo in 2026", ("Region 10", -3, "typo in 2026")),
        ("adjust 2030 Vision +7 event organised", ("2030 Vision", 7, "event organised")),
        ("adjust  people   ops -5 double counted", ("People Ops", -5, "double counted")),
        ("adjust Region 4 reason", ("Region", 4, "reason")),
        # No amount follows the longest name: a shorter known name that is followed by one.
        ("adjust Region 1 reason", ("Region", 1, "reason")),
    ],
)
def test_unit_names_with_numbers_are_matched_whole(
    command: str, expected: tuple[str, int, str]
) -> None:
    """The longest known unit name (any case) comes first, then the amount, then the reason."""
    assert adjustments.parse_adjustment(command, units=UNITS) == adjustments.Adjustment(*expected)


def test_adjustments_append_and_are_idempotent_per_command(db: Database) -> None:
    """An adjustment adds a signed row; the same command delivery never adds two."""
    factories.business_unit(db, "People Ops")
    adjustment = adjustments.parse_adjustment(
        "adjust people ops -5 double counted event", units=["People Ops"]
    )
    assert adjustment == adjustments.Adjustment("People Ops", -5, "double counted event")
    for _ in range(2):
        with db.session() as s:
            adjustments.adjust(s, adjustment=adjustment, actor="U0ADMIN", request_key="trigger-1")
    with db.session() as s:
        adjustments.adjust(s, adjustment=adjustment, actor="U0ADMIN", request_key="trigger-2")
    assert [r.amount for r in _rows(db)] == [-5, -5]
    with db.session() as s, pytest.raises(InvalidInput, match="no business unit"):
        adjustments.adjust(s, adjustment=adjustments.Adjustment("Nope", 1, "x"), actor="U0ADMIN")


def test_standings_count_by_period_in_the_programmes_time_zone(db: Database) -> None:
    """An entry at 23:30 UTC on 31 December is next year's in Paris."""
    zone = ZoneInfo("Europe/Paris")
    eng, sales = factories.business_unit(db, "Engineering"), factories.business_unit(db, "Sales")
    with db.session() as s:
        ledger.add_entry(
            s,
            business_unit_id=eng,
            amount=10,
            kind="allyship",
            reason="r",
            source="a",
            now=datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
        )
        ledger.add_entry(
            s,
            business_unit_id=sales,
            amount=5,
            kind="case",
            reason="r",
            source="b",
            now=datetime(2026, 12, 31, 22, 30, tzinfo=UTC),
        )
    with db.session() as s:
        in_2026 = leaderboard.standings(s, period=leaderboard.year_period(2026, zone))
        in_2027 = leaderboard.standings(s, period=leaderboard.year_period(2027, zone))
    assert in_2026 == [
        leaderboard.Standing("Sales", 5, 0, 1),
        leaderboard.Standing("Engineering", 0, 0, 0),
    ]
    assert in_2027[0] == leaderboard.Standing("Engineering", 10, 1, 0)


def test_periods() -> None:
    """month, quarter, year, YYYY; anything else is refused."""
    zone = ZoneInfo("Europe/Paris")
    now = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 1 December in Paris
    month = leaderboard.parse_period("month", now=now, zone=zone)
    assert month.label == "December 2026" and month.start == datetime(2026, 12, 1, tzinfo=zone)
    assert month.end == datetime(2027, 1, 1, tzinfo=zone)
    quarter = leaderboard.parse_period("quarter", now=now, zone=zone)
    assert quarter.label == "Q4 2026" and quarter.end == datetime(2027, 1, 1, tzinfo=zone)
    assert leaderboard.parse_period("", now=now, zone=zone).label == "2026"
    assert leaderboard.parse_period("2024", now=now, zone=zone).start.year == 2024
    for bad in ("week", "26", "1999", "2026-01"):
        with pytest.raises(InvalidInput):
            leaderboard.parse_period(bad, now=now, zone=zone)


def test_the_chart_is_a_png() -> None:
    """The bar chart renders in memory as PNG bytes."""
    png = bar_chart_png(["Engineering", "Sales"], [10, 0], title="Standings 2026")
    assert png.startswith(b"\x89PNG") and len(png) > 1000


@pytest.mark.parametrize("name", ["$x^$", "R&D $$", "Cost $5 and $10", r"\frac{a}", "_^$"])
def test_the_chart_takes_names_that_look_like_mathtext(name: str) -> None:
    """Dollar signs in a unit's name or the title are drawn as they are, never parsed."""
    png = bar_chart_png([name, "Sales"], [3, 1], title=f"Standings {name}")
    assert png.startswith(b"\x89PNG")
