"""The points ledger and BU standings (SPEC 2.4.3, 2.4.4, 2.5).

The ledger is append-only: every row has an amount, a business unit, a reason and a unique
source key (`match:12:ally`, `case:7:volunteer`, `adjust:<uuid>`), inserted with
ON CONFLICT DO NOTHING, so no retry, double click or race can count a source twice.
Corrections are signed adjustments, never deletions.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from bot.config import Settings
from bot.jobs import queue as jobs
from bot.privacy import privacy
from bot.rules.errors import InvalidInput, NotFound
from storage import anonymous as anonymous_store
from storage.models.points import PointsEntry
from storage.models.programme import BusinessUnit, Member
from storage.models.requests import AllyRequest, Match
from storage.types import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PointRules:
    """How many points each kind of contribution earns (SPEC 2.4.3): the one place to change."""

    successful_allyship: int = 10
    handled_case: int = 5
    accepted_story: int = 5
    accepted_event: int = 15


RULES = PointRules()

ALLYSHIP = "allyship"
CASE = "case"
STORY = "story"
EVENT = "event"
ADJUSTMENT = "adjustment"

WORKED = "worked"
LEADERBOARD_POST = "leaderboard_post"
MAX_ADJUSTMENT = 100_000
# A public leaderboard names the top units only (the rest are counted), so it stays readable
# and within one Slack message; admins see every unit.
PUBLIC_TOP = 20
MAX_REASON = 300


@dataclass(frozen=True)
class Award:
    """The result of an award: whether a ledger row was added, and why not if it was not."""

    awarded: bool
    reason: str = ""
    amount: int = 0


@dataclass(frozen=True)
class Standing:
    """One business unit's line on the leaderboard."""

    business_unit: str
    points: int
    allyships: int
    cases: int


@dataclass(frozen=True)
class Period:
    """A span of time in the programme's time zone: [start, end)."""

    label: str
    start: datetime
    end: datetime


# the ledger


def add_entry(
    session: Session,
    *,
    business_unit_id: int,
    amount: int,
    kind: str,
    reason: str,
    source: str,
    actor: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Append a ledger row unless one with this source exists; True when it was added."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(PointsEntry)
        .values(
            business_unit_id=business_unit_id,
            amount=amount,
            kind=kind,
            reason=reason[:MAX_REASON],
            source=source,
            actor=actor,
            created_at=now or utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["source"])
        # rowcount is unreliable with RETURNING (PostgreSQL reports -1): a returned id is not.
        .returning(col(PointsEntry.id))
    )
    return session.execute(statement).first() is not None


def business_unit_of(session: Session, user_id: str) -> BusinessUnit | None:
    """The business unit a person belongs to, if known."""
    member = session.get(Member, user_id)
    return session.get(BusinessUnit, member.business_unit_id) if member else None


def find_business_unit(session: Session, name: str) -> BusinessUnit | None:
    """A business unit by name, ignoring case."""
    query = select(BusinessUnit).where(func.lower(col(BusinessUnit.name)) == name.strip().lower())
    return session.execute(query).scalars().first()


def _requester_key(session: Session, request: AllyRequest, settings: Settings) -> str | None:
    """Who asked, as a keyed marker: named and anonymous asks of one person compare equal.

    An ask made on behalf of an anonymous case uses the case's requester_marker (None once
    the case is purged); a named request the marker of its requester's Slack ID.
    """
    if request.on_behalf_of or request.kind == "anonymous":
        if request.id is None:
            return None
        case = anonymous_store.case_for_request(session, request_id=request.id)
        return case.requester_marker if case is not None else None
    if request.requester_id:
        return privacy(settings).marker(request.requester_id)
    return None


def _is_anonymous(request: AllyRequest) -> bool:
    return bool(getattr(request, "on_behalf_of", None)) or request.kind == "anonymous"


