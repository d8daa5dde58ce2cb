"""Survey runs over a real session: start once, one answer per marker, close forgets who."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import date

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlmodel import Session, select

from bot.config import DEFAULT_CONTENT_DIR
from bot.privacy import Privacy
from bot.rules.errors import Conflict, InvalidInput, NotFound
from bot.rules.surveys import runs
from messages.content import load_content
from storage.db import Database
from storage.models.schedule import DueItem
from storage.models.surveys import SurveyAnswer, SurveyMarker
from storage.surveys import checkpoint
from storage.types import utcnow

PRIVACY = Privacy(Fernet.generate_key().decode())
SURVEY = load_content(DEFAULT_CONTENT_DIR).survey("awareness")
assert SURVEY is not None


def _started(db: Database) -> runs.RunView:
    with db.session() as session:
        run = runs.start(session, survey=SURVEY, channel=None, now=utcnow())
        runs.schedule_sends(session, run_id=run.id, user_ids=["U1", "U2", "U1"], now=utcnow())
    return run


def _answer(db: Database, run: runs.RunView, user: str, **values: str) -> None:
    with db.session() as session:
        runs.record_answer(
            session,
            run_id=run.id,
            marker=runs.marker(PRIVACY, run_id=run.id, user_id=user),
            business_unit="Sales",
            values=values,
            today=date(2026, 3, 2),
        )


def test_a_survey_starts_once_and_schedules_one_send_per_person(db: Database) -> None:
    """A second start while it runs is a Conflict; a person listed twice gets one send."""
    run = _started(db)
    assert run.name == "awareness-1"
    with pytest.raises(Conflict), db.session() as session:
        runs.start(session, survey=SURVEY, channel=None, now=utcnow())
    with db.read() as session:
        sends = session.exec(select(DueItem).where(DueItem.kind == runs.SEND)).all()
        assert sorted(i.payload["user_id"] for i in sends) == ["U1", "U2"]


def test_one_answer_per_person_and_only_offered_values(db: Database) -> None:
    """A second answer by the same marker is refused; a value not offered is invalid input."""
    run = _started(db)
    _answer(db, run, "U1", know_what_to_ask="4")
    with pytest.raises(Conflict, match="already answered"):
        _answer(db, run, "U1", know_what_to_ask="5")
    with pytest.raises(InvalidInput) as bad:
        _answer(db, run, "U2", know_what_to_ask="9")
    assert bad.value.block_id == "know_what_to_ask"
    with db.read() as session:
        [answer] = session.exec(select(SurveyAnswer)).all()
        assert answer.answers == {"know_what_to_ask": "4"}
        assert answer.answered_on == date(2026, 3, 2)


def test_close_deletes_markers_and_sends_and_opens_the_results(db: Database) -> None:
    """After close: no marker, no scheduled send; answers stay; results are allowed."""
    run = _started(db)
    _answer(db, run, "U1", would_ask="4")
    with db.read() as session, pytest.raises(Conflict, match="still open"):
        runs.run_results(session, run=runs.find(session, name="awareness"), min_group=5)
    with db.session() as session:
        closed = runs.close(session, name="awareness", now=utcnow())
    assert closed.status == runs.CLOSED
    with db.read() as session:
        assert session.exec(select(SurveyMarker)).all() == []
        assert session.exec(select(DueItem).where(DueItem.kind == runs.SEND)).all() == []
        result = runs.run_results(session, run=runs.find(session, name="awareness-1"), min_group=5)
    assert result.respondents.text == "fewer than 5"
    with pytest.raises(Conflict), db.session() as session:
        _answer(db, run, "U2", would_ask="4")
    with pytest.raises(Conflict, match="already closed"), db.session() as session:
        runs.close(session, name="awareness-1", now=utcnow())
    with pytest.raises(NotFound), db.read() as session:
        runs.find(session, name="nosuch")


def _stored_order(db: Database) -> list[str]:
    """The answers' texts in the order the database keeps them (no ORDER BY; ctid on PG)."""
    order = "ORDER BY ctid" if db.is_postgres else ""
    with db.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT answers FROM survey_answer {order}")).all()
    return [(json.loads(raw) if isinstance(raw, str) else raw)["anything_else"] for (raw,) in rows]


