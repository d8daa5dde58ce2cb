"""Check-ins at the cadence, answers, and the lapse flag (SPEC 4).

A check-in is a due item keyed by pair and meeting number (checkin_key), scheduled when a pair
starts (bot.rules.mentoring.review, partners) and when the one before is posted, so restarts
and replicas never double it; its row here keeps the message and the answer. A pair whose
check-ins since its last meeting count two without a meeting (answered "not met", or left
unanswered when the next one came) is flagged to the admins by a due item keyed by the pair
and that last meeting: once per lapse, and again only after a meeting ends the lapse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.jobs import queue as jobs
from bot.rules.errors import Conflict, InvalidInput, NotFound
from bot.rules.mentoring import cohorts
from storage import mentoring as store
from storage.models.mentoring import MentoringCheckin, MentoringCohort, MentoringPair
from storage.models.schedule import DueItem

CHECKIN = "mentoring_checkin"
MET = "met"
NOT_MET = "not_met"
LAPSE = "mentoring_lapse"


class Checkin(jobs.Payload):
    """CHECKIN: the pair and the meeting it checks in on."""

    pair: int
    meeting: int


class Lapse(jobs.Payload):
    """LAPSE: the pair, and how many check-ins in a row passed without a meeting."""

    pair: int
    missed: int | None = None


LAPSE_AFTER = 2  # check-ins in a row without a meeting
NOTE_MAX = 3000


@dataclass(frozen=True)
class ToSend:
    """A check-in to post: the pair, its cohort and the check-in row."""

    pair: MentoringPair
    cohort: MentoringCohort
    checkin: MentoringCheckin


def checkin_key(pair_id: int, meeting: int) -> str:
    """One check-in of one pair: the key that makes it once, whoever sweeps."""
    return f"{CHECKIN}:{pair_id}:{meeting}"


def schedule_checkin(
    session: Session, *, pair: MentoringPair, cohort: MentoringCohort, meeting: int
) -> bool:
    """Schedule the pair's check-in for this meeting, unless it falls after the cohort ends."""
    due = pair.started_at + cohorts.cadence(cohort) * meeting
    if cohort.ends_at is not None and due > cohort.ends_at:
        return False
    assert pair.id is not None
    jobs.schedule(
        session,
        kind=CHECKIN,
        key=checkin_key(pair.id, meeting),
        due_at=due,
        payload=Checkin(pair=pair.id, meeting=meeting),
    )
    return True


def prepare(session: Session, *, pair_id: int, meeting: int) -> ToSend | None:
    """The check-in row for this meeting (made once), or None if the pair has ended."""
    pair = store.pair(session, pair_id=pair_id)
    if pair is None or pair.status != cohorts.ACTIVE or pair.channel is None:
        return None
    cohort = cohorts.by_id(session, pair.cohort_id)
    if cohort.status != cohorts.RUNNING:
        return None
    row = store.checkin(session, pair_id=pair_id, meeting=meeting)
    if row is None:
        row = MentoringCheckin(pair_id=pair_id, meeting=meeting, channel=pair.channel)
        session.add(row)
        session.flush()
    return ToSend(pair, cohort, row)


def posted(session: Session, *, checkin_id: int, ts: str, now: datetime) -> None:
    """Record the posted check-in's ts, schedule the next one and look for a lapse."""
    row = store.checkin_by_id(session, checkin_id=checkin_id)
    if row is None:
        return
    row.ts = ts
    session.add(row)
    pair = store.pair(session, pair_id=row.pair_id)
    assert pair is not None
    cohort = cohorts.by_id(session, pair.cohort_id)
    # After downtime, the next check-in is the next one still ahead, not a burst of old ones.
    step = cohorts.cadence(cohort)
    following = row.meeting + 1
    while pair.started_at + step * following <= now:
        following += 1
    schedule_checkin(session, pair=pair, cohort=cohort, meeting=following)
    check_lapse(session, pair=pair, now=now)


