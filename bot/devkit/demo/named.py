"""Demo scene: a named request, from the ask to the introduction."""

from __future__ import annotations

import json
from pathlib import Path

from bot.devkit.demo.transcript import Transcript
from bot.devkit.fakeslack import Call
from bot.devkit.sandbox import Sandbox
from handlers.allies import Ids as AlliesIds
from handlers.requests.ids import Ids as RequestsIds


def _has(text: str, channel: str | None = None):
    def check(call: Call) -> bool:
        where = channel is None or call.args.get("channel") == channel
        return where and text in json.dumps(call.args.get("blocks"), ensure_ascii=False)

    return check


def play(box: Sandbox, show: Transcript, out: Path) -> None:
    """Priya asks by name; Amara offers by button, Ben by reaction; Priya chooses Ben."""
    ws = box.workspace
    priya, (amara, ben, _chen) = ws.requester, ws.allies
    fake = box.fake
    show.scene("A named request: from the ask to the introduction")

    for ally, unit in ((amara, "Engineering"), (ben, "Sales")):
        show.step(f"{ally.real_name} types `/ally join` and signs up as an ally in {unit}")
        box.slack.slash("/ally", "join", user_id=ally.id, channel_id=ws.general_channel)
        fake.wait_for("views.open", predicate=lambda c: AlliesIds.SIGNUP_VIEW in json.dumps(c.args))
        view = fake.current_view(ally.id)
        assert view is not None
        box.slack.submit_view(
            ally.id, view, {AlliesIds.BUSINESS_UNIT: unit, AlliesIds.AVAILABILITY: "available"}
        )
        fake.wait_for("chat.postMessage", predicate=_has("You are an ally", ally.id))

    show.step(f"{priya.real_name} types `/ally`; the request modal opens")
    box.slack.slash("/ally", "", user_id=priya.id, channel_id=ws.general_channel)
    fake.wait_for("views.open", predicate=lambda c: RequestsIds.REQUEST_VIEW in json.dumps(c.args))
    view = fake.current_view(priya.id)
    assert view is not None
    show.step(f"{priya.real_name} asks by name for career advice and submits")
    box.slack.submit_view(
        priya.id,
        view,
        {
            RequestsIds.KIND: "named",
            RequestsIds.CATEGORY: "career_advice",
            RequestsIds.DETAILS: "I have my promotion panel next week and would love to rehearse "
            "my pitch with someone who has sat on one. <!channel> stays literal.",
            RequestsIds.TIMING: "before Friday's review",
            RequestsIds.CONSENT: True,
        },
    )
    fake.wait_for("chat.postMessage", predicate=_has(RequestsIds.OFFER, ws.allies_channel))
    fake.wait_for("chat.postMessage", predicate=_has(RequestsIds.WITHDRAW, priya.id))
    card = fake.messages(ws.allies_channel)[-1]

    show.step(f"{amara.real_name} clicks *I can help* on the card")
    box.slack.click(amara.id, RequestsIds.OFFER, message=card)
    fake.wait_for("chat.postMessage", predicate=_has(RequestsIds.CHOOSE, priya.id))

    show.step(f"{ben.real_name} reacts to the card with :{box.settings.interest_emoji}:")
    box.slack.reaction_added(ben.id, box.settings.interest_emoji, card["channel"], card["ts"])
    fake.wait_for("chat.update", predicate=_has(ben.id))

    offers = next(m for m in fake.dm_messages(priya.id) if RequestsIds.CHOOSE in json.dumps(m))
    ben_offer = next(
        b["accessory"]["value"]
        for b in offers["blocks"]
        if b.get("accessory") and ben.id in b["text"]["text"]
    )
    show.step(f"{priya.real_name} chooses {ben.real_name} in her DM")
    box.slack.click(priya.id, RequestsIds.CHOOSE, message=offers, value=ben_offer)
    fake.wait_for("chat.postMessage", predicate=_has("Tips from the ally handbook"))
    fake.wait_for("chat.update", predicate=_has("Matched", ws.allies_channel))
    fake.wait_for("chat.postMessage", predicate=_has("chose another ally", amara.id))
    fake.wait_for("chat.update", predicate=_has("You chose"))
    show.note("the card shows 'matched' with no live button; feedback is scheduled for later")
