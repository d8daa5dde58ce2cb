"""The one payload reader: Slack's shapes read the same everywhere; odd shapes never crash."""

from __future__ import annotations

from typing import Any

import pytest

from bot.rules.errors import NotFound
from handlers.common.payload import Payload

BUTTON = {
    "type": "block_actions",
    "user": {"id": "U0ASKER"},
    "trigger_id": "T.1",
    "response_url": "https://hooks.example/r",
    "channel": {"id": "C0ALLIES"},
    "container": {
        "type": "message",
        "channel_id": "C0ALLIES",
        "message_ts": "1.2",
        "is_ephemeral": False,
    },
    "actions": [{"action_id": "choose_ally", "value": "42"}],
}
SUBMISSION = {
    "type": "view_submission",
    "user": {"id": "U0VOL"},
    "view": {
        "id": "V1",
        "private_metadata": '{"case": 7}',
        "state": {
            "values": {
                "message": {"message": {"type": "plain_text_input", "value": " hi "}},
                "outcome": {"o": {"selected_option": {"value": "helped"}}},
                "pause": {"pause": {"selected_options": [{"value": "pause"}]}},
                "exclude": {"exclude": {"selected_users": ["U1", "U2"]}},
            }
        },
    },
}


def test_a_button_click_reads_who_where_and_what() -> None:
    """User, channel, message, trigger, response_url and the button's value."""
    p = Payload.of(BUTTON)
    assert (p.user_id, p.channel_id, p.message_channel, p.message_ts) == (
        "U0ASKER",
        "C0ALLIES",
        "C0ALLIES",
        "1.2",
    )
    assert (p.trigger_id, p.response_url, p.action_id, p.action_int()) == (
        "T.1",
        "https://hooks.example/r",
        "choose_ally",
        42,
    )
    assert not p.on_ephemeral


def test_a_submission_reads_values_by_block_and_its_metadata() -> None:
    """Text inputs, selects, checkboxes and user selects by block_id; private_metadata."""
    p = Payload.of(SUBMISSION)
    assert p.view_id == "V1" and p.metadata == {"case": 7}
    assert p.value("message") == " hi " and p.value("outcome") == "helped"
    assert p.selected("outcome") == ["helped"] and p.selected("pause") == ["pause"]
    assert p.selected_users("exclude") == ["U1", "U2"] and p.selected_user("exclude") is None
    assert p.value("missing") == "" and p.selected("missing") == []


def test_commands_and_events_name_their_person_their_own_way() -> None:
    """A slash command's user_id and an event's user are the same accessor."""
    assert Payload.of({"user_id": "U1", "channel_id": "C1", "text": "help"}).user_id == "U1"
    assert Payload.of({"event": {"user": "U2"}, "event_id": "Ev1"}).user_id == "U2"


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {},
        {"user": "U1", "actions": "x", "view": [], "container": 3, "channel": "C"},
        {"user": {"id": None}, "actions": [None], "view": {"state": {"values": {"b": 1}}}},
        {"view": {"private_metadata": "{not json", "state": []}, "trigger_id": {}},
        {"actions": [{"value": {"nested": 1}}], "view": {"id": ["V"]}},
    ],
)
def test_odd_shapes_read_as_empty_and_required_parts_are_a_refusal(body: Any) -> None:
    """Nothing raises but the parts a listener cannot do without, and those say so."""
    p = Payload.of(body)
    assert p.channel_id is None and p.response_url is None and p.message_ts is None
    assert p.action_value == "" and p.metadata == {} and p.value("b") == ""
    assert p.event == {} and p.user_id_or_none is None
    for required in ("user_id", "trigger_id", "view_id"):
        with pytest.raises(NotFound):
            getattr(p, required)
    with pytest.raises(NotFound, match="no longer works"):
        p.action_int()
