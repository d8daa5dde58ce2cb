"""Demo scene: someone asks the programme to forget them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from bot.devkit.demo.transcript import Transcript
from bot.devkit.sandbox import Sandbox
from bot.rules.forget import CASE_DELAY_MIN, CASE_DELAY_SPREAD
from handlers.forget import Ids
from storage.models.points import PointsEntry
from storage.types import utcnow


def play(box: Sandbox, show: Transcript, out: Path) -> None:
    """Priya types `/ally forget-me`, confirms, and the programme keeps only the counts."""
    ws = box.workspace
    priya = ws.requester
    show.scene("Forget me: deleting someone's data")
    with box.db.read() as session:
        before = session.exec(select(func.sum(PointsEntry.amount))).one()
    show.step(f"{priya.real_name} types `/ally forget-me`; a confirmation opens")
    box.slack.slash("/ally", "forget-me", user_id=priya.id, channel_id=ws.general_channel)
    box.fake.wait_for("views.open", predicate=lambda c: Ids.VIEW in json.dumps(c.args))
    view = box.fake.current_view(priya.id)
    assert view is not None
    show.step(f"{priya.real_name} confirms *Delete my data*")
    box.slack.submit_view(priya.id, view)
    box.fake.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.args["channel"] == priya.id and "data is deleted" in str(c.args),
    )
    box.fake.wait_for(
        "chat.update",
        predicate=lambda c: "*Who asks*\\n_removed_" in json.dumps(c.args.get("blocks")),
    )
    box.idle()  # the confirmation's own run of the follow-ups is over
    with box.db.read() as session:
        after = session.exec(select(func.sum(PointsEntry.amount))).one()
    show.note(
        f"her name and words are gone from the cards and the database; "
        f"business units' points stay ({before} before, {after} after)"
    )
    show.note(
        "her anonymous case no longer leads to her in the database, but its cards change only "
        "hours later, at a random time, so nobody can link it to her named request"
    )
    show.step("Later that day, the scheduler redraws the anonymous case's cards")
    box.run_due(utcnow() + CASE_DELAY_MIN + CASE_DELAY_SPREAD)
