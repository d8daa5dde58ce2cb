"""Running an awareness survey: start, one answer per person, one reminder, close (SPEC 3).

The rules keep one promise: no stored row links a person to an answer once the survey is
closed. An answer is stored without the respondent's ID, with the day it came (never the
time); what stops a second answer is a keyed marker of (survey, person), which is deleted at
close, together with every scheduled send of the survey (whose payloads name recipients).
Neither table has a sequential id (SQLite tables WITHOUT ROWID, random keys), and the close
rewrites the run's answers in a random order with fresh ids, so that no stored order pairs
answers with the markers. On SQLite the close also overwrites the freed pages and empties the
write-ahead log, so not even the database file keeps the deleted markers; on PostgreSQL it
VACUUMs both tables after the commit (storage.surveys.checkpoint).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.jobs import queue as jobs
from bot.privacy import Privacy
from bot.rules.errors import Conflict, InvalidInput, NotFound
from bot.rules.surveys.results import (
    Answer,
    Option,
    Question,
    QuestionKind,
    SurveyResults,
    results,
)
from messages.survey_content import SurveyDef
from storage.models.schedule import DueItem
from storage.models.surveys import SurveyAnswer, SurveyMarker, SurveyRun

OPEN = "open"
CLOSED = "closed"
# Due kinds: list the recipients; DM one person; remind one person.
FANOUT = "survey_fanout"
SEND = "survey_send"
REMINDER = "survey_reminder"


class Fanout(jobs.Payload):
    """FANOUT: the run whose recipients are listed."""

    run_id: int


class Send(jobs.Payload):
    """SEND: the run and the recipient."""

    run_id: int
    user_id: str


class Reminder(jobs.Payload):
    """REMINDER: the run, the recipient and where their survey message is."""

    run_id: int
    user_id: str
    channel: str
    ts: str


TEXT_MAX = 1000  # a free-text answer


@dataclass(frozen=True)
class RunView:
    """A survey run as admins and the form see it."""

    id: int
    name: str
    survey_id: str
    title: str
    status: str
    channel: str | None
    recipients: int
    answers: int
    questions: tuple[Question, ...]
    opened_at: datetime
    closed_at: datetime | None


def marker(privacy: Privacy, *, run_id: int, user_id: str) -> str:
    """The keyed marker of one person for one survey (another survey's marker differs)."""
    return privacy.marker(f"survey:{run_id}:{user_id}")


def questions_of(survey: SurveyDef) -> tuple[Question, ...]:
    """The content file's questions as the results core reads them."""
    out = []
    for q in survey.questions:
        if q.kind == QuestionKind.LIKERT:
            out.append(Question.likert(q.id, q.text, [label for _, label in q.options]))
        elif q.kind == QuestionKind.CHOICE:
            out.append(Question.choice(q.id, q.text, q.options))
        else:
            out.append(Question.free_text(q.id, q.text))
    return tuple(out)


def _stored(questions: Iterable[Question]) -> list[dict[str, Any]]:
    return [
        {
            "id": q.id,
            "kind": q.kind.value,
            "text": q.text,
            "options": [[o.value, o.label] for o in q.options],
        }
        for q in questions
    ]


def _loaded(raw: Iterable[Mapping[str, Any]]) -> tuple[Question, ...]:
    return tuple(
        Question(
            str(q["id"]),
            QuestionKind(q["kind"]),
            str(q["text"]),
            tuple(Option(str(v), str(label)) for v, label in q.get("options") or []),
        )
        for q in raw
    )


def _view(session: Session, run: SurveyRun, *, count: bool = True) -> RunView:
    assert run.id is not None
    answers = 0
    if count:
        answers = session.execute(
            select(func.count()).select_from(SurveyAnswer).where(col(SurveyAnswer.run_id) == run.id)
        ).scalar_one()
    return RunView(
        id=run.id,
        name=run.name,
        survey_id=run.survey_id,
        title=run.title,
        status=run.status,
        channel=run.channel,
        recipients=run.recipients,
        answers=int(answers),
        questions=_loaded(run.questions),
        opened_at=run.opened_at,
        closed_at=run.closed_at,
    )


def start(session: Session, *, survey: SurveyDef, channel: str | None, now: datetime) -> RunView:
    """Open a run of this survey and schedule its sending; Conflict if one is open already."""
    running = session.execute(
        select(SurveyRun).where(
            col(SurveyRun.survey_id) == survey.id, col(SurveyRun.status) == OPEN
        )
    ).scalar_one_or_none()
    if running is not None:
        raise Conflict(
            f"The survey {survey.id} is already running as {running.name}. "
            f"Close it first with `/ally-admin survey close {running.name}`."
        )
    count = session.execute(
        select(func.count()).select_from(SurveyRun).where(col(SurveyRun.survey_id) == survey.id)
    ).scalar_one()
    run = SurveyRun(
        name=f"{survey.id}-{int(count) + 1}",
        survey_id=survey.id,
        channel=channel,
        questions=_stored(questions_of(survey)),
        title=survey.title,
        opened_at=now,
    )
    session.add(run)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"The survey {survey.id} was just started by someone else.") from None
    assert run.id is not None
    jobs.schedule(
        session,
        kind=FANOUT,
        key=f"{FANOUT}:{run.id}",
        due_at=now,
        payload=Fanout(run_id=run.id),
    )
    return _view(session, run)


