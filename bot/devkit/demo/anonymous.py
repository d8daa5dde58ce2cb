"""Demo scene: an anonymous case from the ask to the close, relay and ally included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.devkit import factories
from bot.devkit.demo.transcript import Transcript
from bot.devkit.sandbox import Sandbox
from handlers.allies import Ids as AlliesIds
from handlers.anonymous.ids import Ids as AnonymousIds
from handlers.requests.ids import Ids as RequestsIds

ASK = (
    "I'm Priya Raman (call me on +44 7700 900123). In design reviews my ideas get repeated "
    "by others and credited to them. I'd like help speaking up without making it a fight."
)


def _wait(box: Sandbox, method: str, predicate: Any) -> Any:
    return box.fake.wait_for(method, predicate=predicate)[-1]


def _card(box: Sandbox) -> dict[str, Any]:
    return [
        m
        for m in box.fake.messages(box.workspace.volunteers_channel)
        if (m.get("blocks") or [{}])[0].get("type") == "header"
    ][-1]


def _opened(box: Sandbox, callback_id: str) -> None:
    def is_it(call: Any) -> bool:
        view = call.args.get("view")
        view = json.loads(view) if isinstance(view, str) else view or {}
        return bool(view.get("callback_id") == callback_id)

    box.fake.wait_for("views.open", predicate=is_it)


def play(box: Sandbox, show: Transcript, out: Path) -> None:
    """Priya asks anonymously; Vera takes the case, they talk, Vera finds Amara, and closes."""
    ws = box.workspace
    priya, vera, amara = ws.requester, ws.volunteers[0], ws.allies[0]
    show.scene("An anonymous request, brokered by a volunteer")
    box.fake.set_members(
        ws.volunteers_channel, [*(v.id for v in ws.volunteers), box.fake.bot_user_id]
    )
    factories.ensure_ally(box.db, amara.id)

    admin = ws.admin
    show.step(f"{admin.real_name} imports the volunteers' business units: `/ally-admin bu import`")
    box.slack.slash("/ally-admin", "bu import", user_id=admin.id, channel_id=ws.general_channel)
    _opened(box, AlliesIds.IMPORT_VIEW)
    csv = "\n".join(f"{v.email},People" for v in ws.volunteers)
    show.note("she pastes: " + csv.replace("\n", " / "))
    view = box.fake.current_view(admin.id)
    assert view is not None
    box.slack.submit_view(admin.id, view, {AlliesIds.CSV: csv})
    box.fake.wait_for("chat.postMessage", predicate=lambda c: "Imported" in str(c.args))

    show.step(f"{priya.real_name} types `/ally` and chooses to ask anonymously")
    box.slack.slash("/ally", "", user_id=priya.id, channel_id=ws.general_channel)
    box.fake.wait_for("views.open", predicate=lambda c: box.fake.current_view(priya.id) is not None)
    box.idle()  # her names are fetched once the modal is open, for the preview's redaction
    modal = box.fake.current_view(priya.id)
    assert modal is not None
    show.flush()
    show.note(f'she writes: "{ASK}"')
    box.slack.submit_view(
        priya.id,
        modal,
        values={
            RequestsIds.KIND: "anonymous",
            RequestsIds.CATEGORY: "speaking_up",
            RequestsIds.DETAILS: ASK,
            RequestsIds.TIMING: "before Thursday's review",
            RequestsIds.CONSENT: True,
        },
    )
    preview = box.fake.current_view(priya.id)
    assert preview is not None
    show.flush()
    show.note("Priya sees the preview, exactly what volunteers will see:")
    for line in show.shown(preview["blocks"]).splitlines():
        show.write(f"    | {line}")
    show.flush()
    show.note("her name and phone number are already gone; she could press Edit to rephrase")

    show.step("Priya presses 'Send anonymously'")
    box.slack.submit_view(priya.id, preview)
    _wait(box, "chat.postMessage", lambda c: str(c.args.get("channel", "")).startswith("D"))
    box.idle()
    show.flush()
    show.note("the volunteers never see Priya's name or ID: only the case handle and the text")

    show.step(f"{vera.real_name} takes the case")
    box.slack.click(vera.id, AnonymousIds.TAKE, message=_card(box))
    # The take's last step: the person behind the case is told (the take is committed).
    _wait(box, "chat.postMessage", lambda c: "has taken" in str(c.args.get("text")))
    box.idle()

    show.step("Vera clicks 'Message requester' and writes to the person behind the case")
    box.slack.click(vera.id, AnonymousIds.MESSAGE, message=_card(box))
    _opened(box, AnonymousIds.RELAY_VIEW)
    relay = box.fake.current_view(vera.id)
    assert relay is not None
    box.slack.submit_view(
        vera.id,
        relay,
        values={
            AnonymousIds.RELAY_INPUT: "Hi, I'm Vera. Would it help if an ally amplified your ideas?"
        },
    )
    _wait(box, "chat.postMessage", lambda c: "amplified" in str(c.args.get("blocks")))
    box.idle()
    show.flush()
    show.note("Vera does not learn who she is writing to; Priya reads it in her case thread")

    show.step("Priya replies in the thread: 'Yes please! Priya here, 07700 900123 works too.'")
    root = [m for m in box.fake.dm_messages(priya.id) if "sent as" in m.get("text", "")][-1]
    box.slack.dm_message(
        priya.id, None, "Yes please! Priya here, 07700 900123 works too.", root["ts"]
    )
    _wait(
        box,
        "chat.postMessage",
        lambda c: c.args.get("channel") == vera.id and "writes" in str(c.args.get("blocks")),
    )
    box.idle()
    show.flush()
    show.note("Vera sees the reply under the case handle, with the name and number removed")

    show.step("Priya tries to send a screenshot in the thread")
    box.slack.dm_message(priya.id, None, "", root["ts"], files=[{"id": "F1", "name": "shot.png"}])
    _wait(box, "chat.postMessage", lambda c: "never passed on" in str(c.args.get("text")))
    box.idle()

    show.step("Vera clicks 'Find an ally': an anonymised ask goes to #allies")
    box.slack.click(vera.id, AnonymousIds.FIND_ALLY, message=_card(box))
    # The find's last step: Vera is told the ask is in #allies (it was posted before).
    _wait(
        box,
        "chat.postMessage",
        lambda c: c.args.get("channel") == vera.id and "allies channel" in str(c.args),
    )
    box.idle()

    show.step(f"{amara.real_name} offers to help")
    ask = box.fake.messages(ws.allies_channel)[-1]
    box.slack.click(amara.id, RequestsIds.OFFER, message=ask)
    offers = _wait(
        box,
        "chat.postMessage",
        lambda c: (
            c.args.get("channel") == vera.id and RequestsIds.CHOOSE in str(c.args.get("blocks"))
        ),
    )
    box.idle()

    show.step("Vera chooses Amara")
    box.slack.click(
        vera.id,
        RequestsIds.CHOOSE,
        message=box.fake.message(offers.response["channel"], offers.response["ts"]),
    )
    _wait(box, "chat.postMessage", lambda c: "ally has been found" in str(c.args.get("text")))
    box.idle()
    show.flush()
    show.note("Amara is introduced to Vera, not to Priya; only Priya can reveal herself")

    show.step("Vera closes the case as helped")
    box.slack.click(vera.id, AnonymousIds.CLOSE, message=_card(box))
    _opened(box, AnonymousIds.CLOSE_VIEW)
    closing = box.fake.current_view(vera.id)
    assert closing is not None
    box.slack.submit_view(vera.id, closing, values={AnonymousIds.OUTCOME: "helped"})
    _wait(box, "chat.postMessage", lambda c: "was closed" in str(c.args.get("text")))
    box.idle()
    show.flush()
    show.note(
        "the case's text and its sealed link to Priya are deleted "
        f"{box.settings.retention_days} days after the close; the count and outcome stay"
    )
