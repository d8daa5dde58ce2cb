"""Reverse mentoring's refusals and privacy through the real app: clear answers, no change."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from bot.devkit.sandbox import Sandbox
from handlers.mentoring.ids import Ids
from storage.models.mentoring import (
    MentoringCheckin,
    MentoringCohort,
    MentoringPair,
    MentoringParticipant,
)
from storage.types import utcnow
from tests.handlers.mentoring_flows import (
    GENERAL,
    admin,
    has,
    open_signup,
    proposal_message,
    run_due,
    sign_up,
    signup_values,
)
from tests.helpers import settle

MATURITY_NAMES = ("Unaware", "Aware", "Active", "Advocate", "Champion")


def _cohorts(box: Sandbox) -> list[MentoringCohort]:
    with box.db.session() as s:
        return list(s.exec(select(MentoringCohort)))


def _participants(box: Sandbox) -> list[MentoringParticipant]:
    with box.db.session() as s:
        return list(s.exec(select(MentoringParticipant)))


def test_malformed_cohort_commands_answer_clearly_and_create_nothing(sandbox: Sandbox) -> None:
    """A bad month count or cadence, or a name already used: one clear line each."""
    box = sandbox
    assert "not a number of months" in admin(box, "cohort Spring six 2w")
    assert "not a cadence" in admin(box, "cohort Spring 6 fortnightly")
    assert not _cohorts(box)
    assert "created" in admin(box, "cohort Spring 6 15s")
    assert "already exists" in admin(box, "cohort spring 3 1w")
    assert len(_cohorts(box)) == 1
    assert "no cohort called" in admin(box, "call Autumn")
    assert "Usage" in admin(box, "frobnicate")


def test_mentoring_admin_commands_are_for_admins_only(sandbox: Sandbox) -> None:
    """Anyone else is told `/ally-admin` is for programme admins; nothing is created."""
    box = sandbox
    box.slack.slash(
        "/ally-admin", "mentoring cohort Spring 6 2w", user_id="U0ASKER", channel_id=GENERAL
    )
    box.fake.wait_for("chat.postEphemeral", predicate=has("for programme admins"))
    settle(box)
    assert not _cohorts(box)


def test_signup_refusals_show_in_the_modal_and_save_nothing(sandbox: Sandbox) -> None:
    """Reporting to or excluding oneself, or no interests: the field's error, no row."""
    box = sandbox
    admin(box, "cohort Spring 6 2w")
    admin(box, "call Spring")
    for values, block in (
        (signup_values("mentee", reports_to="U0ASKER"), Ids.REPORTS_TO),
        (signup_values("mentee", exclude=("U0ASKER",)), Ids.EXCLUDE),
        (signup_values("mentee", interests=()), Ids.INTERESTS),
    ):
        view = open_signup(box, "U0ASKER")
        answer = box.slack.submit_view("U0ASKER", view, values)
        body = answer.json()
        assert body["response_action"] == "errors" and block in body["errors"]
    settle(box)
    assert not _participants(box)


def test_signup_after_the_close_is_refused(sandbox: Sandbox) -> None:
    """An old call's button, after the close, says sign-up has closed; no view opens."""
    box = sandbox
    admin(box, "cohort Spring 6 2w")
    admin(box, "call Spring")
    sign_up(box, "U0ALLY1", "mentor")
    sign_up(box, "U0ASKER", "mentee")
    admin(box, "close Spring")
    settle(box)
    opened = len(box.fake.calls_to("views.open"))
    call = next(
        m
        for m in box.fake.messages(box.workspace.announcements_channel)
        if Ids.SIGNUP.value in json.dumps(m)
    )
    box.slack.click("U0COLLEAGUE", Ids.SIGNUP.value, message=call)
    box.fake.wait_for("chat.postEphemeral", predicate=has("has closed"))
    settle(box)
    assert len(box.fake.calls_to("views.open")) == opened
    assert "U0COLLEAGUE" not in {p.user_id for p in _participants(box)}


def test_pairing_refusals(sandbox: Sandbox) -> None:
    """Fewer than two people, one role only, a swap naming an outsider: clear, no change."""
    box = sandbox
    admin(box, "cohort Spring 6 2w")
    admin(box, "call Spring")
    sign_up(box, "U0ASKER", "mentee")
    assert "at least two" in admin(box, "pair Spring")
    sign_up(box, "U0COLLEAGUE", "mentee")
    assert "one mentor and one mentee" in admin(box, "pair Spring")
    sign_up(box, "U0ALLY1", "mentor")
    assert Ids.CONFIRM.value in admin(box, "pair Spring")
    assert "not waiting to be paired" in admin(box, "swap Spring <@U0ALLY1|amara> <@U0VOL1|vera>")
    assert "two people" in admin(box, "exclude Spring <@U0ALLY1>")
    assert _cohorts(box)[0].proposal_version == 1
    # A swap of a mentor and a mentee fixes their pair in a new proposal.
    answer = admin(box, "swap Spring <@U0ALLY1|amara> <@U0COLLEAGUE|tom>")
    assert "<@U0ALLY1> (mentor) + <@U0COLLEAGUE> (mentee)" in answer
    assert _cohorts(box)[0].proposal_version == 2


