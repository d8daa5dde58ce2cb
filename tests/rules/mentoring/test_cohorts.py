"""Cohort rules on a real session: bad input gets a clear answer and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.config import DEFAULT_CONTENT_DIR
from bot.rules.errors import Conflict, InvalidInput, NotFound
from bot.rules.mentoring import checkins, cohorts, partners, report, review, signup
from messages.content import load_content
from storage.db import Database
from storage.models.mentoring import MentoringCheckin, MentoringCohort, MentoringPair
from storage.models.schedule import DueItem
from storage.types import utcnow

CONTENT = load_content(DEFAULT_CONTENT_DIR).mentoring
assert CONTENT is not None


def _form(role: str, **extra: object) -> signup.SignupForm:
    values: dict = {
        "role": role,
        "business_unit": "Sales" if role == "mentor" else "Engineering",
        "country": "France",
        "seniority": "Director",
        "interests": ("coming_out",),
    }
    values.update(extra)
    return signup.SignupForm(**values)


def _cohort(db: Database, name: str = "Spring") -> int:
    with db.session() as s:
        row = cohorts.create(s, spec=cohorts.parse_cohort(f"{name} 6 2w"), actor="U0ADMIN")
        assert row.id is not None
        return row.id


def _join(db: Database, cohort_id: int, user: str, role: str, **extra: object) -> None:
    form = signup.check(_form(role, **extra), user_id=user, content=CONTENT)
    with db.session() as s:
        signup.save(s, cohort_id=cohort_id, user_id=user, form=form, content=CONTENT, now=utcnow())


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ("Spring 6", "Give a name"),
        ("Spring six 2w", "not a number of months"),
        ("Spring 0 2w", "not a number of months"),
        ("Spring 99 2w", "not a number of months"),
        ("Spring 6 fortnightly", "not a cadence"),
        ("Spring 6 0d", "not a cadence"),
        ("Spring 6 2y", "not a cadence"),
    ],
)
def test_a_malformed_month_count_or_cadence_is_refused(args: str, says: str) -> None:
    """`mentoring cohort` names what is wrong with its arguments."""
    with pytest.raises(InvalidInput, match=says):
        cohorts.parse_cohort(args)


def test_any_duration_is_a_cadence_and_names_may_hold_spaces() -> None:
    """`2w`, `15s`: any duration the configuration accepts; the name is what comes first."""
    spec = cohorts.parse_cohort("Spring leaders 2027 6 15s")
    assert (spec.name, spec.months, spec.cadence) == (
        "Spring leaders 2027",
        6,
        timedelta(seconds=15),
    )


def test_a_cohort_name_already_used_is_refused_and_nothing_changes(db: Database) -> None:
    """Names compare without case."""
    _cohort(db)
    with pytest.raises(Conflict, match="already exists"), db.session() as s:
        cohorts.create(s, spec=cohorts.parse_cohort("SPRING 3 1w"), actor="U0ADMIN")
    with db.session() as s:
        assert len(s.exec(select(MentoringCohort)).all()) == 1


@pytest.mark.parametrize(
    ("extra", "block"),
    [
        ({"reports_to": "U1"}, "reports_to"),
        ({"exclude": ("U2", "U1")}, "exclude"),
        ({"interests": ()}, "interests"),
        ({"interests": ("not_an_interest",)}, "interests"),
        ({"role": "boss"}, "role"),
        ({"country": "  "}, "country"),
    ],
)
def test_bad_signups_name_the_field(extra: dict, block: str) -> None:
    """Reporting to or excluding oneself, no interests: the modal's field is named."""
    with pytest.raises(InvalidInput) as error:
        signup.check(_form(**{"role": "mentee", **extra}), user_id="U1", content=CONTENT)
    assert error.value.block_id == block


def test_signup_after_the_close_is_refused(db: Database) -> None:
    """A closed cohort takes no sign-ups."""
    cohort_id = _cohort(db)
    with db.session() as s:
        cohorts.close(s, cohort=cohorts.by_id(s, cohort_id), now=utcnow())
    with pytest.raises(Conflict, match="closed"):
        _join(db, cohort_id, "U1", "mentee")


def test_pairing_fewer_than_two_or_one_role_is_refused(db: Database) -> None:
    """`mentoring pair` needs two people and both roles; the proposal is unchanged."""
    cohort_id = _cohort(db)
    _join(db, cohort_id, "U1", "mentee")
    with pytest.raises(InvalidInput, match="at least two"), db.session() as s:
        review.propose(s, cohort=cohorts.by_id(s, cohort_id), content=CONTENT)
    _join(db, cohort_id, "U2", "mentee")
    with pytest.raises(InvalidInput, match="one mentor and one mentee"), db.session() as s:
        review.propose(s, cohort=cohorts.by_id(s, cohort_id), content=CONTENT)
    with db.session() as s:
        assert cohorts.by_id(s, cohort_id).proposal_version == 0


