"""`/ally-admin leaderboard`, `/ally-admin points adjust` and the cron's post with its chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot import points
from bot.sandbox import Sandbox
from bot.scheduler import schedule_leaderboard
from storage.models.points import PointsEntry
from storage.types import utcnow
from tests.bot.points_support import business_unit


def _seed(box: Sandbox) -> None:
    eng = business_unit(box.db, "Engineering")
    business_unit(box.db, "Sales")
    with box.db.session() as s:
        points.add_entry(
            s,
            business_unit_id=eng,
            amount=10,
            kind=points.ALLYSHIP,
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
