"""Feedback rules: scheduling, one answer per person, the requester decides, closes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.devkit import factories
from bot.devkit.factories import ALLY, REQUESTER
from bot.devkit.sandbox import DEFAULT_WORKSPACE, sandbox_settings
from bot.jobs import queue as jobs
from bot.rules.errors import Conflict, InvalidInput, NotAllowed
from bot.rules.feedback import answers, comments, prompts
from storage.db import Database
from storage.models.feedback import Feedback
from storage.models.points import PointsEntry
from storage.models.requests import AllyRequest, Match

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(db: Database) -> Settings:
    return sandbox_settings(db.url, DEFAULT_WORKSPACE, ALLYBOT_FEEDBACK_CLOSE_AFTER="10d")


def _tokens(db: Database, match_id: int) -> dict[str, str]:
    with db.session() as s:
        prompts.ensure_rows(s, match_id=match_id)
    with db.session() as s:
        rows = s.execute(select(Feedback).where(Feedback.match_id == match_id)).scalars()
        return {r.role: r.token for r in rows}


def _match(db: Database, match_id: int) -> Match:
    with db.session() as s:
        match = s.get(Match, match_id)
        assert match is not None
        return match


def test_the_prompt_is_due_feedback_after_the_match(db: Database, settings: Settings) -> None:
    """schedule_feedback makes one prompt due at matched_at + FEEDBACK_AFTER."""
    match_id = factories.match(db, settings, matched_at=NOW)
    with db.session() as s:
        prompts.schedule_feedback(s, match_id=match_id, matched_at=NOW, settings=settings)
        item = jobs.find(s, key=f"feedback:prompt:{match_id}")
    assert item is not None and item.kind == prompts.PROMPT
    assert item.due_at == NOW + settings.feedback_after


def test_the_reminder_is_halfway_and_the_close_counts_from_the_prompt(
    db: Database, settings: Settings
) -> None:
    """Follow-ups: reminder at prompt + close/2, close at prompt + close."""
    prompted = NOW + timedelta(days=9)
    with db.session() as s:
        prompts.schedule_followups(s, match_id=5, prompted_at=prompted, settings=settings)
        reminder = jobs.find(s, key="feedback:remind:5")
        close = jobs.find(s, key="feedback:close:5")
    assert reminder is not None and reminder.due_at == prompted + timedelta(days=5)
    assert close is not None and close.due_at == prompted + timedelta(days=10)


def test_rows_are_made_once_per_role(db: Database, settings: Settings) -> None:
    """Requester and ally each get one row with a random token, whatever the retries."""
    match_id = factories.match(db, settings, matched_at=NOW)
    first = _tokens(db, match_id)
    assert _tokens(db, match_id) == first
    assert set(first) == {"requester", "ally"}
    assert REQUESTER not in first.values() and len(first["ally"]) >= 16


def test_one_answer_per_person_and_only_theirs(db: Database, settings: Settings) -> None:
    """Others are refused; a second answer is not recorded."""
    match_id = factories.match(db, settings, matched_at=NOW)
    tokens = _tokens(db, match_id)
    with db.session() as s, pytest.raises(NotAllowed):
        answers.record_answer(
            s, token=tokens["requester"], user_id=ALLY, answer="worked", settings=settings
        )
    with db.session() as s:
        first = answers.record_answer(
            s, token=tokens["requester"], user_id=REQUESTER, answer="not_worked", settings=settings
        )
    with db.session() as s:
        second = answers.record_answer(
            s, token=tokens["requester"], user_id=REQUESTER, answer="worked", settings=settings
        )
    assert first.recorded and first.outcome_decided
    assert not second.recorded and second.answer == "not_worked"
    assert _match(db, match_id).outcome == "not_worked"
    with db.session() as s:
        assert list(s.execute(select(PointsEntry)).scalars()) == []


def test_worked_from_the_requester_awards_points(db: Database, settings: Settings) -> None:
    """The requester's "worked" closes the match as worked and awards the ally's BU."""
    match_id = factories.match(db, settings, matched_at=NOW)
    tokens = _tokens(db, match_id)
    with db.session() as s:
        result = answers.record_answer(
            s,
            token=tokens["requester"],
            user_id=REQUESTER,
            answer="worked",
            settings=settings,
            now=NOW,
        )
    assert result.points_awarded
    assert _match(db, match_id).outcome == "worked"


def test_no_answer_closes_as_no_feedback_and_late_clicks_are_refused(
    db: Database, settings: Settings
) -> None:
    """An undecided match closes as no feedback; an answered one is left alone."""
    match_id = factories.match(db, settings, matched_at=NOW)
    tokens = _tokens(db, match_id)
    with db.session() as s:
        assert prompts.close_without_feedback(s, match_id=match_id, now=NOW)
        assert not prompts.close_without_feedback(s, match_id=match_id, now=NOW)
    with db.session() as s, pytest.raises(Conflict):
        answers.record_answer(
            s, token=tokens["ally"], user_id=ALLY, answer="worked", settings=settings
        )
    assert _match(db, match_id).outcome == "no_feedback"


def test_comments_follow_an_answer_and_belong_to_its_owner(
    db: Database, settings: Settings
) -> None:
    """A comment needs an answer first, text, and the right person."""
    match_id = factories.match(db, settings, matched_at=NOW)
    tokens = _tokens(db, match_id)
    with db.session() as s, pytest.raises(Conflict):
        comments.record_comment(s, token=tokens["ally"], user_id=ALLY, comment="hi")
    with db.session() as s:
        answers.record_answer(
            s, token=tokens["ally"], user_id=ALLY, answer="worked", settings=settings
        )
    with db.session() as s, pytest.raises(InvalidInput):
        comments.record_comment(s, token=tokens["ally"], user_id=ALLY, comment="  ")
    with db.session() as s, pytest.raises(NotAllowed):
        comments.record_comment(s, token=tokens["ally"], user_id=REQUESTER, comment="hi")
    with db.session() as s:
        comments.record_comment(s, token=tokens["ally"], user_id=ALLY, comment="good")
    with db.session() as s:
        row = s.execute(select(Feedback).where(Feedback.token == tokens["ally"])).scalar_one()
    assert row.comment == "good"


def test_a_second_comment_is_refused_not_dropped(db: Database, settings: Settings) -> None:
    """An old "Add a comment" button (the relay's prompt is never updated) says it is done."""
    match_id = factories.match(db, settings, matched_at=NOW)
    tokens = _tokens(db, match_id)
    with db.session() as s:
        answers.record_answer(
            s, token=tokens["ally"], user_id=ALLY, answer="worked", settings=settings
        )
        comments.record_comment(s, token=tokens["ally"], user_id=ALLY, comment="good")
    with db.session() as s, pytest.raises(Conflict, match="already"):
        comments.record_comment(s, token=tokens["ally"], user_id=ALLY, comment="again")
    with db.session() as s:
        row = s.execute(select(Feedback).where(Feedback.token == tokens["ally"])).scalar_one()
    assert row.comment == "good"


def test_no_comment_is_taken_once_the_requests_text_was_deleted(
    db: Database, settings: Settings
) -> None:
    """After the retention purge or forget-me, an old "Add a comment" stores no new text."""
    match_id = factories.match(db, settings, matched_at=NOW)
    tokens = _tokens(db, match_id)
    request_id = _match(db, match_id).request_id
    with db.session() as s:
        answers.record_answer(
            s, token=tokens["ally"], user_id=ALLY, answer="worked", settings=settings
        )
        request = s.get(AllyRequest, request_id)
        assert request is not None
        request.details = None  # what the purge and forget-me leave
        s.add(request)
    with db.session() as s, pytest.raises(Conflict, match="deleted"):
        comments.record_comment(s, token=tokens["ally"], user_id=ALLY, comment="late words")
    with db.session() as s:
        row = s.execute(select(Feedback).where(Feedback.token == tokens["ally"])).scalar_one()
    assert row.comment is None


def test_the_anonymous_requesters_buttons_refuse_the_other_participants(
    db: Database, settings: Settings
) -> None:
    """No ID is stored for an anonymous requester; the ally cannot use their token."""
    match_id = factories.match(db, settings, matched_at=NOW, requester=None, kind="anonymous")
    tokens = _tokens(db, match_id)
    with db.session() as s:
        row = s.execute(select(Feedback).where(Feedback.token == tokens["requester"])).scalar_one()
    assert row.user_id is None
    with db.session() as s, pytest.raises(NotAllowed):
        answers.record_answer(
            s, token=tokens["requester"], user_id=ALLY, answer="worked", settings=settings
        )
    with db.session() as s:
        assert answers.record_answer(
            s, token=tokens["requester"], user_id="U0SOMEONE", answer="worked", settings=settings
        ).outcome_decided
