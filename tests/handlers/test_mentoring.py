"""Reverse mentoring through the real app: cohort, call, sign-up, pairing, check-ins, report."""

from __future__ import annotations

import concurrent.futures
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
    admin,
    ally,
    call_message,
    has,
    open_signup,
    proposal_message,
    run_due,
    sign_up,
)
from tests.helpers import settle

MENTORS = ("U0ALLY1", "U0ALLY2", "U0ALLY3")  # amara, ben, chen
MENTEES = ("U0ASKER", "U0COLLEAGUE", "U0VOL1")  # priya, tom, vera


def _pairs(box: Sandbox) -> list[MentoringPair]:
    with box.db.session() as s:
        return list(s.exec(select(MentoringPair).order_by(MentoringPair.id)))


def _cohort(box: Sandbox) -> MentoringCohort:
    with box.db.session() as s:
        cohort = s.exec(select(MentoringCohort)).one()
        return cohort


def _signed_up_cohort(box: Sandbox) -> None:
    """Spring, 6 months at 1 week; three mentors and three mentees, one reporting line and
    one exclusion."""
    assert "created" in admin(box, "cohort Spring 6 1w")
    assert "posted" in admin(box, "call Spring")
    for mentor in MENTORS:
        sign_up(box, mentor, "mentor", unit="Sales", maturity=True)
    # Priya reports to Amara; Tom does not want Ben.
    sign_up(box, "U0ASKER", "mentee", reports_to="U0ALLY1")
    sign_up(box, "U0COLLEAGUE", "mentee", exclude=("U0ALLY2",))
    sign_up(box, "U0VOL1", "mentee", country="Kenya")
    settle(box)


def test_cohort_call_and_signup_store_the_answers_and_say_who_sees_what(sandbox: Sandbox) -> None:
    """The call goes to announcements with `mentoring_signup`; signing up twice updates."""
    box = sandbox
    assert "created" in admin(box, "cohort Spring 6 2w")
    admin(box, "call Spring")
    call = call_message(box)
    assert "seen only by the programme's organisers" in json.dumps(call)
    view = open_signup(box, "U0ASKER")
    maturity = [b for b in view["blocks"] if str(b.get("block_id", "")).startswith("maturity")]
    assert maturity and all(len(b["element"]["options"]) <= 10 for b in maturity)
    sign_up(box, "U0ASKER", "mentee", country="France")
    box.fake.wait_for("chat.postMessage", predicate=has("You have signed up", "U0ASKER"))
    sign_up(box, "U0ASKER", "mentee", country="Brazil")
    box.fake.wait_for("chat.postMessage", predicate=has("updated your sign-up", "U0ASKER"))
    with box.db.session() as s:
        [row] = s.exec(select(MentoringParticipant)).all()
    assert row.country == "Brazil" and row.role == "mentee"
    # The second opening is prefilled.
    again = open_signup(box, "U0ASKER")
    assert "Brazil" in json.dumps(again)
    # Nothing about a person's sign-up is posted in a channel.
    assert not [
        m
        for m in box.fake.messages(box.workspace.announcements_channel)
        if "Brazil" in json.dumps(m)
    ]


def test_proposal_respects_constraints_and_confirm_introduces_each_pair_once(
    sandbox: Sandbox,
) -> None:
    """Pairs never break a reporting line or an exclusion; double confirm clicks intro once."""
    box = sandbox
    _signed_up_cohort(box)
    answer = admin(box, "pair Spring")
    assert "score" in answer and Ids.CONFIRM.value in answer
    proposal = proposal_message(box)
    # Click twice at once, as a double click (or two replicas) would.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(
            pool.map(
                lambda _: box.slack.click(
                    box.workspace.admin.id, Ids.CONFIRM.value, message=proposal
                ),
                range(2),
            )
        )
    box.fake.wait_for("chat.postMessage", count=3, predicate=has("meet <@"))
    settle(box)
    pairs = _pairs(box)
    assert len(pairs) == 3
    paired = {(p.mentor_id, p.mentee_id) for p in pairs}
    assert ("U0ALLY1", "U0ASKER") not in paired and ("U0ALLY2", "U0COLLEAGUE") not in paired
    opens = [c for c in box.fake.calls_to("conversations.open") if "," in str(c.args.get("users"))]
    assert len(opens) == 3
    intros = [c for c in box.fake.calls_to("chat.postMessage") if has("meet <@")(c)]
    assert len(intros) == 3
    assert "Getting to know each other" in json.dumps(intros[0].args["blocks"])
    # The scheduler's backstop finds nothing left to send.
    run_due(box, utcnow() + timedelta(minutes=5))
    assert len([c for c in box.fake.calls_to("chat.postMessage") if has("meet <@")(c)]) == 3
    box.fake.wait_for("chat.postEphemeral", predicate=has("already confirmed"))
    # The proposal the admin saw loses its button once confirmed.
    shown = [
        e for e in box.fake.ephemerals(box.workspace.admin.id) if "Proposed pairs" in json.dumps(e)
    ]
    assert "being introduced" in json.dumps(shown[-1])
    assert Ids.CONFIRM.value not in json.dumps(shown[-1])


