"""`/ally-admin export [YYYY]`: two CSV files in the admin's DM, with no requester or reporter
IDs and no request or story text."""

from __future__ import annotations

import csv
import io

from sqlmodel import select

from bot.devkit import factories
from bot.devkit.sandbox import Sandbox
from bot.rules.points import ledger as points_ledger
from handlers.requests.ids import Ids as RequestsIds
from handlers.yearend.ids import Ids
from storage.models.anonymous import AnonymousCase
from storage.types import utcnow
from tests.handlers.yearend_flows import ALLY, REPORTER, VOL_OTHER, click, setup, tell_story
from tests.helpers import settle, until

SECRET_ASK = "Please help, my manager keeps talking over me in standups"
STORY_TEXT = "She made room for my voice in the design review"


def _anonymous_case(box: Sandbox, asker: str) -> None:
    """An anonymous request through the modal and its preview."""
    box.slack.slash("/ally", "", user_id=asker, channel_id=box.workspace.general_channel)
    view = until(lambda: box.fake.current_view(asker))
    box.slack.submit_view(
        asker,
        view,
        {
            RequestsIds.KIND: "anonymous",
            RequestsIds.CATEGORY: "career_advice",
            RequestsIds.DETAILS: SECRET_ASK,
            RequestsIds.CONSENT: True,
        },
    )
    preview = until(
        lambda: (
            (v := box.fake.current_view(asker)) and v["callback_id"] != view["callback_id"] and v
        )
    )
    box.slack.submit_view(asker, preview)

    def filed() -> bool:
        with box.db.session() as s:
            return s.execute(select(AnonymousCase)).first() is not None

    until(filed)


def _files(box: Sandbox) -> dict[str, bytes]:
    out = {}
    for file in box.fake.uploaded_files():
        meta, content = box.fake.uploaded_file(file["id"])
        assert content is not None
        out[str(meta.get("name") or meta.get("title"))] = content
    return out


def test_export_holds_no_identities_and_no_text(sandbox: Sandbox) -> None:
    """A year with an anonymous case, a named match, an accepted story and an adjustment
    naming someone: both files arrive in the admin's DM, and no requester or reporter ID,
    no request or story text is in their bytes."""
    box = sandbox
    setup(box)
    asker = box.workspace.colleague.id
    _anonymous_case(box, asker)
    match_id = factories.match(box.db, box.settings, matched_at=utcnow(), requester=REPORTER)
    sales = factories.business_unit(box.db, "Sales")
    with box.db.session() as s:
        points_ledger.award_allyship(s, match_id=match_id, settings=box.settings)
        points_ledger.add_entry(
            s,
            business_unit_id=sales,
            amount=-1,
            kind=points_ledger.ADJUSTMENT,
            reason=f"typo reported by <@{REPORTER}> and {asker}",
            source="adjust:1",
        )
    card = tell_story(box, STORY_TEXT)
    click(box, VOL_OTHER, card, Ids.ACCEPT_STORY)
    until(lambda: any("accepted" in str(m) for m in box.fake.dm_messages(REPORTER)))
    settle(box)
    box.fake.reset_calls()
    admin = box.workspace.admin.id
    box.slack.slash("/ally-admin", f"export {utcnow().year}", user_id=admin, channel_id="C0GENERAL")
    box.fake.wait_for("files.completeUploadExternal")
    [opened] = box.fake.calls_to("conversations.open")
    assert opened.args["users"] == admin
    files = _files(box)
    assert len(files) == 2
    everything = b"".join(files.values())
    for secret in (asker, REPORTER, ALLY, SECRET_ASK, STORY_TEXT, "talking over me"):
        assert secret.encode() not in everything, secret
    ledger = next(v for k, v in files.items() if "ledger" in k.lower()).decode()
    rows = list(csv.DictReader(io.StringIO(ledger)))
    assert {r["source_kind"] for r in rows} >= {"match", "story", "adjust"}
    assert any(r["business_unit"] == "Engineering" and r["amount"] == "5" for r in rows)
    outcomes = next(v for k, v in files.items() if "outcome" in k.lower()).decode()
    kinds = [r["kind"] for r in csv.DictReader(io.StringIO(outcomes))]
    assert "anonymous" in kinds and "named" in kinds and "story" in kinds


def test_export_of_an_empty_year_says_so(sandbox: Sandbox) -> None:
    """A year with nothing in it is answered, and nothing is uploaded."""
    box = sandbox
    box.slack.slash(
        "/ally-admin", "export 2001", user_id=box.workspace.admin.id, channel_id="C0GENERAL"
    )
    [answer] = box.fake.wait_for("chat.postEphemeral")
    assert "nothing to export for 2001" in answer.args["text"]
    assert box.fake.uploaded_files() == []
