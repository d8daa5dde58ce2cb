"""Steps of the reverse-mentoring flow through the real app, shared by its tests."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.devkit.fakeslack import Call
from bot.devkit.sandbox import Sandbox
from handlers.mentoring.ids import Ids
from tests.helpers import settle

GENERAL = "C0GENERAL"


def has(text: str, channel: str | None = None) -> Any:
    """A predicate: the call's text or blocks contain `text` (in `channel`, if given)."""

    def check(call: Call) -> bool:
        where = channel is None or call.args.get("channel") == channel
        shown = str(call.args.get("text")) + json.dumps(call.args.get("blocks"), ensure_ascii=False)
        return where and text in shown

    return check


def admin(box: Sandbox, text: str) -> str:
    """Run `/ally-admin mentoring TEXT` and return the private answer's text and blocks."""
    settle(box)
    before = len(box.fake.calls_to("chat.postEphemeral"))
    box.slack.slash(
        "/ally-admin", f"mentoring {text}", user_id=box.workspace.admin.id, channel_id=GENERAL
    )
    calls = box.fake.wait_for("chat.postEphemeral", count=before + 1)
    call = calls[before]
    return str(call.args["text"]) + json.dumps(call.args.get("blocks"), ensure_ascii=False)


def ally(box: Sandbox, user_id: str, text: str) -> str:
    """Run `/ally TEXT` as a person and return the private answer."""
    settle(box)
    before = len(box.fake.calls_to("chat.postEphemeral"))
    box.slack.slash("/ally", text, user_id=user_id, channel_id=GENERAL)
    call = box.fake.wait_for("chat.postEphemeral", count=before + 1)[before]
    return str(call.args["text"]) + json.dumps(call.args.get("blocks"), ensure_ascii=False)


def call_message(box: Sandbox) -> dict[str, Any]:
    """The call for participants in the announcements channel."""
    channel = box.workspace.announcements_channel
    return next(m for m in box.fake.messages(channel) if Ids.SIGNUP.value in json.dumps(m))


def open_signup(box: Sandbox, user_id: str) -> dict[str, Any]:
    """Click the call's button; the sign-up view the person sees."""
    settle(box)
    before = len(box.fake.calls_to("views.open"))
    box.slack.click(user_id, Ids.SIGNUP.value, message=call_message(box))
    box.fake.wait_for("views.open", count=before + 1)
    view = box.fake.current_view(user_id)
    assert view is not None and view["callback_id"] == Ids.SIGNUP.value
    return view


def signup_values(
    role: str,
    *,
    unit: str = "Engineering",
    country: str = "France",
    interests: tuple[str, ...] = ("coming_out", "inclusive_leadership"),
    reports_to: str | None = None,
    exclude: tuple[str, ...] = (),
    maturity: bool | list[str] = False,
) -> dict[str, Any]:
    """Values by block_id for the sign-up view."""
    values: dict[str, Any] = {
        Ids.ROLE: role,
        Ids.BUSINESS_UNIT: unit,
        Ids.COUNTRY: country,
        Ids.SENIORITY: "Director" if role == "mentee" else "Engineer",
        Ids.INTERESTS: list(interests),
        Ids.REPORTS_TO: reports_to,
        Ids.EXCLUDE: list(exclude),
    }
    if maturity:
        values["maturity_1_1"] = maturity
    return values


def sign_up(box: Sandbox, user_id: str, role: str, **kwargs: Any) -> Any:
    """Sign up through the call's button and the view; the submission's response."""
    view = open_signup(box, user_id)
    return box.slack.submit_view(user_id, view, signup_values(role, **kwargs))


def proposal_message(box: Sandbox) -> dict[str, Any]:
    """The newest proposal shown to the admin (an ephemeral message)."""
    shown = [
        e for e in box.fake.ephemerals(box.workspace.admin.id) if Ids.CONFIRM.value in json.dumps(e)
    ]
    return shown[-1]


def run_due(box: Sandbox, when: datetime) -> int:
    """One sweep at `when`, then wait for the work it started."""
    ran = box.run_due(when)
    settle(box)
    return ran