def award_allyship(
    session: Session,
    *,
    match_id: int,
    settings: Settings,
    now: datetime | None = None,
    rules: PointRules = RULES,
) -> Award:
    """Award a successful allyship to the ally's BU, within the self-dealing and pair rules."""
    now = now or utcnow()
    match = session.get(Match, match_id)
    if match is None:
        raise NotFound("That match no longer exists.")
    request = session.get(AllyRequest, match.request_id)
    assert request is not None
    ally = match.ally_user_id
    chooser = getattr(request, "chooser_id", None)
    if ally in (request.requester_id, chooser):
        return Award(False, "self-dealing: the ally made (or chose for) this request")
    source = f"match:{match_id}:ally"
    reason = "successful allyship" + (" (anonymous case)" if _is_anonymous(request) else "")
    unit = _unit_of(session, ally, role="ally", source=source)
    requester = _requester_key(session, request, settings)
    if requester is None:
        # A purged anonymous case has no marker left to compare: the pair rule cannot apply.
        logger.info("match %s: no requester key to compare; pair cooldown skipped", match_id)
    else:
        _lock_pair(session, ally=ally, requester=requester)
        if _recent_pair_award(
            session,
            match=match,
            requester=requester,
            since=now - settings.pair_cooldown,
            settings=settings,
        ):
            # Still a successful allyship (SPEC 2.4.4): a row of 0 counts it for the BU and
            # records why it earned nothing.
            _award(
                session,
                unit=unit,
                amount=0,
                kind=ALLYSHIP,
                reason=f"{reason}, no points: pair cooldown",
                source=source,
                now=now,
            )
            return Award(False, "pair cooldown: this ally and requester already earned points")
    return _award(
        session,
        unit=unit,
        amount=rules.successful_allyship,
        kind=ALLYSHIP,
        reason=reason,
        source=source,
        now=now,
    )


def _lock_pair(session: Session, *, ally: str, requester: str) -> None:
    """On PostgreSQL, hold the pair's lock until this unit of work ends.

    Under READ COMMITTED two "worked" answers on two matches of one pair could both find no
    recent award and both earn; holding the lock, the second waits for the first to commit and
    its check then sees the first's row. SQLite needs none: a unit of work takes the one write
    lock as it begins (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    pair = f"allybot:pair:{ally}:{requester}".encode()
    key = int.from_bytes(hashlib.blake2b(pair, digest_size=8).digest(), "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _unit_of(session: Session, user_id: str, *, role: str, source: str) -> int | str:
    """The person's BU id, or why there is none (logged without naming the person)."""
    unit = business_unit_of(session, user_id)
    if unit is None or unit.id is None:
        logger.info("%s: the %s has no business unit; no points", source, role)
        return f"the {role} has no business unit"
    return unit.id


def _award(
    session: Session,
    *,
    unit: int | str,
    amount: int,
    kind: str,
    reason: str,
    source: str,
    now: datetime | None,
) -> Award:
    """Add one ledger row for `source` to the unit (an id), once; a str says why not."""
    if isinstance(unit, str):
        return Award(False, unit)
    added = add_entry(
        session,
        business_unit_id=unit,
        amount=amount,
        kind=kind,
        reason=reason,
        source=source,
        now=now,
    )
    return Award(added, "" if added else "already counted", amount)


def _recent_pair_award(
    session: Session, *, match: Match, requester: str, since: datetime, settings: Settings
) -> bool:
    query = (
        select(Match, AllyRequest)
        .join(AllyRequest, col(AllyRequest.id) == col(Match.request_id))
        .where(
            col(Match.ally_user_id) == match.ally_user_id,
            col(Match.id) != match.id,
            col(Match.outcome) == WORKED,
        )
    )
    sources = [
        f"match:{other.id}:ally"
        for other, request in session.execute(query).all()
        if _requester_key(session, request, settings) == requester
    ]
    if not sources:
        return False
    # Rows of 0 (successes within a cooldown) do not restart it.
    counted = select(func.count()).where(
        col(PointsEntry.source).in_(sources),
        col(PointsEntry.amount) > 0,
        col(PointsEntry.created_at) >= since,
    )
    return bool(session.execute(counted).scalar())


def award_case(
    session: Session,
    *,
    case_id: int,
    volunteer_id: str,
    now: datetime | None = None,
    rules: PointRules = RULES,
) -> Award:
    """Award a volunteer's handled anonymous case (closed as helped) to their BU, once."""
    source = f"case:{case_id}:volunteer"
    return _award(
        session,
        unit=_unit_of(session, volunteer_id, role="volunteer", source=source),
        amount=rules.handled_case,
        kind=CASE,
        reason="handled anonymous case",
        source=source,
        now=now,
    )