def test_an_older_proposal_cannot_be_confirmed(sandbox: Sandbox) -> None:
    """After an exclude re-runs the pairing, the first proposal's button is refused."""
    box = sandbox
    admin(box, "cohort Spring 6 2w")
    admin(box, "call Spring")
    for user, role in (("U0ALLY1", "mentor"), ("U0ALLY2", "mentor"), ("U0ASKER", "mentee")):
        sign_up(box, user, role)
    admin(box, "pair Spring")
    first = proposal_message(box)
    admin(box, "exclude Spring <@U0ALLY1> <@U0ASKER>")
    box.slack.click(box.workspace.admin.id, Ids.CONFIRM.value, message=first)
    box.fake.wait_for("chat.postEphemeral", predicate=has("changed since"))
    settle(box)
    with box.db.session() as s:
        assert not s.exec(select(MentoringPair)).all()


def test_forget_me_deletes_the_signup(sandbox: Sandbox) -> None:
    """Sign-up data is deleted by `/ally forget-me`; the pair no longer names the person."""
    box = sandbox
    admin(box, "cohort Spring 6 2w")
    admin(box, "call Spring")
    sign_up(box, "U0ALLY1", "mentor")
    sign_up(box, "U0ASKER", "mentee", country="Portugal")
    admin(box, "pair Spring")
    box.slack.click(box.workspace.admin.id, Ids.CONFIRM.value, message=proposal_message(box))
    box.fake.wait_for("chat.postMessage", predicate=has("meet <@"))
    settle(box)
    opened = len(box.fake.calls_to("views.open"))
    box.slack.slash("/ally", "forget-me", user_id="U0ASKER", channel_id=GENERAL)
    box.fake.wait_for("views.open", count=opened + 1)
    modal = box.fake.current_view("U0ASKER")
    assert modal is not None
    box.slack.submit_view("U0ASKER", modal)
    box.fake.wait_for("chat.postMessage", predicate=has("data is deleted", "U0ASKER"))
    settle(box)
    assert {p.user_id for p in _participants(box)} == {"U0ALLY1"}
    with box.db.session() as s:
        [pair] = s.exec(select(MentoringPair)).all()
    assert "U0ASKER" not in (pair.mentor_id, pair.mentee_id) and pair.status == "ended"
    assert "U0ASKER" not in json.dumps(_cohorts(box)[0].proposal)


def test_only_admins_confirm_pairs(sandbox: Sandbox) -> None:
    """A forged or forwarded confirm click from anyone else is refused; no pair is made."""
    box = sandbox
    admin(box, "cohort Spring 6 2w")
    admin(box, "call Spring")
    sign_up(box, "U0ALLY1", "mentor")
    sign_up(box, "U0ASKER", "mentee")
    admin(box, "pair Spring")
    box.slack.click_raw("U0ASKER", Ids.CONFIRM.value, "1:1", channel=GENERAL)
    box.fake.wait_for("chat.postEphemeral", predicate=has("for programme admins"))
    settle(box)
    with box.db.session() as s:
        assert not s.exec(select(MentoringPair)).all()


def _mentoring_text(box: Sandbox) -> str:
    """Every mentoring row (pairs, sign-ups, check-ins, cohorts with their proposal) as text."""
    with box.db.session() as s:
        rows: list[object] = [
            *s.exec(select(MentoringPair)),
            *s.exec(select(MentoringParticipant)),
            *s.exec(select(MentoringCheckin)),
            *s.exec(select(MentoringCohort)),
        ]
        return "\n".join(json.dumps(r.model_dump(mode="json")) for r in rows)  # type: ignore[attr-defined]


