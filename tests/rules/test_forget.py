"""The forget-me rules on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlmodel import select

from bot.devkit import factories
from bot.devkit.factories import ALLY, REQUESTER
from bot.devkit.sandbox import DEFAULT_WORKSPACE, sandbox_settings
from bot.jobs import queue as jobs
from bot.privacy import Privacy
from bot.rules import forget
from bot.rules.anonymous import cases, drafts, relays
from bot.rules.errors import Conflict
from bot.rules.feedback import answers, comments, prompts
from storage.db import Database
from storage.models.anonymous import AnonymousCase, CasePause
from storage.models.feedback import Feedback
from storage.models.programme import FORGOTTEN
from storage.models.requests import Match
from storage.models.schedule import DueItem
from storage.models.surveys import MisuseReport
from storage.types import utcnow

ASKER = "U0ASKER"
VERA = "U0VOL1"
PRIVACY = Privacy(Fernet.generate_key().decode())
DRAFT = drafts.Draft(category="career_advice", details="my manager talks over me", timing=None)


def _misused_case(db: Database) -> int:
    """A case of ASKER, taken by Vera and closed as misuse with a pause."""
    case_id = factories.anonymous_case(db, PRIVACY, requester=ASKER, volunteer=VERA)
    with db.session() as session:
        cases.close_case(
            session,
            case_id=case_id,
            volunteer_id=VERA,
            outcome=cases.MISUSE,
            pause=True,
            retention_days=180,
        )
    return case_id


def test_a_paused_requester_who_forgets_stays_paused_until_the_retention_purge(
    db: Database,
) -> None:
    """Forget-me deletes the case's text and link now but cannot be used to lift a pause."""
    case_id = _misused_case(db)
    with db.session() as session:
        done = forget.forget(session, PRIVACY, user_id=ASKER)
    assert done.own_cases == 1 and done.case_cards == [case_id]
    with db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None and case.details is None and case.requester_sealed is None
        assert cases.refusal_for(session, PRIVACY, user_id=ASKER) is not None
    # The retention purge scheduled at the close still runs later, and lifts the pause then.
    with db.session() as session:
        item = jobs.find(session, key=cases.purge_key(case_id))
        assert item is not None and item.status == jobs.PENDING
        assert cases.purge_case(session, case_id=case_id)
    with db.session() as session:
        assert session.exec(select(CasePause)).all() == []
        assert cases.refusal_for(session, PRIVACY, user_id=ASKER) is None


def test_forgetting_twice_finds_nothing_the_second_time(db: Database) -> None:
    """Idempotent: a second run changes nothing and has nothing to tell Slack."""
    _misused_case(db)
    with db.session() as session:
        assert forget.forget(session, PRIVACY, user_id=ASKER).own_cases == 1
    with db.session() as session:
        again = forget.forget(session, PRIVACY, user_id=ASKER)
    assert not again.payload().any() and not again.case_payload().any()
    assert again.own_cases == 0 and again.own_requests == 0


def test_no_comment_about_a_forgotten_ally_is_taken_afterwards(db: Database) -> None:
    """The requester's old "Add a comment" cannot store words about someone forgotten."""
    settings = sandbox_settings(db.url, DEFAULT_WORKSPACE)
    match_id = factories.match(db, settings, matched_at=utcnow())
    with db.session() as session:
        prompts.ensure_rows(session, match_id=match_id)
    with db.session() as session:
        token = session.exec(
            select(Feedback.token).where(
                Feedback.match_id == match_id, Feedback.role == "requester"
            )
        ).one()
        answers.record_answer(
            session, token=token, user_id=REQUESTER, answer="worked", settings=settings
        )
    with db.session() as session:
        forget.forget(session, PRIVACY, user_id=ALLY)
    with db.session() as session, pytest.raises(Conflict, match="deleted"):
        comments.record_comment(session, token=token, user_id=REQUESTER, comment="about them")


def _case_with_matched_ask(db: Database) -> tuple[int, int]:
    """ASKER's case, taken by Vera, whose ask was matched with ALLY; (case id, match id)."""
    settings = sandbox_settings(db.url, DEFAULT_WORKSPACE)
    case_id = factories.anonymous_case(
        db, PRIVACY, requester=ASKER, volunteer=VERA, card=("G0VOLUNTEERS", "1.1")
    )
    match_id = factories.match_ask(db, settings, factories.case_ask(db, case_id))
    with db.session() as session:
        prompts.ensure_rows(session, match_id=match_id)
    return case_id, match_id


