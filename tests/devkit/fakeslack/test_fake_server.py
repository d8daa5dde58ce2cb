"""The fake Slack answers the real slack_sdk WebClient the way Slack does."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.devkit.fakeslack import FakeSlack

TOKEN = "xoxb-test"

MODAL = {
    "type": "modal",
    "callback_id": "allyship_request",
    "title": {"type": "plain_text", "text": "Ask for an ally"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "details",
            "label": {"type": "plain_text", "text": "Details"},
            "element": {"type": "plain_text_input", "action_id": "details", "multiline": True},
        }
    ],
}


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A started fake with two people and a private channel the bot is in."""
    with FakeSlack() as fake:
        fake.add_user("U1", "ana", real_name="Ana Lopez", email="ana@example.com", is_admin=True)
        fake.add_user("U2", "ben", display_name="Ben", tz="America/New_York")
        fake.add_channel("G_VOL", "volunteers", is_private=True, members=["UBOT", "U1"])
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    """A real WebClient pointed at the fake."""
    return WebClient(base_url=fake.api_url, token=TOKEN)


def test_auth_test_describes_the_bot(client: WebClient) -> None:
    """auth.test answers with the team and the bot's ids."""
    reply = client.auth_test()
    assert reply["team_id"] == "T0001"
    assert reply["user_id"] == "UBOT"
    assert reply["bot_id"] == "BBOT"
    assert reply["url"].startswith("https://")


def test_wrong_or_missing_token_is_refused(fake: FakeSlack) -> None:
    """A wrong token answers invalid_auth and no token not_authed."""
    with pytest.raises(SlackApiError) as wrong:
        WebClient(base_url=fake.api_url, token="xoxb-wrong").auth_test()
    assert wrong.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as missing:
        WebClient(base_url=fake.api_url).auth_test()
    assert missing.value.response["error"] == "not_authed"
    assert [c.ok for c in fake.calls_to("auth.test")] == [False, False]


def test_unknown_method_fails(client: WebClient, fake: FakeSlack) -> None:
    """A method Slack does not have answers 404 unknown_method."""
    with pytest.raises(SlackApiError) as failure:
        client.api_call("chat.postMesage", json={"channel": "C_GENERAL", "text": "hi"})
    assert failure.value.response.status_code == 404
    assert failure.value.response["error"] == "unknown_method"
    assert fake.calls[-1].ok is False


def test_post_to_user_id_lands_in_their_dm(client: WebClient, fake: FakeSlack) -> None:
    """Posting to a user id writes into the bot's IM with that person."""
    reply = client.chat_postMessage(channel="U1", text="hello")
    assert reply["channel"].startswith("D")
    assert reply["channel"] == fake.im_channel("U1")
    [message] = fake.dm_messages("U1")
    assert message["text"] == "hello"
    assert message["ts"] == reply["ts"]
    assert fake.wait_for("chat.postMessage")[0].args["channel"] == "U1"


def test_message_ts_increase_and_threads_are_kept(client: WebClient, fake: FakeSlack) -> None:
    """Each message gets a later ts and thread replies keep their thread_ts."""
    first = client.chat_postMessage(channel="C_GENERAL", text="one")
    reply = client.chat_postMessage(channel="C_GENERAL", text="two", thread_ts=first["ts"])
    assert float(reply["ts"]) > float(first["ts"])
    assert [m["text"] for m in fake.replies("C_GENERAL", first["ts"])] == ["two"]


def test_post_needs_text_and_a_visible_channel(client: WebClient, fake: FakeSlack) -> None:
    """Missing text answers no_text; unknown or hidden channels answer channel_not_found."""
    with pytest.raises(SlackApiError, match="no_text"), pytest.warns(UserWarning):
        client.chat_postMessage(channel="C_GENERAL")
    assert [str(r) for r in fake.acknowledge_rejected_payloads()] == ["chat.postMessage: no_text"]
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_postMessage(channel="C_NOPE", text="x")
    fake.add_channel("G_SECRET", "secret", is_private=True, members=["U1"])
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_postMessage(channel="G_SECRET", text="x")


