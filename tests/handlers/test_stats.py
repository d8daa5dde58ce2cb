"""Programme figures: `/ally-admin stats [YYYY]` and the admins' App Home, small groups hidden."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.devkit.sandbox import Sandbox
from bot.rules import stats
from storage.db import Database
from storage.models.feedback import Feedback
from storage.models.mentoring import MentoringCheckin, MentoringCohort, MentoringPair
from storage.models.programme import Ally, BusinessUnit, Member
from storage.models.requests import AllyRequest, Match, Offer
from tests.helpers import settle

ADMIN = "U0ADMIN"
ZONE = ZoneInfo("UTC")
START = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _seed(session: Session) -> None:
    """12 named requests in career advice, 2 anonymous in meeting support; 10 matched."""
    units = {name: BusinessUnit(name=name) for name in ("Engineering", "Sales")}
    for unit in units.values():
        session.add(unit)
    session.flush()
    for i in range(14):
        kind, category = ("named", "career_advice") if i < 12 else ("anonymous", "meeting_support")
        created = START + timedelta(days=i)
        request = AllyRequest(
            kind=kind, category=category, created_at=created, requester_id=f"U{i}"
        )
        session.add(request)
        session.flush()
        assert request.id is not None
        offer = Offer(request_id=request.id, ally_user_id="UA", source="button")
        offer.created_at = created + timedelta(hours=2)
        session.add(offer)
        session.flush()
        if i < 10:
            assert offer.id is not None
            match = Match(request_id=request.id, offer_id=offer.id, ally_user_id="UA")
            match.created_at = created + timedelta(hours=5)
            match.outcome = "worked" if i < 7 else "not_worked"
            session.add(match)
            session.flush()
            assert match.id is not None
            session.add(
                Feedback(
                    token=f"t{i}",
                    match_id=match.id,
                    role="requester",
                    prompted_at=created + timedelta(days=7),
                    answer="worked" if i < 5 else None,
                )
            )
    for i in range(7):
        user = f"UALLY{i}"
        session.add(Ally(user_id=user))
        unit = units["Engineering" if i < 5 else "Sales"]
        assert unit.id is not None
        session.add(Member(user_id=user, business_unit_id=unit.id))


def test_figures_hide_every_group_under_min_group(db: Database) -> None:
    """Anonymous (2) and Sales allies (2) show as fewer than 5, and their complements too."""
    with db.session() as session:
        _seed(session)
    with db.read() as session:
        f = stats.figures(
            session,
            year=2026,
            zone=ZONE,
            min_group=5,
            category_labels={"career_advice": "Career advice"},
        )
    assert f.by_kind.total.value == 14
    assert dict(f.by_kind.parts)["anonymous"].text == "fewer than 5"
    assert dict(f.by_kind.parts)["named"].value is None  # 14 - 12 would reveal the 2
    assert f.matched.total.value == 14 and f.share_matched is None  # 4 unmatched: too few
    assert f.hours_to_first_offer == 2.0 and f.hours_to_match == 5.0
    assert dict(f.outcomes.parts)["worked"].text == "withheld"  # 10 - 7 would reveal the 3
    assert dict(f.outcomes.parts)["not worked"].text == "fewer than 5"
    assert dict(f.allies_by_unit.parts)["Sales"].text == "fewer than 5"
    assert dict(f.allies_by_unit.parts)["Engineering"].value is None
    assert f.feedback_rate == 50  # 5 of 10 answered
    with db.read() as session:
        earlier = stats.figures(
            session,
            year=2025,
            zone=UTC,
            min_group=5,
            category_labels={},  # type: ignore[arg-type]
        )
    assert earlier.by_kind.total.text == "fewer than 5"


def test_stats_command_and_admin_home(sandbox: Sandbox) -> None:
    """`stats 2026` answers the admin with the figures; a bad year is refused; only admins'
    App Home shows the figures."""
    box = sandbox
    with box.db.session() as session:
        _seed_without_units(session)
    box.slack.slash("/ally-admin", "stats 2026", user_id=ADMIN)
    settle(box)
    shown = json.dumps([c.args for c in box.fake.calls_to("chat.postEphemeral")])
    assert "Programme figures, 2026" in shown and "Requests: 14" in shown
    assert "anonymous: fewer than 5" in shown
    box.slack.slash("/ally-admin", "stats last-year", user_id=ADMIN)
    settle(box)
    assert "Give a year" in json.dumps([c.args for c in box.fake.calls_to("chat.postEphemeral")])
    box.slack.app_home_opened(ADMIN)
    box.slack.app_home_opened(box.workspace.colleague.id)
    settle(box)
    assert "Programme figures" in json.dumps(box.fake.home_view(ADMIN))
    assert "Programme figures" not in json.dumps(box.fake.home_view(box.workspace.colleague.id))


def _seed_without_units(session: Session) -> None:
    for i in range(14):
        kind = "named" if i < 12 else "anonymous"
        session.add(
            AllyRequest(
                kind=kind,
                category="career_advice",
                created_at=START + timedelta(days=i),
                requester_id=f"U{i}",
            )
        )


def test_mentoring_pairs_on_cadence_are_counted_safely(db: Database) -> None:
    """Six pairs meeting and two that missed two check-ins in a row: 6 shown, 2 fewer than 5,
    and the total withheld would expose them, so both parts are hidden by subtraction."""
    with db.session() as session:
        cohort = MentoringCohort(name="Spring", months=6, cadence_seconds=1209600, created_by="U")
        session.add(cohort)
        session.flush()
        assert cohort.id is not None
        for i in range(8):
            pair = MentoringPair(
                cohort_id=cohort.id, mentor_id=f"UM{i}", mentee_id=f"UE{i}", started_at=START
            )
            session.add(pair)
            session.flush()
            assert pair.id is not None
            answers = ["met", "met"] if i < 6 else ["not_met", "not_met"]
            for meeting, answer in enumerate(answers, 1):
                session.add(MentoringCheckin(pair_id=pair.id, meeting=meeting, answer=answer))
    with db.read() as session:
        f = stats.figures(session, year=2026, zone=ZONE, min_group=5, category_labels={})
    parts = dict(f.mentoring_pairs.parts)
    assert f.mentoring_pairs.total.value == 8
    assert parts[stats.LAPSED].text == "fewer than 5"
    assert parts[stats.ON_CADENCE].text == "withheld"
    shown = "\n".join(line for _, body in stats.lines(f) for line in body)
    assert "meeting on cadence: withheld" in shown
