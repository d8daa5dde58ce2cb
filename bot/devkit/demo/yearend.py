"""Demo scene: the year-end programme (SPEC 2.6): stories, events, nudges, awards, export."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app.scheduler import last_fire_time, schedule_stories_call
from bot.devkit import factories
from bot.devkit.demo.transcript import Transcript
from bot.devkit.fakeslack import Call
from bot.devkit.sandbox import Sandbox
from handlers.yearend.ids import Ids
from storage.types import utcnow


def _until(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, "the demo did not reach the expected state"
            return value
        time.sleep(0.02)


def _has(text: str, channel: str | None = None) -> Callable[[Call], bool]:
    def check(call: Call) -> bool:
        where = channel is None or call.args.get("channel") == channel
        return where and text in json.dumps(call.args, ensure_ascii=False)

    return check


def _card(box: Sandbox, action: str) -> dict[str, Any]:
    channel = box.workspace.volunteers_channel
    return _until(
        lambda: next(
            (m for m in reversed(box.fake.messages(channel)) if action in json.dumps(m)), None
        )
    )


def _admin(box: Sandbox, text: str, count: int = 1) -> list[Call]:
    before = len(box.fake.calls_to("chat.postEphemeral"))
    admin = box.workspace.admin.id
    box.slack.slash("/ally-admin", text, user_id=admin, channel_id=box.workspace.general_channel)
    return box.fake.wait_for("chat.postEphemeral", count=before + count)[before:]


def _message(call: Call) -> dict[str, Any]:
    blocks = call.args["blocks"]
    return {
        "ts": "1.0",
        "channel": call.args["channel"],
        "blocks": json.loads(blocks) if isinstance(blocks, str) else blocks,
    }


def _setup(box: Sandbox) -> None:
    """Amara is an ally in Engineering; Wale volunteers from Engineering, Vera from People."""
    ws = box.workspace
    amara = ws.allies[0]
    vera, wale = ws.volunteers
    factories.ensure_ally(box.db, amara.id)
    for person, unit in ((vera, "People"), (wale, "Engineering")):
        factories.member(box.db, person.id, unit)
    members = [p.id for p in ws.volunteers]
    box.fake.set_members(ws.volunteers_channel, [*members, box.fake.bot_user_id])


def play(box: Sandbox, show: Transcript, out: Path) -> None:
    """Play this feature's scene."""
    ws = box.workspace
    fake = box.fake
    priya, tom, admin = ws.requester, ws.colleague, ws.admin
    amara = ws.allies[0]
    vera, wale = ws.volunteers
    show.scene("The year end: stories, events, nudges, awards and the export")
    _setup(box)

    now = utcnow()
    fire = last_fire_time(
        box.settings, now, within=timedelta(days=400), trigger=box.settings.stories_call_trigger()
    )
    show.step(f"The call-for-stories cron (`{box.settings.stories_call_cron}`) fires")
    schedule_stories_call(box.db, box.settings, fire or now, within=timedelta(days=400))
    box.run_due(utcnow())
    call_post = _until(
        lambda: next(
            (
                m
                for m in reversed(fake.messages(ws.announcements_channel))
                if Ids.OPEN_STORY in json.dumps(m)
            ),
            None,
        )
    )

    show.step(f"{priya.real_name} clicks *Share a story* and tells how {amara.real_name} helped")
    box.slack.click(priya.id, Ids.OPEN_STORY, message=call_post)
    view = _until(lambda: fake.current_view(priya.id))
    box.slack.submit_view(
        priya.id,
        view,
        {
            Ids.ALLY: amara.id,
            Ids.WHAT: "Amara made sure my idea was credited to me in the design review, "
            "after it had been repeated by someone else. <!channel> stays literal.",
            Ids.WHEN: (now - timedelta(days=20)).date().isoformat(),
        },
    )
    story = _card(box, Ids.ACCEPT_STORY)
    show.note("the card names the ally and their unit, never who reported it")

    show.step(f"{wale.real_name} (Engineering, the ally's unit) clicks *Accept*")
    box.slack.click(wale.id, Ids.ACCEPT_STORY, message=story, channel=ws.volunteers_channel)
    fake.wait_for("chat.postEphemeral", predicate=_has("another unit", ws.volunteers_channel))
    show.note("refused on the server: a volunteer of the ally's unit cannot assess the story")

    show.step(f"{vera.real_name} (People) marks it creative, then accepts it")
    box.slack.click(vera.id, Ids.MARK_CREATIVE, message=story, channel=ws.volunteers_channel)
    fake.wait_for("chat.update", predicate=_has("marked creative", ws.volunteers_channel))
    story = _card(box, Ids.MARK_CREATIVE)
    box.slack.click(vera.id, Ids.ACCEPT_STORY, message=story, channel=ws.volunteers_channel)
    fake.wait_for("chat.postMessage", predicate=_has("your allyship", amara.id))
    show.note("5 points for Engineering, once; Priya and Amara are told by DM")

    show.step(f"{tom.real_name} types `/ally event` and logs Sales' lunch-and-learn")
    box.slack.slash("/ally", "event", user_id=tom.id, channel_id=ws.general_channel)
    view = _until(lambda: fake.current_view(tom.id))
    box.slack.submit_view(
        tom.id,
        view,
        {
            Ids.TITLE: "Everyday allyship lunch-and-learn",
            Ids.WHAT: "Forty people from Sales practised speaking up in meetings.",
            Ids.DATE: (now - timedelta(days=10)).date().isoformat(),
            Ids.BUSINESS_UNIT: "Sales",
        },
    )
    event = _card(box, Ids.ACCEPT_EVENT)
    show.step(f"{vera.real_name} marks the event creative and accepts it")
    box.slack.click(vera.id, Ids.MARK_CREATIVE, message=event, channel=ws.volunteers_channel)
    fake.wait_for("chat.update", predicate=_has("Everyday allyship", ws.volunteers_channel))
    event = _card(box, Ids.ACCEPT_EVENT)
    box.slack.click(vera.id, Ids.ACCEPT_EVENT, message=event, channel=ws.volunteers_channel)
    fake.wait_for("chat.postMessage", predicate=_has("was accepted", tom.id))
    show.note("15 points for Sales, once")

    show.step(f"{admin.real_name} names {tom.real_name} as Finance's contact, then previews")
    _admin(box, f"bu contact Finance <@{tom.id}|tom>")
    preview = _admin(box, "nudges")[-1]
    show.step(f"{admin.real_name} clicks *Send the invitations*")
    box.slack.click(admin.id, Ids.SEND_NUDGES, message=_message(preview))
    fake.wait_for("chat.postEphemeral", predicate=_has("on their way"))
    show.step("The scheduler sends the invitations, paced")
    for minutes in (1, 2, 3):
        box.run_due(utcnow() + timedelta(minutes=minutes))
    show.note("each unit is invited once this year, however often the button is pressed")

    year = now.astimezone(box.settings.zone).year
    show.step(f"{admin.real_name} types `/ally-admin awards {year}`")
    standings = _admin(box, f"awards {year}", count=3)
    show.note(
        "most creative: Engineering and Sales tie at 1; the tie rule (hand adjustments, then "
        "the earlier last qualifying act) decides, and the standings say so"
    )
    show.step(f"{admin.real_name} clicks *Announce the {year} awards* (twice)")
    for _ in range(2):
        box.slack.click(admin.id, Ids.CONFIRM_AWARDS, message=_message(standings[-1]))
    fake.wait_for("chat.postMessage", predicate=_has("allyship awards", ws.announcements_channel))
    fake.wait_for("files.completeUploadExternal")
    fake.wait_for("chat.postEphemeral", predicate=_has("already announced"))
    fake.wait_for("chat.postEphemeral", predicate=_has("are announced in"))
    files = fake.uploaded_files()
    if files:
        _, content = fake.uploaded_file(files[-1]["id"])
        if content:
            out.mkdir(parents=True, exist_ok=True)
            path = out / "awards.png"
            path.write_bytes(content)
            show.note(f"one announcement; its chart is saved in {path}")

    show.step(f"{admin.real_name} types `/ally-admin export {year}`")
    uploads = len(fake.calls_to("files.completeUploadExternal"))
    box.slack.slash(
        "/ally-admin", f"export {year}", user_id=admin.id, channel_id=ws.general_channel
    )
    fake.wait_for("files.completeUploadExternal", count=uploads + 1)
    for file in fake.uploaded_files()[-2:]:
        meta, content = fake.uploaded_file(file["id"])
        name = str(meta.get("name") or "export.csv")
        if content and name.endswith(".csv"):
            (out / name).write_bytes(content)
            show.note(f"{name} saved in {out}: dates, units, amounts and outcomes, no IDs")
