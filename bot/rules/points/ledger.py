"""The points ledger (SPEC 2.5): what a successful allyship, case, story or event earns a
business unit, once, within the self-dealing and pair rules.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlmodel import Session, col

from bot.config import Settings
from bot.privacy import privacy
from bot.rules.errors import NotFound
from storage import anonymous as anonymous_store
from storage import upsert
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


MAX_ADJUSTMENT = 100_000


MAX_REASON = 300


@dataclass(frozen=True)
class Award:
    """The result of an award: whether a ledger row was added, and why not if it was not."""

    awarded: bool
    reason: str = ""
    amount: int = 0


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
    statement = (
        upsert.insert(session, PointsEntry)
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
