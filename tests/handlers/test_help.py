"""`/ally help` and friends answer privately, in time, through the Web API."""

from __future__ import annotations

from bot.devkit.sandbox import Sandbox
from tests.helpers import settle


def test_ally_help_answers_privately_with_purpose_and_commands(sqlite_sandbox: Sandbox) -> None:
    """`/ally help` acks at once and sends an ephemeral with the purpose and commands."""
    box = sqlite_sandbox
    asker = box.workspace.requester.id
    response = box.slack.slash("/ally", "help", user_id=asker, channel_id="C0GENERAL")
    # 200, not Bolt's 404: acked within its 3 s (speed itself is for scripts/bench_ack.py).
    assert response.status == 200
    [call] = box.fake.wait_for("chat.postEphemeral")
    assert call.args["user"] == asker
    assert call.args["channel"] == "C0GENERAL"
    text = str(call.args["blocks"])
    assert "allyship programme" in text
    assert "/ally help" in text and "/ally lexicon" in text


def test_unknown_subcommand_gets_help_not_an_error(sqlite_sandbox: Sandbox) -> None:
    """A word /ally does not know is answered with help."""
    box = sqlite_sandbox
    box.slack.slash("/ally", "frobnicate", user_id=box.workspace.colleague.id)
    [call] = box.fake.wait_for("chat.postEphemeral")
    assert "/ally help" in str(call.args["blocks"])


def test_help_falls_back_to_a_dm_where_the_bot_cannot_post(sqlite_sandbox: Sandbox) -> None:
    """In a channel the bot is not in, help still reaches the person privately."""
    box = sqlite_sandbox
    user = box.workspace.colleague.id
    box.slack.slash("/ally", "help", user_id=user, channel_id="C0UNKNOWN")
    box.fake.wait_for("response_url")
    settle(box)
    assert not box.fake.calls_to("chat.postMessage")


def test_lexicon_and_handbook_answer_privately(sqlite_sandbox: Sandbox) -> None:
    """`/ally lexicon ally` finds the term; `/ally handbook` shows the handbook."""
    box = sqlite_sandbox
    user = box.workspace.colleague.id
    box.slack.slash("/ally", "lexicon amplif", user_id=user, channel_id="C0GENERAL")
    box.slack.slash("/ally", "handbook", user_id=user, channel_id="C0GENERAL")
    calls = box.fake.wait_for("chat.postEphemeral", count=2)
    texts = " ".join(str(c.args["blocks"]) for c in calls)
    assert "Amplification" in texts and "What an ally does" in texts


def test_admin_command_refuses_non_admins(sqlite_sandbox: Sandbox) -> None:
    """`/ally-admin` from someone not in ALLYBOT_ADMINS is refused, privately."""
    box = sqlite_sandbox
    box.slack.slash(
        "/ally-admin", "leaderboard", user_id=box.workspace.colleague.id, channel_id="C0GENERAL"
    )
    [call] = box.fake.wait_for("chat.postEphemeral")
    assert "for programme admins" in call.args["text"]


def test_admin_help_for_admins(sqlite_sandbox: Sandbox) -> None:
    """An admin's `/ally-admin help` lists the admin commands."""
    box = sqlite_sandbox
    box.slack.slash("/ally-admin", "help", user_id=box.workspace.admin.id, channel_id="C0GENERAL")
    [call] = box.fake.wait_for("chat.postEphemeral")
    assert "/ally-admin help" in str(call.args["blocks"])


def test_rate_limited_and_failed_sends_are_retried(sqlite_sandbox: Sandbox) -> None:
    """A 429 with Retry-After and a 500 on the reply are retried; the help arrives once."""
    box = sqlite_sandbox
    box.fake.fail_next("chat.postEphemeral", status=429, retry_after=1)
    box.fake.fail_next("chat.postEphemeral", status=500)
    box.slack.slash("/ally", "help", user_id=box.workspace.colleague.id, channel_id="C0GENERAL")
    [delivered] = box.fake.wait_for("chat.postEphemeral")
    settle(box)
    attempts = box.fake.calls_to("chat.postEphemeral")
    assert [c.ok for c in attempts] == [False, False, True]
    assert delivered.ok
