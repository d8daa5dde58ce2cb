"""Feedback prompts, clicks, comments, reminders and closes through the real app."""

from __future__ import annotations

import concurrent.futures
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.devkit import factories
from bot.devkit.factories import ALLY, REQUESTER
from bot.devkit.sandbox import Sandbox
from handlers.feedback import Ids
from storage.models.feedback import Feedback
from storage.models.points import PointsEntry
from storage.models.requests import Match
from storage.types import utcnow


def _setup(box: Sandbox) -> tuple[int, datetime]:
    matched = utcnow() - timedelta(days=30)
    match_id = factories.match(box.db, box.settings, matched_at=matched)
    return match_id, matched + box.settings.feedback_after


def _prompt(box: Sandbox, user: str) -> dict:
    [message] = [m for m in box.fake.dm_messages(user) if Ids.WORKED in str(m)]
    return message


def _match(box: Sandbox, match_id: int) -> Match:
    with box.db.session() as s:
        match = s.get(Match, match_id)
        assert match is not None
        return match


def _ledger(box: Sandbox) -> list[PointsEntry]:
    with box.db.session() as s:
        return list(s.execute(select(PointsEntry)).scalars())


def _answer_worked(box: Sandbox, prompt_at: datetime) -> dict:
    """Send the prompts, click "It worked" as the requester; the updated prompt."""
    box.run_due(prompt_at)
    box.slack.click(REQUESTER, Ids.WORKED, message=_prompt(box, REQUESTER))
    box.fake.wait_for("chat.update")
    return _prompt_after_update(box, REQUESTER)


def _open_comment_modal(box: Sandbox, prompt_at: datetime) -> dict | None:
    """Answer, then click "Add a comment"; the modal the requester sees."""
    answered = _answer_worked(box, prompt_at)
    box.slack.click(REQUESTER, Ids.COMMENT, message=answered)
    box.fake.wait_for("views.open")
    return box.fake.current_view(REQUESTER)


def test_prompts_arrive_after_feedback_after_in_each_persons_own_dm(sandbox: Sandbox) -> None:
    """Requester and ally each get one DM, posted to their user ID, with opaque button values."""
    box = sandbox
    _, prompt_at = _setup(box)
    assert box.run_due(prompt_at - timedelta(seconds=1)) == 0
    assert box.run_due(prompt_at) == 1
    posts = box.fake.calls_to("chat.postMessage")
    assert sorted(c.args["channel"] for c in posts) == sorted([REQUESTER, ALLY])
    for user in (REQUESTER, ALLY):
        message = _prompt(box, user)
        text = str(message["blocks"])
        assert Ids.NOT_WORKED in text
        assert REQUESTER not in str([b for b in message["blocks"] if b["type"] == "actions"])
    assert box.run_due(prompt_at + timedelta(minutes=1)) == 0
    assert len(box.fake.calls_to("chat.postMessage")) == 2


def test_a_click_records_at_once_and_offers_a_comment(sandbox: Sandbox) -> None:
    """ "It worked" from the requester decides the outcome, awards 10 points, retires buttons."""
    box = sandbox
    match_id, prompt_at = _setup(box)
    box.run_due(prompt_at)
    box.slack.click(REQUESTER, Ids.WORKED, message=_prompt(box, REQUESTER))
    [update] = box.fake.wait_for("chat.update")
    blocks = str(update.args["blocks"])
    assert Ids.WORKED not in blocks and Ids.NOT_WORKED not in blocks
    assert "It worked" in blocks and Ids.COMMENT in blocks
    match = _match(box, match_id)
    assert match.outcome == "worked" and match.closed_at is not None
    [entry] = _ledger(box)
    assert entry.amount == 10 and entry.source == f"match:{match_id}:ally"


def test_the_allys_answer_does_not_decide_the_outcome(sandbox: Sandbox) -> None:
    """Only the requester's answer closes the match."""
    box = sandbox
    match_id, prompt_at = _setup(box)
    box.run_due(prompt_at)
    box.slack.click(ALLY, Ids.WORKED, message=_prompt(box, ALLY))
    box.fake.wait_for("chat.update")
    assert _match(box, match_id).outcome is None
    assert _ledger(box) == []


def test_second_clicks_and_other_peoples_clicks_change_nothing(sandbox: Sandbox) -> None:
    """A repeat click or someone else's click is refused privately; the answer stands."""
    box = sandbox
    match_id, prompt_at = _setup(box)
    box.run_due(prompt_at)
    message = _prompt(box, REQUESTER)
    # (A forged or replayed payload: Slack would not show this DM to the ally.)
    box.slack.click(ALLY, Ids.NOT_WORKED, message=message)
    [refusal] = box.fake.wait_for("response_url")
    assert "someone else" in refusal.args["text"]
    box.slack.click(REQUESTER, Ids.NOT_WORKED, message=message)
    box.fake.wait_for("chat.update")
    box.slack.click(REQUESTER, Ids.WORKED, message=message)
    [again] = box.fake.wait_for("chat.postEphemeral")
    assert "already recorded" in again.args["text"]
    assert _match(box, match_id).outcome == "not_worked"
    assert _ledger(box) == []
    assert len(box.fake.calls_to("chat.update")) == 1