def test_chat_update_replaces_content_and_needs_a_known_ts(
    client: WebClient, fake: FakeSlack
) -> None:
    """chat.update changes a stored message and fails on an unknown ts."""
    posted = client.chat_postMessage(channel="G_VOL", text="old")
    client.chat_update(channel="G_VOL", ts=posted["ts"], text="new")
    assert fake.messages("G_VOL")[0]["text"] == "new"
    with pytest.raises(SlackApiError, match="message_not_found"):
        client.chat_update(channel="G_VOL", ts="1.000000", text="x")


@pytest.mark.parametrize(
    ("blocks", "reason"),
    [
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "3000"),
        ([{"type": "divider"}] * 51, "no more than 50"),
        ([{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}], "block_id"),
        ([{"type": "fancy"}], "unknown block type"),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": t},
                            "action_id": "a",
                        }
                        for t in ("x", "y")
                    ],
                }
            ],
            "duplicate action_id",
        ),
    ],
)
@pytest.mark.rejects_payloads
def test_invalid_blocks_fail_and_are_recorded(
    client: WebClient, fake: FakeSlack, blocks: list[dict[str, object]], reason: str
) -> None:
    """Blocks Slack would refuse raise invalid_blocks, and the failed call is recorded."""
    with pytest.raises(SlackApiError) as failure:
        client.chat_postMessage(channel="C_GENERAL", text="fallback", blocks=blocks)
    assert failure.value.response["error"] == "invalid_blocks"
    assert reason in " ".join(failure.value.response["response_metadata"]["messages"])
    [call] = fake.calls_to("chat.postMessage")
    assert call.ok is False
    assert fake.messages("C_GENERAL") == []


def test_posted_blocks_get_slack_block_ids(client: WebClient, fake: FakeSlack) -> None:
    """Blocks without block_id get one, as Slack assigns them."""
    client.chat_postMessage(
        channel="C_GENERAL",
        text="x",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    )
    [message] = fake.messages("C_GENERAL")
    assert message["blocks"][0]["block_id"]


def test_ephemeral_is_shown_to_a_member_only(client: WebClient, fake: FakeSlack) -> None:
    """chat.postEphemeral reaches a channel member and refuses non-members."""
    client.chat_postEphemeral(channel="C_GENERAL", user="U2", text="psst")
    assert [e["text"] for e in fake.ephemerals("U2")] == ["psst"]
    with pytest.raises(SlackApiError, match="user_not_in_channel"):
        client.chat_postEphemeral(channel="G_VOL", user="U2", text="psst")


def test_views_open_uses_a_trigger_once(client: WebClient, fake: FakeSlack) -> None:
    """A trigger opens one modal; reusing it fails, as does an unknown one."""
    trigger = fake.new_trigger_id("U1")
    view = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert view["id"].startswith("V")
    assert view["callback_id"] == "allyship_request"
    assert fake.current_view("U1")["id"] == view["id"]
    with pytest.raises(SlackApiError, match="expired_trigger_id"):
        client.views_open(trigger_id=trigger, view=MODAL)
    with pytest.raises(SlackApiError, match="invalid_trigger_id"):
        client.views_open(trigger_id="123.456.abc", view=MODAL)


def test_views_open_with_an_expired_trigger_fails() -> None:
    """A trigger older than its lifetime answers expired_trigger_id."""
    now = [100.0]
    with FakeSlack(clock=lambda: now[0]) as fake:
        client = WebClient(base_url=fake.api_url, token=TOKEN)
        trigger = fake.new_trigger_id("UBOT")
        now[0] += 3.5
        with pytest.raises(SlackApiError, match="expired_trigger_id"):
            client.views_open(trigger_id=trigger, view=MODAL)