def test_after_close_the_stored_order_of_answers_does_not_follow_who_answered_when(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """30 answers in a known order: after close no marker remains and the answers are kept in
    an order that is not the order they came in (markers could otherwise be paired with them)."""
    with db.session() as session:
        run = runs.start(session, survey=SURVEY, channel=None, now=utcnow())
    sent = [f"answer {n:02d}" for n in range(30)]
    for n, words in enumerate(sent):
        _answer(db, run, f"U{n:03d}", anything_else=words)
    with db.session() as session:
        runs.close(session, name=run.name, now=utcnow())
    checkpoint(db)  # as the close command does: WAL truncated on SQLite, VACUUM on PostgreSQL
    assert "VACUUM" not in caplog.text
    with db.read() as session:
        assert session.exec(select(SurveyMarker)).all() == []
    if not db.is_postgres:
        with db.engine.connect() as conn:
            tables = dict(conn.execute(text("SELECT name, sql FROM sqlite_master")).all())
        assert "WITHOUT ROWID" in tables["survey_answer"]
        assert "WITHOUT ROWID" in tables["survey_marker"]
    stored = _stored_order(db)
    assert sorted(stored) == sent
    assert stored != sent


def test_an_answer_racing_a_close_waits_for_it_and_is_refused(db: Database) -> None:
    """Two sessions: a close holds the run (not yet committed) while an answer comes. The answer
    waits for the close (PostgreSQL: the run's row lock; SQLite: the write lock), then reads
    the run closed and is refused: no answer and no marker are stored after the close."""
    run = _started(db)
    closing = Session(db.engine, expire_on_commit=False)
    try:
        runs.close(closing, name=run.name, now=utcnow())
        with ThreadPoolExecutor(max_workers=1) as pool:
            answering = pool.submit(_answer, db, run, "U1", would_ask="4")
            with pytest.raises(FutureTimeout):
                answering.result(timeout=1)  # waits for the close
            closing.commit()
            with pytest.raises(Conflict, match="has closed"):
                answering.result(timeout=30)
    finally:
        closing.close()
    with db.read() as session:
        assert session.exec(select(SurveyMarker)).all() == []
        assert session.exec(select(SurveyAnswer)).all() == []


def test_a_close_racing_an_answer_waits_for_it_and_deletes_its_marker(db: Database) -> None:
    """Two sessions: an answer holds the run (not yet committed) while a close comes. The close
    waits, then deletes the answer's marker and keeps the answer; a second close waiting
    behind it is told the survey is already closed."""
    run = _started(db)
    answering = Session(db.engine, expire_on_commit=False)
    try:
        runs.record_answer(
            answering,
            run_id=run.id,
            marker=runs.marker(PRIVACY, run_id=run.id, user_id="U1"),
            business_unit=None,
            values={"would_ask": "4"},
            today=date(2026, 3, 2),
        )

        def close() -> runs.RunView:
            with db.session() as session:
                return runs.close(session, name=run.name, now=utcnow())

        with ThreadPoolExecutor(max_workers=2) as pool:
            first = pool.submit(close)
            second = pool.submit(close)
            with pytest.raises(FutureTimeout):
                first.result(timeout=1)  # waits for the answer
            answering.commit()
            outcomes = []
            for future in (first, second):
                try:
                    outcomes.append(future.result(timeout=30).status)
                except Conflict as refused:
                    outcomes.append(str(refused))
    finally:
        answering.close()
    assert sorted(outcomes, key=len) == [runs.CLOSED, f"The survey {run.name} is already closed."]
    with db.read() as session:
        assert session.exec(select(SurveyMarker)).all() == []
        [answer] = session.exec(select(SurveyAnswer)).all()
        assert answer.answers == {"would_ask": "4"}