def schedule_sends(session: Session, *, run_id: int, user_ids: Iterable[str], now: datetime) -> int:
    """One send per person (keyed by survey and person: nobody is scheduled twice)."""
    run = session.get(SurveyRun, run_id)
    if run is None or run.status != OPEN:
        return 0
    people = sorted(set(user_ids))
    for user_id in people:
        jobs.schedule(
            session,
            kind=SEND,
            key=f"{SEND}:{run_id}:{user_id}",
            due_at=now,
            payload=Send(run_id=run_id, user_id=user_id),
        )
    run.recipients = len(people)
    session.add(run)
    return len(people)


def schedule_reminder(
    session: Session, *, run_id: int, user_id: str, channel: str, ts: str, due_at: datetime
) -> None:
    """Remind this person once, later, unless they have answered by then."""
    jobs.schedule(
        session,
        kind=REMINDER,
        key=f"{REMINDER}:{run_id}:{user_id}",
        due_at=due_at,
        payload=Reminder(run_id=run_id, user_id=user_id, channel=channel, ts=ts),
    )


def get(session: Session, *, run_id: int, count: bool = True) -> RunView | None:
    """A run by its id, if any (`count=False`: without counting its answers, for bulk sends)."""
    run = session.get(SurveyRun, run_id)
    return _view(session, run, count=count) if run is not None else None


def find(session: Session, *, name: str, status: str | None = None) -> RunView:
    """A run by name (`awareness-2`), or by survey id: its open run, else its latest one."""
    wanted = name.strip().lower()
    run = session.execute(
        select(SurveyRun).where(col(SurveyRun.name) == wanted)
    ).scalar_one_or_none()
    if run is None:
        runs = list(
            session.execute(
                select(SurveyRun)
                .where(col(SurveyRun.survey_id) == wanted)
                .order_by(col(SurveyRun.id).desc())
            ).scalars()
        )
        if status is not None:
            runs = [r for r in runs if r.status == status] or runs
        run = runs[0] if runs else None
    if run is None:
        raise NotFound(
            f"There is no survey run called {wanted[:64]!r}. `/ally-admin survey list` shows them."
        )
    return _view(session, run)


def all_runs(session: Session) -> list[RunView]:
    """Every run, newest first."""
    runs = session.execute(select(SurveyRun).order_by(col(SurveyRun.id).desc())).scalars()
    return [_view(session, run) for run in runs]


def has_answered(session: Session, *, run_id: int, marker: str) -> bool:
    """Whether the person with this marker has answered this (open) survey."""
    found = session.execute(
        select(col(SurveyMarker.marker)).where(
            col(SurveyMarker.run_id) == run_id, col(SurveyMarker.marker) == marker
        )
    ).first()
    return found is not None