def test_view_stack_holds_three(client: WebClient, fake: FakeSlack) -> None:
    """views.push stacks up to three modals, then answers push_limit_reached."""
    client.views_open(trigger_id=fake.new_trigger_id("U1"), view=MODAL)
    client.views_push(trigger_id=fake.new_trigger_id("U1"), view=MODAL)
    client.views_push(trigger_id=fake.new_trigger_id("U1"), view=MODAL)
    with pytest.raises(SlackApiError, match="push_limit_reached"):
        client.views_push(trigger_id=fake.new_trigger_id("U1"), view=MODAL)
    assert len(fake.open_views("U1")) == 3


@pytest.mark.rejects_payloads
def test_invalid_view_is_refused(client: WebClient, fake: FakeSlack) -> None:
    """A modal with a too-long title or private_metadata fails with invalid_arguments."""
    long_title = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.views_open(trigger_id=fake.new_trigger_id("U1"), view=long_title)
    big_metadata = {**MODAL, "private_metadata": "x" * 3001}
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.views_open(trigger_id=fake.new_trigger_id("U1"), view=big_metadata)


def test_views_update_checks_hash(client: WebClient, fake: FakeSlack) -> None:
    """views.update replaces a view and refuses a stale hash."""
    view = client.views_open(trigger_id=fake.new_trigger_id("U1"), view=MODAL)["view"]
    updated = client.views_update(view_id=view["id"], hash=view["hash"], view=MODAL)["view"]
    assert updated["id"] == view["id"]
    with pytest.raises(SlackApiError, match="hash_conflict"):
        client.views_update(view_id=view["id"], hash=view["hash"], view=MODAL)
    with pytest.raises(SlackApiError, match="not_found"):
        client.views_update(view_id="V404", view=MODAL)


@pytest.mark.rejects_payloads
def test_views_publish_stores_the_home_tab(client: WebClient, fake: FakeSlack) -> None:
    """views.publish stores a home view per person."""
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
    }
    client.views_publish(user_id="U1", view=home)
    assert fake.home_view("U1")["blocks"][0]["text"]["text"] == "Hi"
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.views_publish(user_id="U1", view=MODAL)


def test_conversations_open_is_stable(client: WebClient) -> None:
    """Opening a conversation with the same people gives the same id."""
    pair = client.conversations_open(users=["U1", "U2"])["channel"]["id"]
    again = client.conversations_open(users="U2,U1")["channel"]["id"]
    assert pair == again
    assert pair.startswith("G")
    single = client.conversations_open(users="U1")["channel"]["id"]
    assert single.startswith("D")
    with pytest.raises(SlackApiError, match="user_not_found"):
        client.conversations_open(users=["U1", "U404"])


def test_conversations_members_paginates(client: WebClient, fake: FakeSlack) -> None:
    """conversations.members honours limit and cursor."""
    fake.set_members("C_GENERAL", [f"U{i:03d}" for i in range(5)])
    first = client.conversations_members(channel="C_GENERAL", limit=2)
    assert first["members"] == ["U000", "U001"]
    seen = list(first["members"])
    cursor = first["response_metadata"]["next_cursor"]
    while cursor:
        page = client.conversations_members(channel="C_GENERAL", limit=2, cursor=cursor)
        seen += page["members"]
        cursor = page["response_metadata"]["next_cursor"]
    assert seen == [f"U{i:03d}" for i in range(5)]


def test_users_info_and_lookup(client: WebClient) -> None:
    """users.info and lookupByEmail return Slack-shaped user objects."""
    user = client.users_info(user="U1")["user"]
    assert user["profile"]["real_name"] == "Ana Lopez"
    assert user["profile"]["email"] == "ana@example.com"
    assert user["tz"] == "Europe/London"
    assert client.users_lookupByEmail(email="ANA@example.com")["user"]["id"] == "U1"
    with pytest.raises(SlackApiError, match="users_not_found"):
        client.users_lookupByEmail(email="nobody@example.com")
    with pytest.raises(SlackApiError, match="user_not_found"):
        client.users_info(user="U404")
    members = client.users_list(limit=2)
    assert len(members["members"]) == 2
    assert members["response_metadata"]["next_cursor"]


