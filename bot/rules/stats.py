"""Programme figures for organisers (SPEC 3, issue 11 part 5): read in one pass, shown safely.

Every figure comes from a handful of aggregate reads over the year (requests with their first
offer and match, feedback prompts, allies by unit), walked once in Python. Every breakdown is
released through the same small-group rule as the surveys (`results.breakdown`): a part under
`ALLYBOT_MIN_GROUP` shows as "fewer than N", and a part that subtraction from the total would
expose is withheld too. A share or a median is shown only when the counts behind it are.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlmodel import Session, col

from bot.rules.mentoring.checkins import LAPSE_AFTER, missed_since_last_meeting
from bot.rules.surveys.disclosure import Figure, breakdown
from storage.models.feedback import Feedback
from storage.models.mentoring import MentoringCheckin, MentoringPair
from storage.models.programme import Ally, BusinessUnit, Member
from storage.models.requests import AllyRequest, Match, Offer

NO_UNIT = "No unit"
MATCHED = "matched"
UNMATCHED = "not matched"
ANSWERED = "answered"
UNANSWERED = "not answered"
ON_CADENCE = "meeting on cadence"
LAPSED = f"{LAPSE_AFTER} or more check-ins in a row without meeting"


@dataclass(frozen=True)
class Breakdown:
    """A total and its parts, each as it may be shown."""

    total: Figure
    parts: tuple[tuple[str, Figure], ...]


@dataclass(frozen=True)
class Figures:
    """The programme's figures for one year."""

    year: int
    min_group: int
    by_kind: Breakdown
    by_category: Breakdown
    matched: Breakdown
    share_matched: int | None  # percent, when both parts are shown
    hours_to_first_offer: float | None
    hours_to_match: float | None
    outcomes: Breakdown
    feedback: Breakdown
    feedback_rate: int | None  # percent
    allies_by_unit: Breakdown
    volunteers_by_unit: Breakdown | None  # None: the volunteers channel could not be read
    mentoring_pairs: Breakdown  # pairs active in the year, on cadence or lapsed


def _release(counts: dict[str, int], min_group: int) -> Breakdown:
    total, parts = breakdown(counts, min_group)
    return Breakdown(total, tuple(sorted(parts.items(), key=lambda kv: kv[0].casefold())))


def _share(part: Breakdown, key: str) -> int | None:
    shown = dict(part.parts)
    if part.total.value is None or any(f.value is None for f in shown.values()):
        return None
    value = shown[key].value
    return round(100 * (value or 0) / part.total.value) if part.total.value else None


def _median_hours(spans: list[float], min_group: int) -> float | None:
    if len(spans) < min_group:
        return None
    return round(statistics.median(spans) / 3600, 1)