def test_swap_naming_someone_outside_the_cohort_is_refused(db: Database) -> None:
    """A swap or exclusion must name two people waiting in the cohort."""
    cohort_id = _cohort(db)
    for user, role in (("U1", "mentor"), ("U2", "mentor"), ("U3", "mentee"), ("U4", "mentee")):
        _join(db, cohort_id, user, role)
    with db.session() as s:
        review.propose(s, cohort=cohorts.by_id(s, cohort_id), content=CONTENT)
    for change in (review.swap, review.exclude):
        with pytest.raises(InvalidInput, match="not waiting"), db.session() as s:
            change(s, cohort=cohorts.by_id(s, cohort_id), users=["U1", "U9"], content=CONTENT)
    with db.session() as s:
        assert cohorts.by_id(s, cohort_id).proposal_version == 1


def test_swap_and_exclude_change_the_proposal(db: Database) -> None:
    """Swap exchanges partners (same role) or fixes a pair; exclude rules a pair out."""
    cohort_id = _cohort(db)
    for user, role in (("U1", "mentor"), ("U2", "mentor"), ("U3", "mentee"), ("U4", "mentee")):
        _join(db, cohort_id, user, role)
    with db.session() as s:
        first = review.propose(s, cohort=cohorts.by_id(s, cohort_id), content=CONTENT)
    before = {(p["mentor"], p["mentee"]) for p in first["pairs"]}
    with db.session() as s:
        swapped = review.swap(
            s, cohort=cohorts.by_id(s, cohort_id), users=["U1", "U2"], content=CONTENT
        )
    after = {(p["mentor"], p["mentee"]) for p in swapped["pairs"]}
    assert after != before and len(after) == 2
    mentor, mentee = sorted(after)[0]
    with db.session() as s:
        excluded = review.exclude(
            s, cohort=cohorts.by_id(s, cohort_id), users=[mentor, mentee], content=CONTENT
        )
    assert (mentor, mentee) not in {(p["mentor"], p["mentee"]) for p in excluded["pairs"]}


def test_confirm_twice_makes_pairs_once_and_an_old_proposal_is_refused(db: Database) -> None:
    """The confirm's number must be the latest; a second confirm changes nothing."""
    cohort_id = _cohort(db)
    for user, role in (("U1", "mentor"), ("U3", "mentee"), ("U5", "mentee")):
        _join(db, cohort_id, user, role)
    with db.session() as s:
        review.propose(s, cohort=cohorts.by_id(s, cohort_id), content=CONTENT)
        review.propose(s, cohort=cohorts.by_id(s, cohort_id), content=CONTENT)
    with pytest.raises(Conflict, match="changed"), db.session() as s:
        review.confirm(s, cohort_id=cohort_id, version=1, now=utcnow())
    with db.session() as s:
        done = review.confirm(s, cohort_id=cohort_id, version=2, now=utcnow())
    assert len(done.pair_ids) == 1 and len(done.unmatched_ids) == 1
    with pytest.raises(Conflict, match="already confirmed"), db.session() as s:
        review.confirm(s, cohort_id=cohort_id, version=2, now=utcnow())
    with db.session() as s:
        assert len(s.exec(select(MentoringPair)).all()) == 1


def test_a_lapse_is_flagged_once_and_a_meeting_ends_it() -> None:
    """Two check-ins in a row without a meeting count as a lapse since the last meeting."""

    def rows(*answers: str | None) -> list[MentoringCheckin]:
        return [MentoringCheckin(pair_id=1, meeting=n, answer=a) for n, a in enumerate(answers, 1)]

    assert checkins.missed_since_last_meeting(rows("met", "not_met")) == (1, 1)
    assert checkins.missed_since_last_meeting(rows("not_met", "not_met")) == (0, 2)
    assert checkins.missed_since_last_meeting(rows(None, None, None)) == (0, 2)
    assert checkins.missed_since_last_meeting(rows("not_met", None, "met")) == (3, 0)


def test_report_counts_adopted_behaviours_and_hides_small_groups(db: Database) -> None:
    """Per participant always; overall figures only with at least min_group assessed."""
    cohort_id = _cohort(db)
    framework = CONTENT.framework
    first_two = tuple(b.id for b in framework.levels[0].behaviours[:2])
    users = [("U1", "mentor"), ("U2", "mentor"), ("U3", "mentee")]
    for user, role in users:
        _join(db, cohort_id, user, role)
    with db.session() as s:
        for row in s.exec(select(signup.MentoringParticipant)).all():
            assert row.id is not None
            signup.save_assessment(
                s, participant_id=row.id, user_id=row.user_id, behaviours=first_two, content=CONTENT
            )
    with db.session() as s:
        cohort = cohorts.by_id(s, cohort_id)
        small = report.cohort_report(s, cohort=cohort, framework=framework, min_group=5)
        enough = report.cohort_report(s, cohort=cohort, framework=framework, min_group=3)
    assert small.overall is None and all(len(r.adopted) == 2 for r in small.rows)
    assert enough.overall is not None and enough.overall.behaviours_adopted == 6