def test_in_the_hours_before_the_case_side_a_comment_is_taken_then_purged(db: Database) -> None:
    """No refusal gives the forgetting away early; the case side deletes what came meanwhile."""
    settings = sandbox_settings(db.url, DEFAULT_WORKSPACE)
    case_id, match_id = _case_with_matched_ask(db)
    with db.session() as session:
        token = session.exec(
            select(Feedback.token).where(Feedback.match_id == match_id, Feedback.role == "ally")
        ).one()
        answers.record_answer(
            session, token=token, user_id=ALLY, answer="worked", settings=settings
        )
    with db.session() as session:
        done = forget.forget(session, PRIVACY, user_id=ASKER)
        forget.schedule_followups(session, done, key="forget:view")
    assert done.case_closing == [case_id]
    with db.session() as session:
        comments.record_comment(session, token=token, user_id=ALLY, comment="went well")
    with db.session() as session:
        [item] = session.exec(select(DueItem).where(DueItem.kind == forget.CASE_FOLLOWUPS)).all()
        payload = forget.close_cases_later(session, key=item.key, case_ids=[case_id])
    assert payload.volunteers_told == [(VERA, _handle(db, case_id))]
    with db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None and case.outcome == cases.WITHDRAWN and case.purged_at
        assert session.exec(select(Feedback.comment).where(Feedback.token == token)).one() is None
    with db.session() as session, pytest.raises(Conflict, match="deleted"):
        comments.record_comment(session, token=token, user_id=ALLY, comment="again")
    # A retry of the item changes nothing and tells nobody twice.
    with db.session() as session:
        again = forget.close_cases_later(session, key=item.key, case_ids=[case_id])
    assert again == payload


def _handle(db: Database, case_id: int) -> str:
    """The case's handle."""
    with db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None
        return case.handle


def _taken_case_with_open_ask(db: Database) -> tuple[int, int]:
    """ASKER's case, taken by Vera, with an open ask ALLY offered on; (case id, ask id)."""
    case_id = factories.anonymous_case(
        db, PRIVACY, requester=ASKER, volunteer=VERA, card=("G0VOLUNTEERS", "1.1")
    )
    ask_id = factories.case_ask(db, case_id)
    factories.ally(db, ALLY)
    factories.offer(db, ask_id, ALLY, privacy=PRIVACY)
    return case_id, ask_id


def test_a_forgotten_volunteers_case_is_released_as_when_they_leave_the_channel(
    db: Database,
) -> None:
    """Forget-me releases a held case by the same rule as leaving the volunteers channel: its
    open ask is withdrawn, unlinked and loses its text; the ally who offered is told."""
    from storage.models.requests import AllyRequest

    case_id, ask_id = _taken_case_with_open_ask(db)
    with db.session() as session:
        done = forget.forget(session, PRIVACY, user_id=VERA)
    assert done.released == [case_id] and done.allies_told == [ALLY]
    with db.session() as session:
        case = session.get(AnonymousCase, case_id)
        assert case is not None and case.status == cases.OPEN and case.volunteer_id is None
        assert case.ask_request_id is None and case.taken_at is None
        ask = session.get(AllyRequest, ask_id)
        assert ask is not None and ask.status == "withdrawn"
        assert ask.details is None and ask.submission_key is None


def test_a_forgotten_askers_replies_not_yet_copied_go_with_their_words(db: Database) -> None:
    """A case kept open for the case side keeps no sealed reply: uncopied ones go, and a
    copied one keeps only where its copy is."""
    from storage.models.anonymous import CaseRelay

    case_id, _ask_id = _taken_case_with_open_ask(db)
    with db.session() as session:
        copied = relays.record_reply(
            session, PRIVACY, case_id=case_id, ts="1.1", reply=relays.Reply("one")
        )
        relays.record_reply(session, PRIVACY, case_id=case_id, ts="2.2", reply=relays.Reply("two"))
        assert copied is not None
        relays.record_copy(
            session, PRIVACY, relay_id=copied, channel="D0VERA", ts="3.3", holder=VERA, version=0
        )
        relays.change_reply(session, PRIVACY, case_id=case_id, ts="1.1", reply=relays.Reply("uno"))
    with db.session() as session:
        done = forget.forget(session, PRIVACY, user_id=ASKER)
    assert done.case_closing == [case_id]
    with db.session() as session:
        [row] = session.exec(select(CaseRelay)).all()
        assert row.id == copied and row.pending_sealed is None and row.copy_ts == "3.3"


def test_forget_me_clears_the_volunteer_who_decided_a_misuse_report(db: Database) -> None:
    """A volunteer's name on a misuse review they decided goes with their forget-me."""
    match_id = factories.match(db, sandbox_settings(db.url, DEFAULT_WORKSPACE), matched_at=utcnow())
    with db.session() as session:
        request_id = session.get(Match, match_id).request_id  # type: ignore[union-attr]
        session.add(
            MisuseReport(request_id=request_id, reports=2, status="dismissed", decided_by=VERA)
        )
    with db.session() as session:
        forget.forget(session, PRIVACY, user_id=VERA)
    with db.read() as session:
        [report] = session.exec(select(MisuseReport)).all()
        assert report.decided_by == FORGOTTEN
        assert report.reports == 2
