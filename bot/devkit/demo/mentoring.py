"""Demo scene: reverse mentoring (SPEC 4), from the call to the report."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from bot.devkit.demo.transcript import Transcript
from bot.devkit.fakeslack import Call
from bot.devkit.sandbox import Person, Sandbox
from handlers.mentoring.ids import Ids
from storage.models.mentoring import MentoringPair

COHORT = "Demo cohort"
CADENCE = timedelta(weeks=2)


def _has(text: str, channel: str | None = None) -> Any:
    def check(call: Call) -> bool:
        where = channel is None or call.args.get("channel") == channel
        shown = str(call.args.get("text")) + json.dumps(call.args.get("blocks"), ensure_ascii=False)
        return where and text in shown

    return check


def _admin(box: Sandbox, text: str, expect: str) -> None:
    box.idle()
    box.slack.slash(
        "/ally-admin",
        f"mentoring {text}",
        user_id=box.workspace.admin.id,
        channel_id=box.workspace.general_channel,
    )
    box.fake.wait_for("chat.postEphemeral", predicate=_has(expect))
    box.idle()


def _sign_up(box: Sandbox, person: Person, values: dict[str, Any]) -> None:
    box.idle()
    call = next(
        m
        for m in box.fake.messages(box.workspace.announcements_channel)
        if Ids.SIGNUP.value in json.dumps(m)
    )
    opened = len(box.fake.calls_to("views.open"))
    box.slack.click(person.id, Ids.SIGNUP.value, message=call)
    box.fake.wait_for("views.open", count=opened + 1)
    view = box.fake.current_view(person.id)
    assert view is not None
    box.slack.submit_view(person.id, view, values)
    box.fake.wait_for("chat.postMessage", predicate=_has("signed up", person.id))


def _values(role: str, unit: str, country: str, interests: list[str], **extra: Any) -> dict:
    values: dict[str, Any] = {
        Ids.ROLE: role,
        Ids.BUSINESS_UNIT: unit,
        Ids.COUNTRY: country,
        Ids.SENIORITY: "Director" if role == "mentee" else "Specialist",
        Ids.INTERESTS: interests,
        "maturity_1_1": role == "mentor",
    }
    values.update(extra)
    return values


def _answer(box: Sandbox, pair: MentoringPair, meeting: int, action: str) -> None:
    message = next(
        m
        for m in box.fake.messages(str(pair.channel))
        if f"Check-in {meeting}:" in json.dumps(m) and Ids.MET.value in json.dumps(m)
    )
    box.slack.click(pair.mentee_id, action, message=message)
    box.fake.wait_for("chat.update", predicate=_has(f"Check-in {meeting}:", str(pair.channel)))
    box.idle()


def play(box: Sandbox, show: Transcript, out: Path) -> None:
    """A small cohort: call, sign-ups, proposal, confirm, intros, two check-ins, close, report."""
    ws = box.workspace
    amara, ben, chen = ws.allies
    priya, tom, vera = ws.requester, ws.colleague, ws.volunteers[0]
    show.scene("Reverse mentoring: a cohort from the call to the report")

    show.step(f"{ws.admin.real_name} creates a six-month cohort meeting every two weeks")
    _admin(box, f"cohort {COHORT} 6 2w", "created")
    show.step("…and posts the call for participants to #announcements")
    _admin(box, f"call {COHORT}", "posted")

    show.step("Three community members sign up as mentors, three leaders as mentees")
    _sign_up(box, amara, _values("mentor", "Engineering", "Nigeria", ["coming_out", "careers"]))
    _sign_up(box, ben, _values("mentor", "Sales", "UK", ["trans_inclusion", "families"]))
    _sign_up(box, chen, _values("mentor", "People", "China", ["inclusive_language", "careers"]))
    show.note(f"{priya.real_name} reports to {amara.real_name}; {tom.real_name} excludes Ben")
    _sign_up(
        box,
        priya,
        _values("mentee", "Engineering", "India", ["careers", "coming_out"], reports_to=amara.id),
    )
    _sign_up(box, tom, _values("mentee", "Sales", "UK", ["trans_inclusion"], exclude=[ben.id]))
    _sign_up(box, vera, _values("mentee", "Finance", "Sweden", ["inclusive_language"]))

    show.step(f"{ws.admin.real_name} asks for the pairing: each pair with its score and reasons")
    _admin(box, f"pair {COHORT}", "Proposed pairs")
    proposal = [e for e in box.fake.ephemerals(ws.admin.id) if Ids.CONFIRM.value in json.dumps(e)][
        -1
    ]
    show.step("…and confirms it (a double click introduces each pair once)")
    box.slack.click(ws.admin.id, Ids.CONFIRM.value, message=proposal)
    box.slack.click(ws.admin.id, Ids.CONFIRM.value, message=proposal)
    box.fake.wait_for("chat.postMessage", count=3, predicate=_has("meet <@"))
    box.idle()

    with box.db.session() as session:
        pairs = list(session.exec(select(MentoringPair).where(MentoringPair.status == "active")))
    pairs = pairs[-3:]
    start = pairs[0].started_at
    keen, quiet = pairs[0], pairs[1]

    show.step("Two weeks later: the first check-in in each pair's group DM")
    box.run_due(start + CADENCE + timedelta(seconds=1))
    box.idle()
    _answer(box, keen, 1, Ids.MET.value)
    _answer(box, quiet, 1, Ids.NOT_MET.value)
    show.step("Four weeks in: the second check-in; one pair has not met twice in a row")
    box.run_due(start + 2 * CADENCE + timedelta(seconds=1))
    box.idle()
    _answer(box, keen, 2, Ids.MET.value)
    _answer(box, quiet, 2, Ids.NOT_MET.value)
    box.fake.wait_for("chat.postMessage", predicate=_has("have not met", ws.admin.id))
    show.note("the organisers are told once about that pair, and only that pair")

    show.step("Six months on, the admin closes the cohort: everyone gets the closing assessment")
    _admin(box, f"close {COHORT}", "is closed")
    for person in (amara, ben, chen, priya, tom, vera):
        dm = next(m for m in box.fake.dm_messages(person.id) if Ids.ASSESS.value in json.dumps(m))
        box.idle()
        opened = len(box.fake.calls_to("views.open"))
        box.slack.click(person.id, Ids.ASSESS.value, message=dm)
        box.fake.wait_for("views.open", count=opened + 1)
        view = box.fake.current_view(person.id)
        assert view is not None
        box.slack.submit_view(
            person.id, view, {"maturity_1_1": True, "maturity_2_1": True, "maturity_3_1": True}
        )
        box.fake.wait_for("chat.postMessage", predicate=_has("assessment is saved", person.id))

    show.step("The admin asks for the report: per person, overall, and a chart")
    uploads = len(box.fake.uploaded_files())
    _admin(box, f"report {COHORT}", "Mentoring report")
    box.fake.wait_for("files.completeUploadExternal")
    box.fake.wait_for("chat.postMessage", count=6, predicate=_has("Your journey"))
    box.idle()
    files = box.fake.uploaded_files()
    if len(files) > uploads:
        _, content = box.fake.uploaded_file(files[-1]["id"])
        if content:
            out.mkdir(parents=True, exist_ok=True)
            (out / "mentoring-report.png").write_bytes(content)
            show.note(f"the chart is saved as {out / 'mentoring-report.png'}")