@dataclass(frozen=True)
class Answered:
    """The outcome of a click: recorded now, or the answer already given."""

    recorded: bool
    answer: str
    checkin: MentoringCheckin
    pair: MentoringPair
    # The lapse flag this answer made due, if any (the listener sends it at once).
    flag_key: str | None = None


def answer(
    session: Session, *, checkin_id: int, user_id: str, value: str, now: datetime
) -> Answered:
    """Record whether the pair met (one click, by either of the pair; the first one counts)."""
    if value not in (MET, NOT_MET):
        raise InvalidInput("That answer is not one of the buttons.")
    row = store.checkin_by_id(session, checkin_id=checkin_id, lock=True)
    if row is None:
        raise NotFound("This check-in no longer exists.")
    pair = store.pair(session, pair_id=row.pair_id)
    if pair is None or user_id not in (pair.mentor_id, pair.mentee_id):
        raise NotFound("This check-in is for another pair.")
    if row.answer is not None:
        return Answered(False, row.answer, row, pair)
    row.answer, row.answered_by, row.answered_at = value, user_id, now
    session.add(row)
    session.flush()
    flag = check_lapse(session, pair=pair, now=now)
    return Answered(True, value, row, pair, flag)


def check_note(session: Session, *, checkin_id: int, user_id: str, note: str) -> str:
    """The note, cleaned, if this person may write it (only the pair, after their answer)."""
    text = note.strip()
    if not text or len(text) > NOTE_MAX:
        raise InvalidInput(f"Write 1 to {NOTE_MAX} characters.", "note")
    row = store.checkin_by_id(session, checkin_id=checkin_id)
    pair = store.pair(session, pair_id=row.pair_id) if row else None
    if row is None or pair is None or user_id not in (pair.mentor_id, pair.mentee_id):
        raise NotFound("This check-in is for another pair.")
    if row.answer is None:
        raise Conflict("Say whether you met first.")
    return text


def save_note(session: Session, *, checkin_id: int, user_id: str, note: str) -> MentoringCheckin:
    """Keep what the pair covered (optional, after the click); only the pair may write it."""
    text = check_note(session, checkin_id=checkin_id, user_id=user_id, note=note)
    row = store.checkin_by_id(session, checkin_id=checkin_id, lock=True)
    assert row is not None
    row.note = text
    session.add(row)
    return row


def lapse_key(pair_id: int, since_meeting: int) -> str:
    """One lapse of one pair: since its last meeting (0: never met)."""
    return f"{LAPSE}:{pair_id}:{since_meeting}"


def missed_since_last_meeting(rows: list[MentoringCheckin]) -> tuple[int, int]:
    """(the last meeting the pair met at, 0 if none; check-ins without a meeting since)."""
    last_met = max((r.meeting for r in rows if r.answer == MET), default=0)
    newest = max((r.meeting for r in rows), default=0)
    missed = sum(
        1
        for r in rows
        if r.meeting > last_met
        and (r.answer == NOT_MET or (r.answer is None and r.meeting < newest))
    )
    return last_met, missed


def check_lapse(session: Session, *, pair: MentoringPair, now: datetime) -> str | None:
    """Flag the pair to the admins if two check-ins in a row passed without a meeting."""
    assert pair.id is not None
    last_met, missed = missed_since_last_meeting(store.checkins(session, pair_id=pair.id))
    if missed < LAPSE_AFTER:
        return None
    key = lapse_key(pair.id, last_met)
    jobs.schedule(
        session,
        kind=LAPSE,
        key=key,
        due_at=now,
        payload=Lapse(pair=pair.id, missed=missed),
    )
    return key


def next_checkin(session: Session, *, pair_id: int) -> datetime | None:
    """When the pair's next check-in is due, if one is scheduled."""
    statement = select(DueItem.due_at).where(
        col(DueItem.key).startswith(f"{CHECKIN}:{pair_id}:"),
        col(DueItem.status) == jobs.PENDING,
    )
    return min(session.exec(statement), default=None)