def test_reactions_round_trip(client: WebClient, fake: FakeSlack) -> None:
    """reactions.add/get/remove track who reacted."""
    ts = client.chat_postMessage(channel="C_GENERAL", text="x")["ts"]
    fake.add_reaction("C_GENERAL", ts, "raised_hands", "U1")
    client.reactions_add(channel="C_GENERAL", timestamp=ts, name="raised_hands")
    [reaction] = client.reactions_get(channel="C_GENERAL", timestamp=ts)["message"]["reactions"]
    assert reaction == {"name": "raised_hands", "users": ["U1", "UBOT"], "count": 2}
    with pytest.raises(SlackApiError, match="already_reacted"):
        client.reactions_add(channel="C_GENERAL", timestamp=ts, name="raised_hands")
    client.reactions_remove(channel="C_GENERAL", timestamp=ts, name="raised_hands")
    with pytest.raises(SlackApiError, match="no_reaction"):
        client.reactions_remove(channel="C_GENERAL", timestamp=ts, name="raised_hands")


def test_rate_limit_is_retried_by_the_retry_handler(fake: FakeSlack) -> None:
    """A 429 with Retry-After is retried by RateLimitErrorRetryHandler and then succeeds."""
    client = WebClient(
        base_url=fake.api_url,
        token=TOKEN,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    reply = client.chat_postMessage(channel="C_GENERAL", text="eventually")
    assert reply["ok"] is True
    calls = fake.calls_to("chat.postMessage")
    assert [(c.status, c.ok) for c in calls] == [(429, False), (200, True)]
    assert len(fake.messages("C_GENERAL")) == 1


def test_rate_limit_without_retry_handler_raises(client: WebClient, fake: FakeSlack) -> None:
    """Without a retry handler, slack_sdk raises on 429 and nothing is posted."""
    fake.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as failure:
        client.chat_postMessage(channel="C_GENERAL", text="x")
    assert failure.value.response.status_code == 429
    assert failure.value.response.headers["Retry-After"] == "7"
    assert fake.messages("C_GENERAL") == []


def test_server_error_surfaces(client: WebClient, fake: FakeSlack) -> None:
    """A 500 injection raises SlackApiError with internal_error."""
    fake.fail_next("users.info", status=500)
    with pytest.raises(SlackApiError) as failure:
        client.users_info(user="U1")
    assert failure.value.response["error"] == "internal_error"
    assert client.users_info(user="U1")["ok"] is True


def test_files_upload_v2_end_to_end(client: WebClient, fake: FakeSlack) -> None:
    """files_upload_v2 uploads to the fake's URL and shares the file in the channel."""
    reply = client.files_upload_v2(
        channel="C_GENERAL", content=b"png", filename="x.png", initial_comment="chart"
    )
    file_id = reply["file"]["id"]
    info, content = fake.uploaded_file(file_id)
    assert content == b"png"
    assert info["name"] == "x.png"
    [message] = fake.messages("C_GENERAL")
    assert message["text"] == "chart"
    assert message["files"][0]["id"] == file_id


def test_complete_upload_of_unknown_file_fails(client: WebClient) -> None:
    """Completing an upload whose bytes never arrived fails."""
    announced = client.files_getUploadURLExternal(filename="a.txt", length=3)
    with pytest.raises(SlackApiError, match="file_not_found"):
        client.files_completeUploadExternal(files=[{"id": announced["file_id"], "title": "a"}])


def test_response_url_posts_are_recorded_and_limited(fake: FakeSlack) -> None:
    """Posts to a response_url are recorded, applied and limited to five."""
    url = fake.new_response_url(user_id="U1", channel_id="C_GENERAL")
    webhook = WebhookClient(url)
    assert webhook.send(text="only you").status_code == 200
    assert webhook.send(text="everyone", response_type="in_channel").status_code == 200
    assert [e["text"] for e in fake.ephemerals("U1")] == ["only you"]
    assert [m["text"] for m in fake.messages("C_GENERAL")] == ["everyone"]
    for _ in range(3):
        webhook.send(text="more")
    assert webhook.send(text="sixth").status_code == 404
    calls = fake.wait_for("response_url", count=6, ok=None)
    assert calls[0].args["text"] == "only you"
    assert calls[-1].ok is False


def test_response_url_replace_original_updates_the_message(
    client: WebClient, fake: FakeSlack
) -> None:
    """replace_original through a message's response_url rewrites that message."""
    ts = client.chat_postMessage(channel="C_GENERAL", text="before")["ts"]
    url = fake.new_response_url(user_id="U1", channel_id="C_GENERAL", message_ts=ts)
    WebhookClient(url).send(text="after", replace_original=True)
    assert fake.message("C_GENERAL", ts)["text"] == "after"


def test_wait_for_times_out_with_a_listing(client: WebClient, fake: FakeSlack) -> None:
    """wait_for names what it waited for and lists the calls received."""
    client.auth_test()
    with pytest.raises(AssertionError, match=r"chat\.postMessage[\s\S]*auth\.test ok"):
        fake.wait_for("chat.postMessage", timeout=0.1)


def test_delay_slows_one_method(client: WebClient, fake: FakeSlack) -> None:
    """delay() makes a method answer late."""
    fake.delay("auth.test", 0.3)
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.3


def test_form_and_json_bodies_are_both_accepted(fake: FakeSlack) -> None:
    """A form-encoded chat.postMessage with JSON-string blocks is read like a JSON one."""
    body = (
        "channel=C_GENERAL&text=hi&blocks="
        + urllib.request.quote(json.dumps([{"type": "divider"}]))
    ).encode()
    request = urllib.request.Request(  # noqa: S310
        fake.api_url + "chat.postMessage",
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": f"Bearer {TOKEN}",
        },
    )
    with urllib.request.urlopen(request) as reply:  # noqa: S310
        assert json.loads(reply.read())["ok"] is True
    assert fake.messages("C_GENERAL")[0]["blocks"][0]["type"] == "divider"


