"""`/ally-admin leaderboard`, `/ally-admin points adjust` and the cron's post with its chart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app.scheduler import schedule_leaderboard
from bot.devkit import factories
from bot.devkit.fakeslack.server import Call
from bot.devkit.sandbox import Sandbox
from bot.rules.points import leaderboard, ledger
from storage.models.points import PointsEntry
from storage.models.programme import BusinessUnit
from storage.models.schedule import DueItem
from storage.types import utcnow
from tests.helpers import settle

# Slack refuses whole messages over about 12,000 characters (SLACK_FACTS, Block Kit limits).
MESSAGE_CHARS = 12_000


def _seed(box: Sandbox) -> None:
    eng = factories.business_unit(box.db, "Engineering")
    factories.business_unit(box.db, "Sales")
    with box.db.session() as s:
        ledger.add_entry(
            s,
            business_unit_id=eng,
            amount=10,
            kind=ledger.ALLYSHIP,
            reason="r",
            source="match:1:ally",
        )


def _admin(box: Sandbox, text: str) -> str:
    box.fake.reset_calls()
    box.slack.slash("/ally-admin", text, user_id=box.workspace.admin.id, channel_id="C0GENERAL")
    [call] = box.fake.wait_for("chat.postEphemeral")
    return str(call.args["text"]) + str(call.args.get("blocks"))


def test_leaderboard_shows_one_line_per_bu_for_the_current_year(sandbox: Sandbox) -> None:
    """The default period is this year; each BU has a line like `Engineering: 10 points`."""
    _seed(sandbox)
    answer = _admin(sandbox, "leaderboard")
    assert "Engineering: 10 points" in answer and "Sales: 0 points" in answer
    assert str(utcnow().year) in answer
    assert answer.index("Engineering") < answer.index("Sales")
    for period in ("month", "quarter", "year", str(utcnow().year)):
        assert "Engineering: 10 points" in _admin(sandbox, f"leaderboard {period}")
    assert "Engineering: 0 points" in _admin(sandbox, "leaderboard 2001")


def test_a_bad_period_gets_a_clear_message(sqlite_sandbox: Sandbox) -> None:
    """An unknown period names the ones that work."""
    answer = _admin(sqlite_sandbox, "leaderboard fortnight")
    assert "not a period" in answer and "quarter" in answer


def test_non_admins_are_refused(sqlite_sandbox: Sandbox) -> None:
    """Standings and adjustments are for admins only."""
    box = sqlite_sandbox
    _seed(box)
    for text in ("leaderboard", "points adjust Engineering 5 reason"):
        box.fake.reset_calls()
        box.slack.slash(
            "/ally-admin", text, user_id=box.workspace.colleague.id, channel_id="C0GENERAL"
        )
        [call] = box.fake.wait_for("chat.postEphemeral")
        assert "for programme admins" in call.args["text"]
    with box.db.session() as s:
        assert len(list(s.execute(select(PointsEntry)).scalars())) == 1


def test_points_adjust_appends_a_signed_row_with_its_reason(sandbox: Sandbox) -> None:
    """`points adjust Engineering -5 double counted event` adds a row; nothing is deleted."""
    box = sandbox
    _seed(box)
    answer = _admin(box, "points adjust engineering -5 double counted <!channel>")
    assert "-5" in answer and "Engineering" in answer and "<!channel>" not in answer
    with box.db.session() as s:
        rows = list(s.execute(select(PointsEntry).order_by(PointsEntry.id)).scalars())
    assert [r.amount for r in rows] == [10, -5]
    assert rows[1].reason == "double counted <!channel>" and rows[1].actor == box.workspace.admin.id
    assert "Engineering: 5 points" in _admin(box, "leaderboard")


def test_bad_adjustments_get_clear_private_messages(sqlite_sandbox: Sandbox) -> None:
    """Unknown BU, a non-integer amount and an empty reason are each explained."""
    box = sqlite_sandbox
    _seed(box)
    assert "no business unit called" in _admin(box, "points adjust Marketing 5 reason")
    assert "whole number" in _admin(box, "points adjust Engineering five reason")
    assert "reason" in _admin(box, "points adjust Engineering 5")
    assert "points adjust" in _admin(box, "points")
    with box.db.session() as s:
        assert len(list(s.execute(select(PointsEntry)).scalars())) == 1


def test_units_with_numbers_in_their_names_can_be_adjusted(sandbox: Sandbox) -> None:
    """`points adjust region 10 -3 typo` adjusts "Region 10", not "Region" or "Region 1"."""
    box = sandbox
    ids = {
        name: factories.business_unit(box.db, name)
        for name in ("Region 1", "Region 10", "2030 Vision")
    }
    assert "-3 points* for *Region 10*" in _admin(box, "points adjust region 10 -3 typo")
    assert "+7 points* for *2030 Vision*" in _admin(box, "points adjust 2030 Vision 7 event")
    assert "+2 points* for *Region 1*" in _admin(box, "points adjust Region 1 2 fixed")
    with box.db.session() as s:
        rows = list(s.execute(select(PointsEntry).order_by(PointsEntry.id)).scalars())
    assert [(r.business_unit_id, r.amount, r.reason) for r in rows] == [
        (ids["Region 10"], -3, "typo"),
        (ids["2030 Vision"], 7, "event"),
        (ids["Region 1"], 2, "fixed"),
    ]


def test_the_cron_posts_standings_with_a_chart_once(sandbox: Sandbox) -> None:
    """Two replicas firing the cron make one post: text in announcements, then a PNG chart."""
    box = sandbox
    _seed(box)
    fired = datetime(utcnow().year, 12, 1, 9, 0, 30, tzinfo=UTC)
    key = schedule_leaderboard(box.db, box.settings, fired)
    assert key == schedule_leaderboard(box.db, box.settings, fired + timedelta(seconds=20))
    assert box.run_due(fired + timedelta(minutes=1)) == 1
    assert box.run_due(fired + timedelta(minutes=2)) == 0
    [post] = box.fake.calls_to("chat.postMessage")
    assert post.args["channel"] == box.workspace.announcements_channel
    assert "Engineering: 10 points" in post.args["text"]
    [file] = box.fake.uploaded_files()
    assert box.workspace.announcements_channel in str(file)
    _, content = box.fake.uploaded_file(file["id"])
    assert content is not None and content.startswith(b"\x89PNG")


def test_if_the_chart_upload_fails_the_text_still_goes_and_the_chart_follows(
    sqlite_sandbox: Sandbox,
) -> None:
    """A failed upload leaves the text posted once; the retry uploads only the chart."""
    box = sqlite_sandbox
    _seed(box)
    fired = datetime(utcnow().year, 6, 1, 9, 0, tzinfo=UTC)
    schedule_leaderboard(box.db, box.settings, fired)
    box.fake.fail_next("files.getUploadURLExternal", status=500, times=3)
    box.run_due(fired)
    assert len(box.fake.calls_to("chat.postMessage")) == 1
    assert box.fake.uploaded_files() == []
    box.run_due(fired + timedelta(hours=1))
    assert len(box.fake.calls_to("chat.postMessage")) == 1
    assert len(box.fake.uploaded_files()) == 1


def _units(box: Sandbox, names: list[str]) -> None:
    """Business units with distinct points this year: the first name has the most."""
    with box.db.session() as s:
        for index, name in enumerate(names):
            unit = BusinessUnit(name=name, source="admin")
            s.add(unit)
            s.flush()
            assert unit.id is not None
            ledger.add_entry(
                s,
                business_unit_id=unit.id,
                amount=1000 - index,
                kind=ledger.ALLYSHIP,
                reason="r",
                source=f"match:{index}:ally",
            )


def _unit_count(box: Sandbox) -> int:
    """How many business units there are (the sandbox's configured ones included)."""
    with box.db.session() as s:
        return len(list(s.execute(select(BusinessUnit)).scalars()))


def _long_names(count: int) -> list[str]:
    """Names of the full 75 characters, each with ampersands (5 characters once escaped)."""
    return [f"Unit {i:03d} R&D " + "&" * 30 + "x" * 32 for i in range(count)]


def _message_chars(call: Call) -> int:
    return sum(len(json.dumps(block, ensure_ascii=False)) for block in call.args["blocks"])


def _post_leaderboard(box: Sandbox) -> Call:
    fired = datetime(utcnow().year, 12, 1, 9, 0, tzinfo=UTC)
    schedule_leaderboard(box.db, box.settings, fired)
    assert box.run_due(fired + timedelta(minutes=1)) == 1
    [post] = box.fake.calls_to("chat.postMessage")
    return post


def test_a_long_leaderboard_post_fits_slacks_limits(sandbox: Sandbox) -> None:
    """30 units with long names full of `&`: one valid post of the top units, then the rest."""
    box = sandbox
    names = _long_names(30)
    _units(box, names)
    post = _post_leaderboard(box)
    assert post.ok, post.response
    assert len(post.args["blocks"]) <= 50 and _message_chars(post) <= MESSAGE_CHARS
    shown = json.dumps(post.args["blocks"], ensure_ascii=False)
    top = names[: leaderboard.PUBLIC_TOP]
    for name in top:
        assert name.replace("&", "&amp;") in shown
    assert names[leaderboard.PUBLIC_TOP].replace("&", "&amp;") not in shown
    more = f"and {_unit_count(box) - leaderboard.PUBLIC_TOP} more business units"
    assert more in shown and more in post.args["text"]
    assert len(box.fake.uploaded_files()) == 1


def test_the_chart_alt_text_is_plain_text_within_slacks_limit(sandbox: Sandbox) -> None:
    """A screen reader hears `R&D`, not `R&amp;D`; the description stays within 1000 characters."""
    box = sandbox
    _units(box, ["R&D <Labs>", *_long_names(24)])
    _post_leaderboard(box)
    [announce] = box.fake.calls_to("files.getUploadURLExternal")
    alt = str(announce.args["alt_txt"])
    assert alt.startswith("Allyship standings by business unit")
    assert "R&D <Labs>: 1000 points" in alt and "&amp;" not in alt and "&lt;" not in alt
    assert len(alt) <= 1000 and "more business units" in alt


def test_a_unit_name_with_dollar_signs_does_not_stop_the_chart(sqlite_sandbox: Sandbox) -> None:
    """`$x^$` and `R&D $$` are names, not mathtext: the chart uploads at the first try."""
    box = sqlite_sandbox
    _units(box, ["$x^$", "R&D $$", "Cost $5 $10"])
    _post_leaderboard(box)
    [file] = box.fake.uploaded_files()
    _, content = box.fake.uploaded_file(file["id"])
    assert content is not None and content.startswith(b"\x89PNG")
    with box.db.session() as s:
        [item] = s.execute(select(DueItem)).scalars().all()
    assert item.status == "done" and item.attempts <= 1


def test_an_admin_sees_150_units_in_answers_that_fit(sandbox: Sandbox) -> None:
    """Every unit reaches the admin, in private answers each within Slack's limits."""
    box = sandbox
    names = _long_names(150)
    _units(box, names)
    box.fake.reset_calls()
    box.slack.slash(
        "/ally-admin", "leaderboard", user_id=box.workspace.admin.id, channel_id="C0GENERAL"
    )
    box.fake.wait_for("chat.postEphemeral")
    settle(box)
    answers = box.fake.calls_to("chat.postEphemeral")
    assert answers and all(a.ok for a in answers), [a.response for a in answers]
    assert box.fake.calls_to("chat.postMessage") == []
    for answer in answers:
        assert len(answer.args["blocks"]) <= 50 and _message_chars(answer) <= MESSAGE_CHARS
    shown = "".join(json.dumps(a.args["blocks"], ensure_ascii=False) for a in answers)
    for name in names:
        assert shown.count(name.replace("&", "&amp;") + ":") == 1
    assert "more business units" not in shown


def test_150_units_make_one_public_post_of_the_top_units(sqlite_sandbox: Sandbox) -> None:
    """The public post names the top units and how many more there are, in one message."""
    box = sqlite_sandbox
    names = _long_names(150)
    _units(box, names)
    post = _post_leaderboard(box)
    assert post.ok, post.response
    assert len(post.args["blocks"]) <= 50 and _message_chars(post) <= MESSAGE_CHARS
    more = f"and {_unit_count(box) - leaderboard.PUBLIC_TOP} more business units"
    assert more in post.args["text"]