def year_bounds(year: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The programme year's first instant and the next year's."""
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def figures(
    session: Session,
    *,
    year: int,
    zone: ZoneInfo,
    min_group: int,
    category_labels: dict[str, str],
    volunteers: Iterable[str] | None = (),
) -> Figures:
    """The year's figures, every breakdown safe (SPEC 3)."""
    start, end = year_bounds(year, zone)
    first_offer = (
        select(col(Offer.request_id), func.min(col(Offer.created_at)).label("first"))
        .group_by(col(Offer.request_id))
        .subquery()
    )
    rows = session.execute(
        select(
            col(AllyRequest.kind),
            col(AllyRequest.category),
            col(AllyRequest.created_at),
            first_offer.c.first,
            col(Match.created_at),
            col(Match.outcome),
        )
        .select_from(AllyRequest)
        .outerjoin(first_offer, first_offer.c.request_id == col(AllyRequest.id))
        .outerjoin(Match, col(Match.request_id) == col(AllyRequest.id))
        .where(col(AllyRequest.created_at) >= start, col(AllyRequest.created_at) < end)
    ).all()
    kinds: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    matched: Counter[str] = Counter({MATCHED: 0, UNMATCHED: 0})
    outcomes: Counter[str] = Counter()
    to_offer: list[float] = []
    to_match: list[float] = []
    for kind, category, created, offered, matched_at, outcome in rows:
        kinds[kind] += 1
        categories[category_labels.get(category, category)] += 1
        matched[MATCHED if matched_at is not None else UNMATCHED] += 1
        if offered is not None:
            to_offer.append((offered - created).total_seconds())
        if matched_at is not None:
            to_match.append((matched_at - created).total_seconds())
            outcomes[(outcome or "open").replace("_", " ")] += 1
    answered, prompted = session.execute(
        select(
            func.coalesce(func.sum(case((col(Feedback.answer).is_not(None), 1), else_=0)), 0),
            func.count(),
        ).where(
            col(Feedback.prompted_at).is_not(None),
            and_(col(Feedback.prompted_at) >= start, col(Feedback.prompted_at) < end),
        )
    ).one()
    units = dict(
        session.execute(
            select(col(Member.user_id), col(BusinessUnit.name)).join(
                BusinessUnit, col(BusinessUnit.id) == col(Member.business_unit_id)
            )
        ).all()
    )
    allies = session.execute(select(col(Ally.user_id)).where(col(Ally.active))).scalars().all()
    allies_by_unit = Counter(units.get(user_id, NO_UNIT) for user_id in allies)
    volunteers_by_unit = (
        None
        if volunteers is None
        else Counter(units.get(user_id, NO_UNIT) for user_id in set(volunteers))
    )
    pairs = _mentoring(session, start=start, end=end)
    matched_release = _release(dict(matched), min_group)
    feedback = _release(
        {ANSWERED: int(answered), UNANSWERED: int(prompted) - int(answered)}, min_group
    )
    return Figures(
        year=year,
        min_group=min_group,
        by_kind=_release(dict(kinds), min_group),
        by_category=_release(dict(categories), min_group),
        matched=matched_release,
        share_matched=_share(matched_release, MATCHED) if rows else None,
        hours_to_first_offer=_median_hours(to_offer, min_group),
        hours_to_match=_median_hours(to_match, min_group),
        outcomes=_release(dict(outcomes), min_group),
        feedback=feedback,
        feedback_rate=_share(feedback, ANSWERED) if prompted else None,
        allies_by_unit=_release(dict(allies_by_unit), min_group),
        volunteers_by_unit=(
            None if volunteers_by_unit is None else _release(dict(volunteers_by_unit), min_group)
        ),
        mentoring_pairs=_release(pairs, min_group),
    )


def _mentoring(session: Session, *, start: datetime, end: datetime) -> dict[str, int]:
    """Pairs that were active in the year: meeting on cadence, or lapsed (SPEC 3)."""
    pair_ids = list(
        session.execute(
            select(col(MentoringPair.id)).where(
                col(MentoringPair.started_at) < end,
                (col(MentoringPair.ended_at).is_(None)) | (col(MentoringPair.ended_at) >= start),
            )
        ).scalars()
    )
    by_pair: dict[int, list[MentoringCheckin]] = {pair_id: [] for pair_id in pair_ids}
    if pair_ids:
        for row in session.execute(
            select(MentoringCheckin).where(col(MentoringCheckin.pair_id).in_(pair_ids))
        ).scalars():
            by_pair[row.pair_id].append(row)
    counts = {ON_CADENCE: 0, LAPSED: 0}
    for rows in by_pair.values():
        _, missed = missed_since_last_meeting(rows)
        counts[LAPSED if missed >= LAPSE_AFTER else ON_CADENCE] += 1
    return counts


def lines(f: Figures) -> list[tuple[str, list[str]]]:
    """The figures as titled groups of plain lines (names not yet escaped for mrkdwn)."""

    def parts(b: Breakdown) -> list[str]:
        return [f"{name}: {fig.text}" for name, fig in b.parts]

    fewer = f"fewer than {f.min_group}"
    share = f"{f.share_matched}%" if f.share_matched is not None else "not shown (small numbers)"
    rate = f"{f.feedback_rate}%" if f.feedback_rate is not None else "not shown (small numbers)"

    def hours(value: float | None) -> str:
        return f"{value} hours" if value is not None else f"not shown ({fewer} requests)"

    return [
        (f"Requests: {f.by_kind.total.text}", parts(f.by_kind)),
        ("By category", parts(f.by_category)),
        (
            "Matching",
            [
                f"Share matched: {share}",
                f"Median time to first offer: {hours(f.hours_to_first_offer)}",
                f"Median time to match: {hours(f.hours_to_match)}",
            ],
        ),
        ("Outcomes of matches", parts(f.outcomes)),
        (f"Feedback response rate: {rate}", parts(f.feedback)),
        (f"Active allies: {f.allies_by_unit.total.text}", parts(f.allies_by_unit)),
        (
            (f"Volunteers: {f.volunteers_by_unit.total.text}", parts(f.volunteers_by_unit))
            if f.volunteers_by_unit is not None
            else ("Volunteers: unknown (the bot cannot read the volunteers channel)", [])
        ),
        (f"Mentoring pairs: {f.mentoring_pairs.total.text}", parts(f.mentoring_pairs)),
    ]