def test_concurrent_clicks_count_the_points_once(sandbox: Sandbox) -> None:
    """Ten simultaneous clicks of "It worked" add one ledger row."""
    box = sandbox
    match_id, prompt_at = _setup(box)
    box.run_due(prompt_at)
    message = _prompt(box, REQUESTER)
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        replies = list(
            pool.map(lambda _: box.slack.click(REQUESTER, Ids.WORKED, message=message), range(10))
        )
    assert all(r.status == 200 for r in replies)
    box.fake.wait_for("chat.update")
    box.fake.wait_for("chat.postEphemeral", count=9)
    assert len(_ledger(box)) == 1
    assert _match(box, match_id).outcome == "worked"


def test_the_comment_modal_stores_the_comment(sandbox: Sandbox) -> None:
    """After answering, "Add a comment" opens a modal whose text is stored, escaped nowhere."""
    box = sandbox
    match_id, prompt_at = _setup(box)
    view = _open_comment_modal(box, prompt_at)
    assert view is not None and view["callback_id"] == Ids.COMMENT
    reply = box.slack.submit_view(REQUESTER, view, {Ids.COMMENT_BLOCK: "Great <!channel> help"})
    assert reply.status == 200 and reply.json() is None
    box.fake.wait_for("chat.update", count=2)
    with box.db.session() as s:
        row = s.execute(
            select(Feedback).where(Feedback.match_id == match_id, Feedback.role == "requester")
        ).scalar_one()
    assert row.comment == "Great <!channel> help"


def test_an_empty_or_foreign_comment_is_refused_in_the_modal(sandbox: Sandbox) -> None:
    """Empty comments get a modal error; a comment on someone else's feedback too."""
    box = sandbox
    _, prompt_at = _setup(box)
    view = _open_comment_modal(box, prompt_at)
    assert view is not None
    empty = box.slack.submit_view(REQUESTER, view, {Ids.COMMENT_BLOCK: "   "})
    assert empty.json()["response_action"] == "errors"
    foreign = box.slack.submit_view(ALLY, view, {Ids.COMMENT_BLOCK: "mine now"})
    assert "someone else" in foreign.json()["errors"]["comment"]


def _prompt_after_update(box: Sandbox, user: str) -> dict:
    [message] = [m for m in box.fake.dm_messages(user) if Ids.COMMENT in str(m)]
    return message


def test_one_reminder_halfway_only_to_those_who_have_not_answered(sandbox: Sandbox) -> None:
    """The reminder comes halfway to the close, once, and skips people who answered."""
    box = sandbox
    _, prompt_at = _setup(box)
    box.run_due(prompt_at)
    box.slack.click(ALLY, Ids.WORKED, message=_prompt(box, ALLY))
    box.fake.wait_for("chat.update")
    halfway = prompt_at + box.settings.feedback_close_after / 2
    assert box.run_due(halfway - timedelta(seconds=1)) == 0
    assert box.run_due(halfway) == 1
    reminders = [c for c in box.fake.calls_to("chat.postMessage") if "Reminder" in str(c.args)]
    assert [c.args["channel"] for c in reminders] == [REQUESTER]
    box.run_due(halfway + timedelta(minutes=5))
    assert len(box.fake.calls_to("chat.postMessage")) == 3


def test_no_answer_closes_the_match_as_no_feedback(sandbox: Sandbox) -> None:
    """FEEDBACK_CLOSE_AFTER after the prompt, an unanswered match closes; buttons retire."""
    box = sandbox
    match_id, prompt_at = _setup(box)
    box.run_due(prompt_at)
    close_at = prompt_at + box.settings.feedback_close_after
    box.run_due(close_at - timedelta(days=1))
    box.fake.reset_calls()
    box.run_due(close_at)
    assert _match(box, match_id).outcome == "no_feedback"
    updates = box.fake.calls_to("chat.update")
    assert updates and all(Ids.WORKED not in str(c.args["blocks"]) for c in updates)
    box.slack.click(REQUESTER, Ids.WORKED, message=_prompt_from_calls(box))
    [refusal] = box.fake.wait_for("chat.postEphemeral")
    assert "closed" in refusal.args["text"]
    assert _ledger(box) == []


