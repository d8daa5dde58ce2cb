"""The cohort report (SPEC 4): behaviours adopted and level movement between the two
self-assessments, per participant (for them and the admins) and overall (aggregates only for
at least ALLYBOT_MIN_GROUP people)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.jobs import queue as jobs
from bot.rules.mentoring import cohorts
from bot.rules.mentoring.content import Framework
from storage import mentoring as store
from storage.models.mentoring import MentoringCohort, MentoringParticipant

OWN_REPORT = "mentoring_own_report"


class OwnReport(jobs.Payload):
    """OWN_REPORT: the participant sent their own report."""

    participant: int


@dataclass(frozen=True)
class Movement:
    """One participant's before and after."""

    participant_id: int
    user_id: str
    role: str
    level_before: int
    level_after: int | None
    name_before: str
    name_after: str | None
    adopted: tuple[str, ...]  # behaviour texts ticked at the close and not at sign-up

    @property
    def assessed(self) -> bool:
        """Whether the closing self-assessment is in."""
        return self.level_after is not None


@dataclass(frozen=True)
class Overall:
    """Aggregates over the assessed participants (only when there are enough of them)."""

    people: int
    behaviours_adopted: int
    average_adopted: float
    moved_up: int
    levels_before: dict[int, int]
    levels_after: dict[int, int]


@dataclass(frozen=True)
class Report:
    """The cohort's report."""

    cohort_name: str
    rows: tuple[Movement, ...]
    overall: Overall | None
    assessed: int
    min_group: int


def movement(row: MentoringParticipant, framework: Framework) -> Movement:
    """One participant's movement (pure)."""
    before = set(row.behaviours_before)
    after = row.behaviours_after
    adopted = tuple(
        b.text for b in framework.behaviours() if after is not None and b.id in set(after) - before
    )
    assert row.id is not None
    return Movement(
        participant_id=row.id,
        user_id=row.user_id,
        role=row.role,
        level_before=row.level_before,
        level_after=row.level_after,
        name_before=framework.name(row.level_before),
        name_after=framework.name(row.level_after) if row.level_after is not None else None,
        adopted=adopted,
    )


def overall(rows: list[Movement], framework: Framework, min_group: int) -> Overall | None:
    """The cohort's figures, or None under min_group assessed people (pure)."""
    done = [r for r in rows if r.assessed]
    if len(done) < min_group:
        return None
    levels = [lv.level for lv in framework.levels]
    adopted = sum(len(r.adopted) for r in done)
    return Overall(
        people=len(done),
        behaviours_adopted=adopted,
        average_adopted=round(adopted / len(done), 1),
        moved_up=sum(1 for r in done if (r.level_after or 0) > r.level_before),
        levels_before={lv: sum(1 for r in done if r.level_before == lv) for lv in levels},
        levels_after={lv: sum(1 for r in done if r.level_after == lv) for lv in levels},
    )


def cohort_report(
    session: Session, *, cohort: MentoringCohort, framework: Framework, min_group: int
) -> Report:
    """Everyone who took part (not those who left), with the overall figures when allowed."""
    assert cohort.id is not None
    people = [
        p for p in store.participants(session, cohort_id=cohort.id) if p.status != cohorts.LEFT
    ]
    rows = [movement(p, framework) for p in people]
    return Report(
        cohort_name=cohort.name,
        rows=tuple(rows),
        overall=overall(rows, framework, min_group),
        assessed=sum(1 for r in rows if r.assessed),
        min_group=min_group,
    )


def schedule_own_reports(session: Session, *, report: Report, now: datetime) -> list[str]:
    """Each assessed participant gets their own before/after by DM, once each (keyed by them)."""
    keys = []
    for row in report.rows:
        if not row.assessed:
            continue
        key = f"{OWN_REPORT}:{row.participant_id}"
        jobs.schedule(
            session,
            kind=OWN_REPORT,
            key=key,
            due_at=now + cohorts.GRACE,
            payload=OwnReport(participant=row.participant_id),
        )
        keys.append(key)
    return keys