def test_a_checkin_is_scheduled_once_per_pair_and_meeting(db: Database) -> None:
    """Check-ins are due items keyed by pair and meeting: scheduling again keeps one."""
    cohort_id = _cohort(db)
    for user, role in (("U1", "mentor"), ("U3", "mentee")):
        _join(db, cohort_id, user, role)
    with db.session() as s:
        review.propose(s, cohort=cohorts.by_id(s, cohort_id), content=CONTENT)
        review.confirm(s, cohort_id=cohort_id, version=1, now=utcnow())
    with db.session() as s:
        pair = s.exec(select(MentoringPair)).one()
        checkins.schedule_checkin(s, pair=pair, cohort=cohorts.by_id(s, cohort_id), meeting=1)
    with db.session() as s:
        keys = [i.key for i in s.exec(select(DueItem)).all() if i.kind == checkins.CHECKIN]
    assert keys == [checkins.checkin_key(pair.id or 0, 1)]


def test_the_unmatched_are_kept_for_the_next_cohort(db: Database) -> None:
    """Someone a confirmed pairing left unmatched is in the next cohort with their answers."""
    first = _cohort(db)
    for user, role in (("U1", "mentor"), ("U3", "mentee"), ("U5", "mentee")):
        _join(db, first, user, role, country="Chile" if user == "U5" else "France")
    with db.session() as s:
        review.propose(s, cohort=cohorts.by_id(s, first), content=CONTENT)
        done = review.confirm(s, cohort_id=first, version=1, now=utcnow())
    assert len(done.unmatched_ids) == 1
    second = _cohort(db, "Autumn")
    with db.session() as s:
        rows = s.exec(
            select(signup.MentoringParticipant).where(
                signup.MentoringParticipant.cohort_id == second
            )
        ).all()
    with db.session() as s:
        pair = s.exec(select(MentoringPair)).one()
    paired = {pair.mentor_id, pair.mentee_id}
    assert len(rows) == 1 and rows[0].user_id not in paired and rows[0].role == "mentee"


def test_pause_ends_the_pair_and_offers_the_partner_someone_from_the_pool(db: Database) -> None:
    """No reason asked; the partner is to be told; pausing twice or without a cohort: clear."""
    cohort_id = _cohort(db)
    for user, role in (("U1", "mentor"), ("U3", "mentee")):
        _join(db, cohort_id, user, role)
    with pytest.raises(NotFound), db.session() as s:
        partners.step_back(s, user_id="U9", status=cohorts.PAUSED, now=utcnow())
    with db.session() as s:
        review.propose(s, cohort=cohorts.by_id(s, cohort_id), content=CONTENT)
        review.confirm(s, cohort_id=cohort_id, version=1, now=utcnow())
    _join(db, cohort_id, "U5", "mentee")  # a later sign-up waits in the pool
    with db.session() as s:
        done = partners.step_back(s, user_id="U3", status=cohorts.PAUSED, now=utcnow())
    assert done.key is not None and done.partner_id is not None
    with db.session() as s:
        offer = cohorts.offer_partner(s, participant_id=done.partner_id, content=CONTENT)
    assert offer is not None and (offer.mentor, offer.mentee) == ("U1", "U5")
    with pytest.raises(Conflict, match="already paused"), db.session() as s:
        partners.step_back(s, user_id="U3", status=cohorts.PAUSED, now=utcnow())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spring", review.PairRequest("Spring")),
        ("Spring 2027 --capacity 2", review.PairRequest("Spring 2027", 2)),
        ("Spring --allow-repeats", review.PairRequest("Spring", None, True)),
        ("Spring --allow-repeats --capacity 3", review.PairRequest("Spring", 3, True)),
    ],
)
def test_pair_requests_read_the_cohort_name_and_what_admins_allow(
    text: str, expected: review.PairRequest
) -> None:
    """`mentoring pair NAME [--capacity N] [--allow-repeats]`, in any order after the name."""
    assert review.parse_pair_request(text) == expected


@pytest.mark.parametrize(
    "text", ["Spring --capacity", "Spring --capacity 0", "Spring --capacity x"]
)
def test_a_bad_capacity_is_refused(text: str) -> None:
    """A capacity is a whole number from 1 to 10; anything else is explained."""
    with pytest.raises(InvalidInput, match="capacity"):
        review.parse_pair_request(text)