def test_forget_me_leaves_nothing_of_the_signup_next_to_the_partner(sandbox: Sandbox) -> None:
    """After forget-me no pair, proposal or sign-up holds the person's id, the interests they
    shared or their maturity level: reasons and scores of their pairs are blanked."""
    box = sandbox
    admin(box, "cohort Spring 6 2w")
    admin(box, "call Spring")
    advocate = signup_values("mentor") | {f"maturity_{n}_1": True for n in (1, 2, 3, 4)}
    box.slack.submit_view("U0ALLY1", open_signup(box, "U0ALLY1"), advocate)
    sign_up(box, "U0ASKER", "mentee", country="Portugal")
    admin(box, "pair Spring")
    box.slack.click(box.workspace.admin.id, Ids.CONFIRM.value, message=proposal_message(box))
    box.fake.wait_for("chat.postMessage", predicate=has("meet <@"))
    settle(box)
    before = _mentoring_text(box)
    revealing = ("Coming out at work", "Leading an inclusive team", "share 2", "maturity level")
    assert all(label in before for label in revealing)
    _forget(box, "U0ASKER")
    after = _mentoring_text(box)
    for label in (*revealing, *MATURITY_NAMES, "U0ASKER"):
        assert label not in after, label
    with box.db.session() as s:
        [pair] = s.exec(select(MentoringPair)).all()
    assert pair.score == 0 and pair.reasons == []


def test_forget_me_tells_the_partner_and_offers_the_pool(sandbox: Sandbox) -> None:
    """Forget-me ends an active pair as a leave does: the partner is told kindly and offered
    a new partner from the pool, without naming who left."""
    box = sandbox
    admin(box, "cohort Spring 6 2w")
    admin(box, "call Spring")
    sign_up(box, "U0ALLY1", "mentor")
    sign_up(box, "U0ASKER", "mentee")
    admin(box, "pair Spring")
    box.slack.click(box.workspace.admin.id, Ids.CONFIRM.value, message=proposal_message(box))
    box.fake.wait_for("chat.postMessage", predicate=has("meet <@"))
    box.fake.add_user("U0LATE", "lee", real_name="Lee Late")
    sign_up(box, "U0LATE", "mentee")
    box.fake.wait_for("chat.postMessage", predicate=has("wait in the pool", "U0LATE"))
    settle(box)
    _forget(box, "U0ASKER")
    run_due(box, utcnow() + timedelta(minutes=5))
    offer = box.fake.wait_for("chat.postMessage", predicate=has(Ids.NEW_PARTNER.value, "U0ALLY1"))[
        0
    ]
    assert "U0ASKER" not in json.dumps(offer.args)
    message = next(
        m for m in box.fake.dm_messages("U0ALLY1") if Ids.NEW_PARTNER.value in json.dumps(m)
    )
    box.slack.click("U0ALLY1", Ids.NEW_PARTNER.value, message=message)
    box.fake.wait_for("chat.postMessage", predicate=has("U0LATE"))
    settle(box)
    with box.db.session() as s:
        pairs = s.exec(select(MentoringPair)).all()
    assert any(p.mentee_id == "U0LATE" and p.status == "active" for p in pairs)


def _forget(box: Sandbox, user_id: str) -> None:
    settle(box)
    opened = len(box.fake.calls_to("views.open"))
    box.slack.slash("/ally", "forget-me", user_id=user_id, channel_id=GENERAL)
    box.fake.wait_for("views.open", count=opened + 1)
    modal = box.fake.current_view(user_id)
    assert modal is not None
    box.slack.submit_view(user_id, modal)
    box.fake.wait_for("chat.postMessage", predicate=has("data is deleted", user_id))
    settle(box)


def test_admins_may_allow_a_mentor_capacity_when_mentees_outnumber_mentors(
    sandbox: Sandbox,
) -> None:
    """`pair NAME --capacity 2` gives one mentor two mentees; it holds for later re-runs, and a
    bad value is refused without a new proposal."""
    box = sandbox
    admin(box, "cohort Spring 6 2w")
    admin(box, "call Spring")
    sign_up(box, "U0ALLY1", "mentor")
    sign_up(box, "U0ASKER", "mentee")
    sign_up(box, "U0COLLEAGUE", "mentee")
    first = admin(box, "pair Spring")
    assert first.count("(mentor) + ") == 1, first
    assert "more mentees than mentor places" in first
    assert "at least 1" in admin(box, "pair Spring --capacity 0")
    assert _cohorts(box)[0].proposal_version == 1
    second = admin(box, "pair Spring --capacity 2")
    assert second.count("(mentor) + ") == 2, second
    assert _cohorts(box)[0].proposal_version == 2
    # A review's re-run keeps the capacity the admins allowed.
    third = admin(box, "exclude Spring <@U0ASKER> <@U0COLLEAGUE>")
    assert third.count("(mentor) + ") == 2, third
    assert "--allow-repeats" in admin(box, "pair Spring --capacity")
