"""Programme data for tests and the demo, made through the rules as the app would make it.

Each factory opens its own unit of work on the database it is given and returns plain ids,
so a test reads as the story it sets up (a unit, an ally, a request, a match, an answer).
The rows come from the rules and storage functions the app itself calls; where a test needs
a state the rules cannot reach (a match made in the past, an ally matched on their own
request, a case with a handle known in advance), the factory says so and does only that by
hand. Production code never imports this module (import-linter enforces it).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.jobs import queue as jobs
from bot.privacy import Identity, Privacy
from bot.rules import allies
from bot.rules import requests as request_rules
from bot.rules.anonymous import cases, drafts
from bot.rules.feedback import answers, comments, prompts
from bot.rules.feedback.answers import AnswerResult
from bot.rules.points import ledger
from storage import requests as request_store
from storage.db import Database
from storage.models.feedback import Feedback
from storage.models.requests import Match
from storage.models.schedule import DueItem

REQUESTER = "U0ASKER"
ALLY = "U0ALLY1"
VOLUNTEER = "U0VOL1"
UNIT = "Engineering"
NOBODY = Identity(names=(), emails=())


# Business units and people.


def business_unit(db: Database, name: str) -> int:
    """The id of a business unit, added (as ALLYBOT_BUSINESS_UNITS would add it) if missing."""
    with db.session() as session:
        return _unit_id(session, name)


def _unit_id(session: Session, name: str) -> int:
    allies.seed_business_units(session, [name])
    unit = allies.business_unit_named(session, name)
    assert unit is not None and unit.id is not None
    return unit.id


def member(db: Database, user_id: str, unit: str) -> None:
    """Put a person in a business unit (as an admin's import does), the unit added if missing."""
    with db.session() as session:
        _unit_id(session, unit)
        allies.apply_import(session, [(user_id, unit)])


def ally(db: Database, user_id: str, unit: str = UNIT, *, available: bool = True) -> None:
    """Sign a person up as an ally of a business unit (added if missing), as `/ally join` does."""
    with db.session() as session:
        _join(session, user_id, unit, available=available)


def ensure_ally(db: Database, user_id: str, unit: str = UNIT) -> None:
    """An ally: signed up in `unit` unless they are one already (then left as they are)."""
    with db.session() as session:
        _ensure_ally(session, user_id, unit)


def _ensure_ally(session: Session, user_id: str, unit: str) -> None:
    if allies.find_ally(session, user_id=user_id) is None:
        _join(session, user_id, unit)


def _join(session: Session, user_id: str, unit: str, *, available: bool = True) -> None:
    allies.join(
        session, user_id=user_id, business_unit=_unit_name(session, unit), available=available
    )


def _unit_name(session: Session, unit: str) -> str:
    _unit_id(session, unit)
    found = allies.business_unit_named(session, unit)
    assert found is not None
    return found.name


# Requests, offers and matches.


def request(
    db: Database,
    *,
    requester: str | None = REQUESTER,
    kind: str = request_rules.NAMED,
    category: str = "career_advice",
    details: str = "help",
    timing: str | None = None,
) -> int:
    """An open request, as the request modal's submission records it (no card is posted).

    A named request's requester chooses among the offers; a request of kind anonymous made
    without a case (requester None) has nobody to choose.
    """
    with db.session() as session:
        made = request_rules.create_request(
            session,
            kind=kind,
            category=category,
            details=details,
            timing=timing,
            requester_id=requester,
            chooser_id=requester,
            on_behalf_of=None,
        )
        assert made.id is not None
        return made.id


def offer(
    db: Database,
    request_id: int,
    ally: str = ALLY,
    *,
    source: str = "button",
    privacy: Privacy | None = None,
) -> int:
    """An ally's offer on an open request, through the rules (the ally must be one already).

    `privacy` is needed for an ask made on behalf of a case, as for the app.
    """
    with db.session() as session:
        request_rules.record_offer(
            session, request_id=request_id, ally_user_id=ally, source=source, privacy=privacy
        )
        return _offer_id(session, request_id, ally)


def _offer_id(session: Session, request_id: int, ally_id: str) -> int:
    offers = request_store.active_offers(session, request_id=request_id)
    [made] = [o for o in offers if o.ally_user_id == ally_id]
    assert made.id is not None
    return made.id


def choose(
    db: Database,
    settings: Settings,
    offer_id: int,
    *,
    matched_at: datetime | None = None,
    feedback_due: bool = True,
) -> int:
    """The chooser picks an offer (requests.choose_offer): the match, its feedback prompt due.

    The match's introductions are cancelled: they are Slack work, and a test of them makes
    the match through Slack. See `backdate_match` for `matched_at` and `feedback_due`.
    """
    with db.session() as session:
        found = request_store.get_offer(session, offer_id=offer_id)
        assert found is not None
        asked = request_store.get_request(session, request_id=found.request_id)
        assert asked is not None
        # A request nobody chooses for (kind anonymous, no case: a state the rules do not
        # make) is matched as if its missing chooser chose.
        chooser = cast(str, asked.chooser_id)
        made = request_rules.choose_offer(
            session, offer_id=offer_id, chooser_id=chooser, settings=settings
        )
        assert made.id is not None
        jobs.cancel(session, key=request_rules.followups_key(made.id))
        if matched_at is not None or not feedback_due:
            backdate_match(
                session,
                match_id=made.id,
                matched_at=matched_at or made.created_at,
                settings=settings,
                feedback_due=feedback_due,
            )
        return made.id


def match(
    db: Database,
    settings: Settings,
    *,
    matched_at: datetime | None = None,
    requester: str | None = REQUESTER,
    ally: str = ALLY,
    ally_unit: str = UNIT,
    kind: str = request_rules.NAMED,
    category: str = "career_advice",
    details: str = "help",
    feedback_due: bool = True,
) -> int:
    """A request of `requester` matched with `ally`: the match id. Someone who is not an ally
    yet signs up first, in `ally_unit`; an ally stays as they are (unit and availability).

    The offer is recorded by storage without the rules' check of who may offer, so a test
    can reach a state the rules refuse (an ally matched on their own request).
    """
    request_id = request(db, requester=requester, kind=kind, category=category, details=details)
    return match_ask(
        db,
        settings,
        request_id,
        ally=ally,
        ally_unit=ally_unit,
        matched_at=matched_at,
        feedback_due=feedback_due,
    )


def match_ask(
    db: Database,
    settings: Settings,
    request_id: int,
    *,
    ally: str = ALLY,
    ally_unit: str = UNIT,
    matched_at: datetime | None = None,
    feedback_due: bool = True,
) -> int:
    """An open request (a case's ask, say) matched with `ally`: the match id (see `match`)."""
    with db.session() as session:
        _ensure_ally(session, ally, ally_unit)
        request_store.insert_offer(
            session, request_id=request_id, ally_user_id=ally, source="button"
        )
        offer_id = _offer_id(session, request_id, ally)
    return choose(db, settings, offer_id, matched_at=matched_at, feedback_due=feedback_due)


def backdate_match(
    session: Session,
    *,
    match_id: int,
    matched_at: datetime,
    settings: Settings,
    feedback_due: bool = True,
) -> None:
    """Move a match (and its feedback prompt) to `matched_at`; drop the prompt if not due.

    A state the rules cannot reach: they date a match when it is made. Tests of the feedback
    clock and the leaderboard's periods need matches made in the past (or future), so the
    match's row and its pending prompt are updated here by hand.
    """
    session.execute(update(Match).where(col(Match.id) == match_id).values(created_at=matched_at))
    key = f"feedback:prompt:{match_id}"
    if not feedback_due:
        jobs.cancel(session, key=key)
        return
    session.execute(
        update(DueItem)
        .where(col(DueItem.key) == key, col(DueItem.status) == jobs.PENDING)
        .values(due_at=matched_at + settings.feedback_after)
    )


# Feedback and points.


def answer(
    db: Database,
    settings: Settings,
    match_id: int,
    *,
    role: str = prompts.REQUESTER,
    said: str = answers.WORKED,
    user_id: str | None = None,
    comment: str | None = None,
    identity: Identity | None = None,
    now: datetime | None = None,
) -> AnswerResult:
    """One participant's feedback on a match, as their click (and comment) records it.

    The requester's answer decides the outcome and, when it worked, the ally's points.
    `user_id` is who clicks: by default the person the row was made for (an anonymous
    requester, who has none, must be given).
    """
    with db.session() as session:
        prompts.ensure_rows(session, match_id=match_id)
        row = session.exec(
            select(Feedback).where(Feedback.match_id == match_id, Feedback.role == role)
        ).one()
        token, clicker = row.token, user_id or row.user_id
        assert clicker is not None, "an anonymous requester's answer needs user_id"
        result = answers.record_answer(
            session, token=token, user_id=clicker, answer=said, settings=settings, now=now
        )
    if comment is not None:
        with db.session() as session:
            comments.record_comment(
                session, token=token, user_id=clicker, comment=comment, identity=identity
            )
    return result


def feedback_token(db: Database, match_id: int, role: str = prompts.REQUESTER) -> str:
    """The token on a participant's feedback buttons (their row made if missing)."""
    with db.session() as session:
        prompts.ensure_rows(session, match_id=match_id)
        return session.exec(
            select(Feedback.token).where(Feedback.match_id == match_id, Feedback.role == role)
        ).one()


def points(
    db: Database,
    unit: str,
    amount: int,
    *,
    source: str,
    kind: str = ledger.ADJUSTMENT,
    reason: str = "test",
    now: datetime | None = None,
) -> int:
    """A ledger entry for a business unit (added if missing): the unit's id."""
    with db.session() as session:
        unit_id = _unit_id(session, unit)
        ledger.add_entry(
            session,
            business_unit_id=unit_id,
            amount=amount,
            kind=kind,
            reason=reason,
            source=source,
            now=now,
        )
        return unit_id


# Anonymous cases.


def anonymous_case(
    db: Database,
    privacy: Privacy,
    *,
    requester: str = REQUESTER,
    volunteer: str | None = None,
    category: str = "career_advice",
    details: str = "my manager talks over me",
    timing: str | None = None,
    identity: Identity = NOBODY,
    card: tuple[str, str] | None = None,
    handle: str | None = None,
) -> int:
    """A case of `requester`, opened from a confirmed draft and, with `volunteer`, taken.

    `card` (channel, ts) records its card as posted there; without it the card's post stays
    due, as the rules leave it. `handle` replaces the random one the rules draw (a state the
    rules cannot reach, for tests that look for the handle in text).
    """
    draft = drafts.Draft(category=category, details=details, timing=timing)
    with db.session() as session:
        case = cases.open_case(session, privacy, user_id=requester, draft=draft, identity=identity)
        assert case.id is not None
        case_id = case.id
        if handle is not None:
            case.handle = handle
            session.add(case)
        if card is not None:
            cases.record_card(session, case_id=case_id, channel=card[0], ts=card[1])
    if volunteer is not None:
        with db.session() as session:
            cases.take_case(session, case_id=case_id, volunteer_id=volunteer, privacy=privacy)
    return case_id


def case_ask(db: Database, case_id: int) -> int:
    """The ask its holder posts for a taken case, linked to it: the ask's request id.

    Made by the rule the ask button calls (its card is not posted; see handlers' post_card).
    """
    with db.session() as session:
        case = cases.get_case(session, case_id=case_id)
        assert case.volunteer_id is not None, "a case's ask is made by its holder"
        return cases.new_ask(session, case, chooser_id=case.volunteer_id)