def test_checkins_at_the_cadence_and_a_lapse_flagged_once(sandbox: Sandbox) -> None:
    """Each pair gets a check-in per cadence; two without a meeting flag the pair once."""
    box = sandbox
    _signed_up_cohort(box)
    admin(box, "pair Spring")
    box.slack.click(box.workspace.admin.id, Ids.CONFIRM.value, message=proposal_message(box))
    box.fake.wait_for("chat.postMessage", count=3, predicate=has("meet <@"))
    settle(box)
    pairs = _pairs(box)
    start = pairs[0].started_at
    week = timedelta(weeks=1)
    assert run_due(box, start + week - timedelta(seconds=1)) == 0
    # Two sweepers at once (two replicas) send each check-in once.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: box.run_due(start + week + timedelta(seconds=1)), range(2)))
    settle(box)
    checks = [c for c in box.fake.calls_to("chat.postMessage") if has(Ids.MET.value)(c)]
    assert len(checks) == 3
    assert {c.args["channel"] for c in checks} == {p.channel for p in pairs}
    # A restart or a second sweeper finds nothing more to send.
    run_due(box, start + week + timedelta(seconds=2))
    assert len([c for c in box.fake.calls_to("chat.postMessage") if has(Ids.MET.value)(c)]) == 3

    met, lapsed = pairs[0], pairs[1]

    def answer(pair: MentoringPair, action: str, meeting: int) -> dict:
        message = next(
            m
            for m in box.fake.messages(str(pair.channel))
            if f"Check-in {meeting}:" in json.dumps(m) and Ids.MET.value in json.dumps(m)
        )
        box.slack.click(pair.mentee_id, action, message=message)
        settle(box)
        return message

    answer(met, Ids.MET.value, 1)
    answer(lapsed, Ids.NOT_MET.value, 1)
    updated = box.fake.calls_to("chat.update")
    assert any("Next:" in json.dumps(c.args["blocks"]) for c in updated)
    # An optional note after the click, by one of the pair.
    answered = next(
        m for m in box.fake.messages(str(met.channel)) if Ids.NOTE.value in json.dumps(m)
    )
    opened = len(box.fake.calls_to("views.open"))
    box.slack.click(met.mentor_id, Ids.NOTE.value, message=answered)
    box.fake.wait_for("views.open", count=opened + 1)
    modal = box.fake.current_view(met.mentor_id)
    assert modal is not None and modal["callback_id"] == Ids.NOTE_VIEW.value
    box.slack.submit_view(met.mentor_id, modal, {Ids.NOTE_INPUT: "Words that matter <!channel>"})
    box.fake.wait_for("chat.update", predicate=has("Note saved"))
    with box.db.session() as s:
        notes = [c.note for c in s.exec(select(MentoringCheckin)) if c.note]
    assert notes == ["Words that matter <!channel>"]
    run_due(box, start + 2 * week + timedelta(seconds=1))
    answer(met, Ids.MET.value, 2)
    second = answer(lapsed, Ids.NOT_MET.value, 2)
    run_due(box, start + 2 * week + timedelta(minutes=5))
    flags = [
        c
        for c in box.fake.calls_to("chat.postMessage")
        if c.args["channel"] == box.workspace.admin.id and has("have not met")(c)
    ]
    assert len(flags) == 1
    assert lapsed.mentor_id in json.dumps(flags[0].args) and met.mentor_id not in json.dumps(
        flags[0].args
    )
    # A second click on an answered check-in changes nothing.
    value = next(b for b in second["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    box.slack.click_raw(lapsed.mentor_id, Ids.MET.value, value, channel=str(lapsed.channel))
    box.fake.wait_for("chat.postEphemeral", predicate=has("already answered"))
    run_due(box, start + 2 * week + timedelta(minutes=10))
    assert len([c for c in box.fake.calls_to("chat.postMessage") if has("have not met")(c)]) == 1


def test_status_leave_offer_close_and_report(sandbox: Sandbox) -> None:
    """`/ally mentoring` shows the pair; leave tells the partner and offers the pool; close
    sends the assessment; the report counts adopted behaviours and DMs each their own."""
    box = sandbox
    _signed_up_cohort(box)
    admin(box, "pair Spring")
    box.slack.click(box.workspace.admin.id, Ids.CONFIRM.value, message=proposal_message(box))
    box.fake.wait_for("chat.postMessage", count=3, predicate=has("meet <@"))
    settle(box)
    pairs = _pairs(box)
    leaver = pairs[0]
    status = ally(box, leaver.mentee_id, "mentoring")
    assert f"<@{leaver.mentor_id}>" in status and "next check-in" in status
    # App Home too.
    box.slack.app_home_opened(leaver.mentee_id)
    home = box.fake.wait_for(
        "views.publish", predicate=lambda c: "Reverse mentoring" in json.dumps(c.args["view"])
    )[0]
    assert f"<@{leaver.mentor_id}>" in json.dumps(home.args["view"])
    # A late sign-up waits in the pool.
    box.fake.add_user("U0LATE", "lee", real_name="Lee Late")
    sign_up(box, "U0LATE", "mentee")
    box.fake.wait_for("chat.postMessage", predicate=has("wait in the pool", "U0LATE"))
    assert "step back" not in ally(box, leaver.mentee_id, "mentoring leave")
    offer = box.fake.wait_for(
        "chat.postMessage", predicate=has(Ids.NEW_PARTNER.value, leaver.mentor_id)
    )[0]
    assert leaver.mentee_id not in json.dumps(offer.args)
    message = next(
        m for m in box.fake.dm_messages(leaver.mentor_id) if Ids.NEW_PARTNER.value in json.dumps(m)
    )
    box.slack.click(leaver.mentor_id, Ids.NEW_PARTNER.value, message=message)
    box.fake.wait_for("chat.postMessage", predicate=has("U0LATE"))
    settle(box)
    assert any(p.mentee_id == "U0LATE" and p.status == "active" for p in _pairs(box))

    assert "closed" in admin(box, "close Spring")
    closing = box.fake.wait_for("chat.postMessage", count=6, predicate=has(Ids.ASSESS.value))
    assert leaver.mentee_id not in {c.args["channel"] for c in closing}
    for person in (*MENTORS, *MENTEES, "U0LATE"):
        if person == leaver.mentee_id:
            continue
        dm = next(m for m in box.fake.dm_messages(person) if Ids.ASSESS.value in json.dumps(m))
        settle(box)
        opened = len(box.fake.calls_to("views.open"))
        box.slack.click(person, Ids.ASSESS.value, message=dm)
        box.fake.wait_for("views.open", count=opened + 1)
        view = box.fake.current_view(person)
        assert view is not None and view["callback_id"] == Ids.ASSESS_VIEW.value
        box.slack.submit_view(person, view, {"maturity_1_1": True, "maturity_2_1": True})
        box.fake.wait_for(
            "chat.postMessage", predicate=has("closing self-assessment is saved", person)
        )
    report = admin(box, "report Spring")
    assert "behaviours adopted" in report and "Overall" in report
    box.fake.wait_for("files.completeUploadExternal")
    own = box.fake.wait_for("chat.postMessage", count=6, predicate=has("Your journey"))
    assert all(c.args["channel"] != box.workspace.admin.id for c in own)


def test_after_downtime_one_checkin_is_sent_not_a_burst(sandbox: Sandbox) -> None:
    """Check-ins due while the bot was down are sent once, and the next is the next ahead."""
    box = sandbox
    _signed_up_cohort(box)
    admin(box, "pair Spring")
    box.slack.click(box.workspace.admin.id, Ids.CONFIRM.value, message=proposal_message(box))
    box.fake.wait_for("chat.postMessage", count=3, predicate=has("meet <@"))
    settle(box)
    start = _pairs(box)[0].started_at
    # Back after five weeks: one check-in per pair, numbered for the first one missed.
    run_due(box, start + timedelta(weeks=5, hours=1))
    checks = [c for c in box.fake.calls_to("chat.postMessage") if has(Ids.MET.value)(c)]
    assert len(checks) == 3
    run_due(box, start + timedelta(weeks=5, hours=2))
    assert len([c for c in box.fake.calls_to("chat.postMessage") if has(Ids.MET.value)(c)]) == 3
    run_due(box, start + timedelta(weeks=6, seconds=1))
    assert len([c for c in box.fake.calls_to("chat.postMessage") if has(Ids.MET.value)(c)]) == 6
