"""Demo scene: the awareness surveys, programme figures and the misuse review (SPEC 3)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.devkit.demo.transcript import Transcript
from bot.devkit.fakeslack import Call
from bot.devkit.sandbox import Sandbox
from handlers.requests.ids import Ids as RequestsIds
from handlers.surveys.ids import Ids

# Colleagues who join the workspace for this scene, so that the survey has a dozen answers.
NEWCOMERS = (
    ("U0SURV1", "dana", "Dana Kowalski"),
    ("U0SURV2", "eli", "Eli Moreau"),
    ("U0SURV3", "fatima", "Fatima Haddad"),
    ("U0SURV4", "goran", "Goran Petrovic"),
    ("U0SURV5", "hana", "Hana Sato"),
    ("U0SURV6", "ines", "Inês Duarte"),
)


def _said(text: str):
    def check(call: Call) -> bool:
        return text in json.dumps(call.args, ensure_ascii=False)

    return check


def _invite(box: Sandbox, user_id: str) -> dict:
    invites = [m for m in box.fake.dm_messages(user_id) if Ids.ANSWER.value in str(m)]
    return invites[-1]


def _button_value(message: dict) -> str:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == Ids.ANSWER.value:
                return str(element["value"])
    raise AssertionError("no answer_survey button")


def play(box: Sandbox, show: Transcript, out: Path) -> None:
    """Olivia runs the awareness survey, reads its results and the figures; a report is
    dismissed."""
    ws = box.workspace
    fake = box.fake
    admin = ws.admin
    show.scene("An awareness survey that cannot expose anyone")
    for user_id, name, real_name in NEWCOMERS:
        fake.add_user(user_id, name, real_name=real_name, display_name=name)
    people = [p.id for p in ws.everyone] + [n[0] for n in NEWCOMERS]

    show.step(f"{admin.real_name} types `/ally-admin survey start awareness`")
    box.slack.slash("/ally-admin", "survey start awareness", user_id=admin.id)
    fake.wait_for("chat.postEphemeral", predicate=_said("Started awareness-1"))
    show.step("The scheduler sends each active member one DM, paced within Slack's limits")
    box.run_due()
    show.flush()

    # Five in Engineering, five in People, two in Sales.
    units = ["Engineering"] * 5 + ["People"] * 5 + ["Sales"] * 2
    show.step(f"{len(units)} colleagues click *Answer the survey* and send their answers")
    run_value = _button_value(_invite(box, people[0]))
    for index, (person, unit) in enumerate(zip(people, units, strict=False)):
        box.slack.click(person, Ids.ANSWER.value, message=_invite(box, person))
        fake.wait_for("views.open", count=index + 1, predicate=_said(Ids.VIEW.value))
        view = fake.current_view(person)
        assert view is not None
        box.slack.submit_view(
            person,
            view,
            {
                "meaning": ("speak_up", "listen", "support")[index % 3],
                "know_what_to_ask": str(2 + index % 4),
                "seen_addressed": str(1 + index % 5),
                "would_ask": "4",
                "would_offer": "5",
                Ids.UNIT: unit,
            },
        )
    first = people[0]
    show.step("One of them clicks the survey's button again, on an old copy of the DM")
    box.slack.click_raw(first, Ids.ANSWER.value, run_value, channel=fake.im_channel(first))
    fake.wait_for("chat.postEphemeral", predicate=_said("already answered"))

    show.step(f"{admin.real_name} closes it: `/ally-admin survey close awareness`")
    box.slack.slash("/ally-admin", "survey close awareness", user_id=admin.id)
    fake.wait_for("chat.postEphemeral", predicate=_said("Closed awareness-1"))
    show.note(
        "the markers that stopped second answers are deleted: nothing links anyone to an answer"
    )

    show.step(f"{admin.real_name} reads the results: `/ally-admin survey results awareness-1`")
    box.slack.slash("/ally-admin", "survey results awareness-1", user_id=admin.id)
    fake.wait_for("files.completeUploadExternal")
    show.note(
        "Sales (2 answers) is under the minimum group of 5, so it is withheld; and since the "
        "total minus Engineering and People would then reveal Sales' 2, Engineering is "
        "withheld as well; only People and the total are shown"
    )

    show.step(f"{admin.real_name} looks at the programme's figures: `/ally-admin stats`")
    box.slack.slash("/ally-admin", "stats", user_id=admin.id)
    fake.wait_for("chat.postEphemeral", predicate=_said("Programme figures"))
    show.flush()

    show.scene("A misuse report, reviewed and dismissed")
    tom = ws.colleague
    show.step(f"{tom.real_name} asks for an ally by name")
    box.slack.slash("/ally", "", user_id=tom.id, channel_id=ws.general_channel)
    fake.wait_for("views.open", predicate=lambda c: RequestsIds.REQUEST_VIEW in json.dumps(c.args))
    view = fake.current_view(tom.id)
    assert view is not None
    box.slack.submit_view(
        tom.id,
        view,
        {
            RequestsIds.KIND: "named",
            RequestsIds.CATEGORY: "speaking_up",
            RequestsIds.DETAILS: "Could someone sit in on Thursday's planning meeting with me?",
            RequestsIds.CONSENT: True,
        },
    )
    fake.wait_for("chat.postMessage", predicate=_said("Thursday's planning"))
    cards = [m for m in fake.messages(ws.allies_channel) if RequestsIds.REPORT in str(m)]
    chen = ws.allies[2]
    show.step(f"{chen.real_name} clicks *Report misuse* on a request card")
    box.slack.click(chen.id, RequestsIds.REPORT, message=cards[0])
    fake.wait_for("chat.postMessage", predicate=_said(Ids.DISMISS.value))
    card = [m for m in fake.messages(ws.volunteers_channel) if Ids.DISMISS.value in str(m)][-1]
    vera = ws.volunteers[0]
    show.step(f"{vera.real_name} reviews it and clicks *Dismiss*")
    box.slack.click(vera.id, Ids.DISMISS.value, message=card)
    fake.wait_for("chat.update", predicate=_said("Dismissed by"))
    show.flush()