def test_refusals_with_messages_only_are_recorded(client: WebClient, fake: FakeSlack) -> None:
    """Refusals without Block Kit violations (bad JSON, too long, no text) still fail the test.

    Each is recorded with its method and Slack's message, so the teardown check sees it.
    """
    with pytest.raises(SlackApiError, match="invalid_blocks_format"):
        client.api_call(
            "chat.postMessage",
            json={"channel": "C_GENERAL", "text": "x", "blocks": "not json"},
        )
    with pytest.raises(SlackApiError, match="msg_too_long"):
        client.chat_postMessage(channel="C_GENERAL", text="x" * 40_001)
    with pytest.raises(SlackApiError, match="no_text"), pytest.warns(UserWarning):
        client.chat_postMessage(channel="C_GENERAL")
    rejected = fake.acknowledge_rejected_payloads()
    assert [r.method for r in rejected] == ["chat.postMessage"] * 3
    assert "invalid_blocks_format" in str(rejected[0])
    assert "msg_too_long" in str(rejected[1])
    assert "no_text" in str(rejected[2])


def test_refused_view_answer_is_recorded(client: WebClient, fake: FakeSlack) -> None:
    """response_action errors naming a block the view lacks are recorded like any refusal."""
    view = client.views_open(trigger_id=fake.new_trigger_id("U1"), view=MODAL)["view"]
    call = fake.apply_view_response(
        "U1", view["id"], {"response_action": "errors", "errors": {"nope": "bad"}}
    )
    assert call.ok is False
    [rejected] = fake.acknowledge_rejected_payloads()
    assert rejected.method == "response_action"
    assert "unknown block_id 'nope'" in str(rejected)


def test_errors_about_the_workspace_are_not_refusals(client: WebClient, fake: FakeSlack) -> None:
    """A channel the bot cannot see is an answer the app handles, not a refused payload."""
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_postMessage(channel="C_NOPE", text="x")
    assert fake.rejected_payloads == []