def _prompt_from_calls(box: Sandbox) -> dict:
    # The stored message now shows "closed"; a stale copy of the old one still has the button.
    update = box.fake.calls_to("chat.update")[0]
    token_message = {
        "channel": update.args["channel"],
        "ts": update.args["ts"],
        "blocks": [
            {
                "type": "actions",
                "block_id": Ids.PROMPT_BLOCK,
                "elements": [
                    {
                        "type": "button",
                        "action_id": Ids.WORKED,
                        "text": {"type": "plain_text", "text": "It worked"},
                        "value": _token_of(box, update.args["channel"]),
                    }
                ],
            }
        ],
    }
    return token_message


def _token_of(box: Sandbox, channel: str) -> str:
    with box.db.session() as s:
        return s.execute(
            select(Feedback.token).where(Feedback.prompt_channel == channel)
        ).scalar_one()


def test_an_anonymous_requester_is_asked_only_through_the_relay(sandbox: Sandbox) -> None:
    """For an anonymous case no DM goes to any user ID but the ally's; no identity is stored."""
    box = sandbox
    matched = utcnow() - timedelta(days=30)
    match_id = factories.match(
        box.db, box.settings, matched_at=matched, requester=None, kind="anonymous"
    )
    box.run_due(matched + box.settings.feedback_after)
    assert [c.args["channel"] for c in box.fake.calls_to("chat.postMessage")] == [ALLY]
    with box.db.session() as s:
        rows = {
            r.role: r
            for r in s.execute(select(Feedback).where(Feedback.match_id == match_id)).scalars()
        }
    assert rows["requester"].user_id is None and rows["requester"].prompt_channel is None
    assert rows["requester"].prompted_at is not None


def test_the_comment_modal_carries_only_the_opaque_token(sandbox: Sandbox) -> None:
    """private_metadata holds the token, never a channel; the prompt still shows the comment."""
    box = sandbox
    match_id, prompt_at = _setup(box)
    answered = _answer_worked(box, prompt_at)
    box.slack.click(REQUESTER, Ids.COMMENT, message=answered)
    box.fake.wait_for("views.open")
    view = box.fake.current_view(REQUESTER)
    assert view is not None
    with box.db.session() as s:
        token = s.execute(
            select(Feedback.token).where(
                Feedback.match_id == match_id, Feedback.role == "requester"
            )
        ).scalar_one()
    assert json.loads(view["private_metadata"]) == {"t": token}
    assert answered["channel"] not in view["private_metadata"]
    box.slack.submit_view(REQUESTER, view, {Ids.COMMENT_BLOCK: "Thanks"})
    [update] = box.fake.wait_for(
        "chat.update", predicate=lambda c: "Thank you for your comment" in str(c.args)
    )
    assert (update.args["channel"], update.args["ts"]) == (answered["channel"], answered["ts"])


def test_a_failed_views_open_still_acks_the_comment_click(sqlite_sandbox: Sandbox) -> None:
    """If views.open fails, the click is still acknowledged (Slack shows no error)."""
    box = sqlite_sandbox
    _, prompt_at = _setup(box)
    answered = _answer_worked(box, prompt_at)
    box.fake.fail_next("views.open", status=500, times=10)
    answer = box.slack.click(REQUESTER, Ids.COMMENT, message=answered)
    assert answer.status == 200
    box.fake.wait_for(
        "chat.postEphemeral", predicate=lambda c: "could not open" in str(c.args.get("text"))
    )


def test_a_failed_update_at_the_close_is_finished_by_the_retry(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack failing one update at the close: the others are retired at once, the failed one
    by the retry, each once."""
    box = sandbox
    match_id, prompt_at = _setup(box)
    box.run_due(prompt_at)
    box.run_due(prompt_at + box.settings.feedback_close_after / 2)  # the reminders
    shown = [
        (c.response["channel"], c.response["ts"])
        for c in box.fake.calls_to("chat.postMessage")
        if Ids.WORKED in json.dumps(c.args.get("blocks"))
    ]
    assert len(shown) == 4  # two prompts, two reminders
    real_update = box.client.chat_update

    def update_then_fail(**kwargs: Any) -> Any:
        # The first update goes through; every try of the next one gets Slack's 500.
        monkeypatch.setattr(box.client, "chat_update", real_update)
        answer = real_update(**kwargs)
        box.fake.fail_next("chat.update", status=500, times=3)
        return answer

    monkeypatch.setattr(box.client, "chat_update", update_then_fail)
    close_at = prompt_at + box.settings.feedback_close_after
    box.fake.reset_calls()
    assert box.run_due(close_at) == 1
    assert _match(box, match_id).outcome == "no_feedback"
    assert len([c for c in box.fake.calls_to("chat.update") if c.ok]) == 3  # all but one
    box.run_due(close_at + timedelta(hours=1))  # the retry, after its backoff
    for channel, ts in shown:
        assert Ids.WORKED not in json.dumps(box.fake.message(channel, ts)["blocks"])
        updated = [
            c
            for c in box.fake.calls_to("chat.update")
            if c.ok and (c.args["channel"], c.args["ts"]) == (channel, ts)
        ]
        assert len(updated) == 1, (channel, ts)