def award_story(
    session: Session,
    *,
    story_id: int,
    ally_id: str,
    reporter_id: str,
    now: datetime | None = None,
    rules: PointRules = RULES,
) -> Award:
    """Award an accepted outside-the-programme story to the ally's BU (never for oneself)."""
    if ally_id == reporter_id:
        return Award(False, "self-dealing: a story about oneself")
    source = f"story:{story_id}:ally"
    return _award(
        session,
        unit=_unit_of(session, ally_id, role="ally", source=source),
        amount=rules.accepted_story,
        kind=STORY,
        reason="accepted allyship story",
        source=source,
        now=now,
    )


def award_event(
    session: Session,
    *,
    event_id: int,
    business_unit_id: int,
    now: datetime | None = None,
    rules: PointRules = RULES,
) -> Award:
    """Award an accepted allyship event to the BU that organised it, once."""
    return _award(
        session,
        unit=business_unit_id,
        amount=rules.accepted_event,
        kind=EVENT,
        reason="accepted allyship event",
        source=f"event:{event_id}:organiser",
        now=now,
    )


# admin adjustments

ADJUST_USAGE = (
    "`/ally-admin points adjust BU AMOUNT REASON`, "
    "e.g. `points adjust Engineering -5 double counted event`"
)
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class Adjustment:
    """A parsed adjustment command."""

    business_unit: str
    amount: int
    reason: str


def parse_adjustment(text: str, *, units: Iterable[str]) -> Adjustment:
    """Parse `adjust BU AMOUNT REASON`; InvalidInput saying what is wrong.

    BU is the longest of the known unit names (any case) that starts the text and is
    followed by a whole number, so names holding numbers ("Region 1", "2030 Vision") work.
    """
    words = text.split()
    if not words or words[0].lower() != "adjust":
        raise InvalidInput(f"Use {ADJUST_USAGE}.")
    rest, known = words[1:], list(units)
    matches = _starting_units(rest, known)
    if not matches:
        named = " ".join(_until_integer(rest))
        if not named:
            raise InvalidInput(f"Name the business unit first. Use {ADJUST_USAGE}.")
        raise InvalidInput(
            f"There is no business unit called “{named[:80]}”. "
            f"Known business units: {_listing(known)}."
        )
    followed = [(n, size) for n, size in matches if size < len(rest) and _INTEGER.match(rest[size])]
    if not followed:
        raise InvalidInput(
            "AMOUNT must be a whole number of points such as `-5` or `10`, "
            f"after “{matches[0][0]}”. Use {ADJUST_USAGE}."
        )
    name, size = followed[0]
    amount = int(rest[size])
    if amount == 0 or abs(amount) > MAX_ADJUSTMENT:
        raise InvalidInput(f"AMOUNT must be a non-zero whole number up to {MAX_ADJUSTMENT:,}.")
    reason = " ".join(rest[size + 1 :]).strip()
    if not reason:
        raise InvalidInput(f"Give a reason after the amount. Use {ADJUST_USAGE}.")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"Keep the reason under {MAX_REASON} characters.")
    return Adjustment(name, amount, reason)


def _starting_units(words: list[str], units: list[str]) -> list[tuple[str, int]]:
    """The known unit names the words start with (any case), longest first, with their sizes."""
    start = [word.casefold() for word in words]
    found = []
    for name in units:
        parts = [part.casefold() for part in name.split()]
        if parts and start[: len(parts)] == parts:
            found.append((name, len(parts)))
    return sorted(found, key=lambda item: -item[1])


def _until_integer(words: list[str]) -> list[str]:
    """The words before the first whole number (what was probably meant as the unit)."""
    for index, word in enumerate(words):
        if _INTEGER.match(word):
            return words[:index]
    return words


def _listing(units: list[str], limit: int = 20) -> str:
    """Known unit names for a message: sorted, the first `limit` of them."""
    names = sorted(units, key=str.casefold)
    if not names:
        return "none yet"
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def unit_names(session: Session) -> list[str]:
    """Every business unit's name."""
    return list(session.execute(select(col(BusinessUnit.name))).scalars())