def _locked_run(session: Session, run_id: int) -> SurveyRun | None:
    """The run's row, locked until the transaction ends (PostgreSQL; SQLite serialises
    writers anyway), read afresh."""
    return session.execute(
        select(SurveyRun)
        .where(col(SurveyRun.id) == run_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def check_open(run: RunView | None) -> RunView:
    """The run, if it still takes answers; else a refusal the person reads."""
    if run is None:
        raise NotFound("This survey no longer exists.")
    if run.status != OPEN:
        raise Conflict("This survey has closed, so it no longer takes answers. Thank you anyway.")
    return run


def clean_values(run: RunView, values: Mapping[str, str | None]) -> dict[str, str]:
    """The answers kept: offered options only, texts trimmed and within TEXT_MAX."""
    out: dict[str, str] = {}
    for question in run.questions:
        raw = values.get(question.id)
        value = str(raw).strip() if raw is not None else ""
        if not value:
            continue
        if question.kind is QuestionKind.TEXT:
            if len(value) > TEXT_MAX:
                raise InvalidInput(
                    f"Please keep this to {TEXT_MAX} characters (it is {len(value)}).",
                    block_id=question.id,
                )
        elif value not in {option.value for option in question.options}:
            raise InvalidInput("Please choose one of the options.", block_id=question.id)
        out[question.id] = value
    return out


def record_answer(
    session: Session,
    *,
    run_id: int,
    marker: str,
    business_unit: str | None,
    values: Mapping[str, str | None],
    today: date,
) -> None:
    """Store one person's answers without their ID; Conflict for a second answer or a closed
    survey.

    The run's row is locked first (as the close locks it): an answer and a close serialise,
    so no answer or marker is stored after a close has committed, and a close waits for an
    answer in flight and deletes its marker.
    """
    locked = _locked_run(session, run_id)
    run = check_open(_view(session, locked, count=False) if locked is not None else None)
    cleaned = clean_values(run, values)
    if has_answered(session, run_id=run_id, marker=marker):
        raise Conflict("You have already answered this survey. Thank you!")
    session.add(SurveyMarker(run_id=run_id, marker=marker))
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("You have already answered this survey. Thank you!") from None
    session.add(
        SurveyAnswer(
            id=secrets.token_hex(16),
            run_id=run_id,
            business_unit=business_unit or None,
            answers=cleaned,
            answered_on=today,
        )
    )


def close(session: Session, *, name: str, now: datetime) -> RunView:
    """Close an open run: its markers and scheduled sends are deleted, its answers rewritten
    in a random order (NotFound/Conflict); the caller then runs storage.surveys.checkpoint."""
    found = find(session, name=name, status=OPEN)
    locked = _locked_run(session, found.id)  # waits for answers in flight, and other closes
    if locked is None:
        raise NotFound(f"The survey {found.name} no longer exists.")
    view = _view(session, locked)
    if view.status != OPEN:
        raise Conflict(f"The survey {view.name} is already closed.")
    if session.get_bind().dialect.name == "sqlite":
        # Deleted rows are overwritten, not merely unlinked, in the file's pages.
        session.execute(text("PRAGMA secure_delete = ON"))
    session.execute(
        update(SurveyRun).where(col(SurveyRun.id) == view.id).values(status=CLOSED, closed_at=now)
    )
    session.execute(delete(SurveyMarker).where(col(SurveyMarker.run_id) == view.id))
    _reshuffle_answers(session, run_id=view.id)
    session.execute(delete(DueItem).where(col(DueItem.key) == f"{FANOUT}:{view.id}"))
    for kind in (SEND, REMINDER):
        session.execute(
            delete(DueItem).where(
                col(DueItem.kind) == kind, col(DueItem.key).startswith(f"{kind}:{view.id}:")
            )
        )
    return RunView(**{**view.__dict__, "status": CLOSED, "closed_at": now})


def _reshuffle_answers(session: Session, *, run_id: int) -> None:
    """Rewrite a run's answers in a random order with fresh random ids.

    Whatever the database kept of the order answers came in (SQLite's cells within a page,
    PostgreSQL's heap, where rows lie in insertion order) no longer follows it: the markers
    were in that order too. On PostgreSQL the old row versions stay in the heap until a VACUUM
    (storage.surveys.checkpoint, after the commit).
    """
    rows = session.execute(
        select(
            col(SurveyAnswer.business_unit),
            col(SurveyAnswer.answers),
            col(SurveyAnswer.answered_on),
        ).where(col(SurveyAnswer.run_id) == run_id)
    ).all()
    if not rows:
        return
    fresh = [
        {
            "id": secrets.token_hex(16),
            "run_id": run_id,
            "business_unit": unit,
            "answers": values,
            "answered_on": day,
        }
        for unit, values, day in rows
    ]
    secrets.SystemRandom().shuffle(fresh)
    session.execute(delete(SurveyAnswer).where(col(SurveyAnswer.run_id) == run_id))
    session.execute(insert(SurveyAnswer), fresh)


def run_results(session: Session, *, run: RunView, min_group: int) -> SurveyResults:
    """A closed run's results, safe to show (Conflict while it is open)."""
    if run.status != CLOSED:
        raise Conflict(
            f"The survey {run.name} is still open: results are shown only after "
            f"`/ally-admin survey close {run.name}`, so nobody's answer can be followed."
        )
    rows = session.execute(
        select(col(SurveyAnswer.business_unit), col(SurveyAnswer.answers)).where(
            col(SurveyAnswer.run_id) == run.id
        )
    ).all()
    answers = [Answer(unit, dict(values or {})) for unit, values in rows]
    return results(run.questions, answers, min_group=min_group)