def adjust(
    session: Session,
    *,
    adjustment: Adjustment,
    actor: str,
    request_key: str | None = None,
    now: datetime | None = None,
) -> BusinessUnit:
    """Append a signed adjustment by an admin; the same request_key never adds a second row."""
    unit = find_business_unit(session, adjustment.business_unit)
    if unit is None or unit.id is None:
        raise InvalidInput(
            f"There is no business unit called “{adjustment.business_unit}”. "
            f"Known business units: {_listing(unit_names(session))}."
        )
    key = uuid.uuid5(uuid.NAMESPACE_URL, request_key) if request_key else uuid.uuid4()
    add_entry(
        session,
        business_unit_id=unit.id,
        amount=adjustment.amount,
        kind=ADJUSTMENT,
        reason=adjustment.reason,
        source=f"adjust:{key}",
        actor=actor,
        now=now,
    )
    return unit


# standings


def parse_period(text: str, *, now: datetime, zone: ZoneInfo) -> Period:
    """`month`, `quarter`, `year` (the default) or `YYYY`, in the programme's time zone."""
    word = text.strip().lower() or "year"
    local = now.astimezone(zone)
    if word == "year":
        return year_period(local.year, zone)
    if word == "month":
        start = datetime(local.year, local.month, 1, tzinfo=zone)
        end = _add_months(start, 1)
        return Period(start.strftime("%B %Y"), start, end)
    if word == "quarter":
        first = 3 * ((local.month - 1) // 3) + 1
        start = datetime(local.year, first, 1, tzinfo=zone)
        return Period(f"Q{(first - 1) // 3 + 1} {local.year}", start, _add_months(start, 3))
    if re.fullmatch(r"\d{4}", word) and 2000 <= int(word) <= 2999:
        return year_period(int(word), zone)
    raise InvalidInput(
        f"“{text.strip()[:40]}” is not a period. Use `month`, `quarter`, `year` "
        "or a year such as `2026`."
    )


def year_period(year: int, zone: ZoneInfo) -> Period:
    """One calendar year in the programme's time zone."""
    return Period(
        str(year), datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)
    )


def _add_months(start: datetime, months: int) -> datetime:
    month = start.month - 1 + months
    return start.replace(year=start.year + month // 12, month=month % 12 + 1)


def standings(session: Session, *, period: Period) -> list[Standing]:
    """Every BU's points, successful allyships and volunteers' cases in the period, best first."""
    totals = (
        select(
            col(PointsEntry.business_unit_id),
            func.coalesce(func.sum(col(PointsEntry.amount)), 0),
            func.sum(case((col(PointsEntry.kind) == ALLYSHIP, 1), else_=0)),
            func.sum(case((col(PointsEntry.kind) == CASE, 1), else_=0)),
        )
        .where(
            col(PointsEntry.created_at) >= period.start,
            col(PointsEntry.created_at) < period.end,
        )
        .group_by(col(PointsEntry.business_unit_id))
    )
    by_unit = {row[0]: row[1:] for row in session.execute(totals).all()}
    units = session.execute(select(BusinessUnit)).scalars().all()
    lines = [
        Standing(
            unit.name,
            int(by_unit.get(unit.id, (0, 0, 0))[0] or 0),
            int(by_unit.get(unit.id, (0, 0, 0))[1] or 0),
            int(by_unit.get(unit.id, (0, 0, 0))[2] or 0),
        )
        for unit in units
    ]
    return sorted(lines, key=lambda s: (-s.points, s.business_unit.lower()))


# the leaderboard post


def programme_started(session: Session) -> datetime | None:
    """When the programme got its first business unit (before it there was nothing to rank)."""
    first = select(func.min(col(BusinessUnit.created_at)))
    value: datetime | None = session.execute(first).scalar()
    return value


def schedule_leaderboard_post(session: Session, *, fire_time: datetime, settings: Settings) -> str:
    """Schedule the post for one cron fire time; replicas firing together make one item."""
    local = fire_time.astimezone(settings.zone)
    key = f"leaderboard:{local.strftime('%Y-%m-%dT%H:%M')}"
    # The year the post is about: the one that the day before the post belongs to, so the
    # January 1st post shows the whole year just ended.
    year = (local - timedelta(days=1)).year
    jobs.schedule(
        session,
        kind=LEADERBOARD_POST,
        key=key,
        due_at=fire_time,
        payload={"year": year},
    )
    return key
