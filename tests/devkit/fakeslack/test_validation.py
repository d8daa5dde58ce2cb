"""The fake refuses what Slack refuses, at every depth, and a refusal fails the test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.devkit.fakeslack import FakeSlack
from bot.devkit.fakeslack.validation import message_violations, view_violations

TOKEN = "xoxb-test"

CONSENT_83 = "I have read the lexicon (`/ally lexicon`) and what an ally can and cannot help with"


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _modal(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": _plain("Ask for an ally"),
        "submit": _plain("Continue"),
        "blocks": list(blocks),
    }


def _checkboxes(*texts: str, initial: list[str] | None = None) -> dict[str, Any]:
    options: list[dict[str, Any]] = [
        {"text": {"type": "mrkdwn", "text": t}, "value": f"v{i}"} for i, t in enumerate(texts)
    ]
    element: dict[str, Any] = {"type": "checkboxes", "action_id": "consent", "options": options}
    if initial is not None:
        element["initial_options"] = [o for o in options if o["text"]["text"] in initial]
    return {
        "type": "input",
        "block_id": "consent",
        "label": _plain("Before you send"),
        "element": element,
    }


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A started fake with one person."""
    with FakeSlack() as fake:
        fake.add_user("U1", "ana", real_name="Ana Lopez")
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    """A real WebClient pointed at the fake."""
    return WebClient(base_url=fake.api_url, token=TOKEN)


@pytest.mark.rejects_payloads
def test_an_83_character_checkbox_option_is_refused(fake: FakeSlack, client: WebClient) -> None:
    """A nested option text over 75 characters fails views.open with invalid_arguments."""
    assert len(CONSENT_83) == 83
    with pytest.raises(SlackApiError) as failure:
        client.views_open(
            trigger_id=fake.new_trigger_id("U1"), view=_modal(_checkboxes(CONSENT_83))
        )
    assert failure.value.response["error"] == "invalid_arguments"
    messages = " ".join(failure.value.response["response_metadata"]["messages"])
    assert "[json-pointer:/view/blocks/0/element/options/0/text/text]" in messages
    assert "75" in messages
    [rejected] = fake.acknowledge_rejected_payloads()
    assert (rejected.method, rejected.path) == (
        "views.open",
        "/view/blocks/0/element/options/0/text/text",
    )


@pytest.mark.rejects_payloads
def test_a_rejected_payload_fails_the_check_with_path_and_limit(
    fake: FakeSlack, client: WebClient
) -> None:
    """The teardown check raises, naming the method, the json-pointer and the limit."""
    with pytest.raises(SlackApiError):
        client.views_open(
            trigger_id=fake.new_trigger_id("U1"), view=_modal(_checkboxes(CONSENT_83))
        )
    with pytest.raises(AssertionError) as failure:
        fake.assert_no_rejected_payloads()
    text = str(failure.value)
    assert "views.open" in text
    assert "/view/blocks/0/element/options/0/text/text" in text
    assert "at most 75 characters" in text
    fake.acknowledge_rejected_payloads()
    fake.assert_no_rejected_payloads()


@pytest.mark.rejects_payloads  # the inner run's fake is created inside this test too
def test_a_test_that_causes_a_rejection_fails(pytester: pytest.Pytester) -> None:
    """Without the opt-out marker, a refused payload fails the test that sent it."""
    pytester.makeconftest("from tests.conftest import _no_rejected_payloads, pytest_configure")
    pytester.makepyfile(
        f"""
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError
        from bot.devkit.fakeslack import FakeSlack

        BAD_MODAL = {_modal(_checkboxes(CONSENT_83))!r}

        def test_sends_a_bad_modal():
            with FakeSlack() as fake:
                fake.add_user("U1", "ana")
                client = WebClient(base_url=fake.api_url, token="xoxb-test")
                try:
                    client.views_open(trigger_id=fake.new_trigger_id("U1"), view=BAD_MODAL)
                except SlackApiError:
                    pass  # a test that swallows the error must still fail
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*views.open*/view/blocks/0/element/options/0/text/text*75*"])


def _option(text: str = "x", value: str = "v", **extra: Any) -> dict[str, Any]:
    return {"text": _plain(text), "value": value, **extra}


def _input(element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "input", "label": _plain("Label"), "element": element, **extra}


def _section(**extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": "x"}, **extra}


def _button(text: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": _plain(text), "action_id": "go", **extra}


CONFIRM = {
    "title": _plain("Sure?"),
    "text": _plain("Really"),
    "confirm": _plain("Yes"),
    "deny": _plain("No"),
}
RADIO = {
    "type": "radio_buttons",
    "action_id": "r",
    "options": [_option("a", "a"), _option("b", "b")],
}

VIEW_CASES = [
    (
        _input({**RADIO, "options": [_option(str(i), str(i)) for i in range(11)]}),
        "/view/blocks/0/element/options",
        "1 to 10",
    ),
    (
        _input({**RADIO, "initial_option": _option("c", "c")}),
        "/view/blocks/0/element/initial_option",
        "one of the element's options",
    ),
    (
        _input(
            {
                "type": "checkboxes",
                "action_id": "c",
                "options": [_option("a", "a")],
                "initial_options": [_option("a", "b")],
            }
        ),
        "/view/blocks/0/element/initial_options/0",
        "one of the element's options",
    ),
    (
        _input(
            {
                "type": "static_select",
                "action_id": "s",
                "options": [_option(str(i), str(i)) for i in range(101)],
            }
        ),
        "/view/blocks/0/element/options",
        "at most 100",
    ),
    (
        _input(
            {
                "type": "static_select",
                "action_id": "s",
                "option_groups": [{"label": _plain("g" * 76), "options": [_option()]}],
            }
        ),
        "/view/blocks/0/element/option_groups/0/label/text",
        "at most 75",
    ),
    (
        _input(
            {
                "type": "static_select",
                "action_id": "s",
                "option_groups": [
                    {"label": _plain("g"), "options": [_option(str(i), str(i)) for i in range(101)]}
                ],
            }
        ),
        "/view/blocks/0/element/option_groups/0/options",
        "at most 100",
    ),
    (
        _input({"type": "static_select", "action_id": "s", "options": [_option(value="v" * 151)]}),
        "/view/blocks/0/element/options/0/value",
        "at most 150",
    ),
    (
        _input(
            {
                "type": "multi_static_select",
                "action_id": "s",
                "options": [_option(description=_plain("d" * 76))],
            }
        ),
        "/view/blocks/0/element/options/0/description/text",
        "at most 75",
    ),
    (
        _input(
            {
                "type": "static_select",
                "action_id": "s",
                "placeholder": _plain("p" * 151),
                "options": [_option()],
            }
        ),
        "/view/blocks/0/element/placeholder/text",
        "at most 150",
    ),
    (
        _input({"type": "plain_text_input", "action_id": "t", "max_length": 3001}),
        "/view/blocks/0/element/max_length",
        "3000",
    ),
    (
        _input({"type": "plain_text_input", "action_id": "t", "min_length": 3001}),
        "/view/blocks/0/element/min_length",
        "3000",
    ),
    (
        {**_input({"type": "plain_text_input", "action_id": "t"}), "label": _plain("l" * 2001)},
        "/view/blocks/0/label/text",
        "at most 2000",
    ),
    (
        _input({"type": "plain_text_input", "action_id": "t"}, hint=_plain("h" * 2001)),
        "/view/blocks/0/hint/text",
        "at most 2000",
    ),
    (
        _input({"type": "plain_text_input", "action_id": "a" * 256}),
        "/view/blocks/0/element/action_id",
        "at most 255",
    ),
    (_section(block_id="b" * 256), "/view/blocks/0/block_id", "at most 255"),
]

MESSAGE_CASES = [
    (
        _section(accessory={"type": "overflow", "action_id": "o", "options": [_option("o" * 76)]}),
        "/blocks/0/accessory/options/0/text/text",
        "at most 75",
    ),
    (_section(accessory=_button("b" * 76)), "/blocks/0/accessory/text/text", "at most 75"),
    (_section(accessory=_button(value="v" * 2001)), "/blocks/0/accessory/value", "at most 2000"),
    (
        _section(accessory=_button(confirm={**CONFIRM, "title": _plain("t" * 101)})),
        "/blocks/0/accessory/confirm/title/text",
        "at most 100",
    ),
    (
        _section(accessory=_button(confirm={**CONFIRM, "text": _plain("t" * 301)})),
        "/blocks/0/accessory/confirm/text/text",
        "at most 300",
    ),
    (
        _section(accessory=_button(confirm={**CONFIRM, "confirm": _plain("t" * 31)})),
        "/blocks/0/accessory/confirm/confirm/text",
        "at most 30",
    ),
    (
        _section(accessory=_button(confirm={**CONFIRM, "deny": _plain("t" * 31)})),
        "/blocks/0/accessory/confirm/deny/text",
        "at most 30",
    ),
    ({"type": "section", "fields": [_plain("f")] * 11}, "/blocks/0/fields", "at most 10"),
    (
        {"type": "section", "fields": [_plain("f" * 2001)]},
        "/blocks/0/fields/0/text",
        "at most 2000",
    ),
    ({"type": "context", "elements": [_plain("c")] * 11}, "/blocks/0/elements", "at most 10"),
    ({"type": "header", "text": _plain("h" * 151)}, "/blocks/0/text/text", "at most 150"),
    (
        {
            "type": "actions",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "s",
                    "options": [_option()],
                    "initial_option": _option("y"),
                }
            ],
        },
        "/blocks/0/elements/0/initial_option",
        "one of the element's options",
    ),
]


@pytest.mark.parametrize(("block", "path", "limit"), VIEW_CASES)
def test_view_limits_are_enforced_at_their_path(
    block: dict[str, Any], path: str, limit: str
) -> None:
    """Each limit slack_sdk's validate_json() misses is refused, naming the path and limit."""
    violations = view_violations(_modal(block), allowed_types=("modal",))
    assert any(v.path == path and limit in v.limit for v in violations), violations


@pytest.mark.parametrize(("block", "path", "limit"), MESSAGE_CASES)
def test_message_limits_are_enforced_at_their_path(
    block: dict[str, Any], path: str, limit: str
) -> None:
    """Each nested message limit is refused, naming the path and limit."""
    violations = message_violations([block], text="fallback")
    assert any(v.path == path and limit in v.limit for v in violations), violations


def test_view_wide_limits() -> None:
    """Blocks per view, titles, buttons and private_metadata have their limits."""
    view = {
        **_modal(*[{"type": "divider"}] * 101),
        "submit": _plain("s" * 25),
        "close": _plain("c" * 25),
        "private_metadata": "m" * 3001,
    }
    paths = {v.path for v in view_violations(view, allowed_types=("modal",))}
    assert {
        "/view/blocks",
        "/view/submit/text",
        "/view/close/text",
        "/view/private_metadata",
    } <= paths


def test_valid_payloads_pass() -> None:
    """Payloads at every limit (not over it) are accepted."""
    block = _input(
        {
            "type": "checkboxes",
            "action_id": "c",
            "options": [_option("o" * 75, str(i) * 150) for i in range(10)],
            "initial_options": [_option("o" * 75, "0" * 150)],
        },
        label=_plain("l" * 2000),
        hint=_plain("h" * 2000),
    )
    assert view_violations(_modal(block), allowed_types=("modal",)) == []
    # Ten fields, and a field of 2,000 characters, within the message's 12,000 in all.
    assert (
        message_violations([{"type": "section", "fields": [_plain("f" * 1199)] * 10}], text="t")
        == []
    )
    assert (
        message_violations([{"type": "section", "fields": [_plain("f" * 2000)] * 5}], text="t")
        == []
    )


@pytest.mark.rejects_payloads
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
@pytest.mark.parametrize("method", ["chat_postMessage", "chat_postEphemeral"])
def test_blocks_without_fallback_text_are_refused(
    fake: FakeSlack, client: WebClient, method: str
) -> None:
    """Blocks without a text fallback fail with invalid_blocks, so the app never omits it."""
    fake.set_members("C_GENERAL", ["UBOT", "U1"])
    with pytest.raises(SlackApiError) as failure:
        getattr(client, method)(channel="C_GENERAL", user="U1", blocks=[_section()])
    assert failure.value.response["error"] == "invalid_blocks"
    [rejected] = fake.acknowledge_rejected_payloads()
    assert rejected.path == "/text"


@pytest.mark.rejects_payloads
def test_a_refused_response_url_post_is_recorded(fake: FakeSlack) -> None:
    """A response_url post with an invalid block is refused (HTTP 400) and recorded."""
    import urllib.error
    import urllib.request

    url = fake.new_response_url(user_id="U1", channel_id="C_GENERAL")
    body = {"text": "t", "blocks": [{"type": "header", "text": _plain("h" * 151)}]}
    request = urllib.request.Request(  # noqa: S310 (a local fake)
        url,
        data=__import__("json").dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request)  # noqa: S310
    [rejected] = fake.acknowledge_rejected_payloads()
    assert (rejected.method, rejected.path) == ("response_url", "/blocks/0/text/text")


SHAPE_CASES = [
    (
        _input({"type": "static_select", "action_id": "s", "options": []}),
        "/view/blocks/0/element/options",
        "at least 1",
    ),
    (
        _input({"type": "multi_static_select", "action_id": "s", "options": []}),
        "/view/blocks/0/element/options",
        "at least 1",
    ),
    (
        _input({"type": "static_select", "action_id": "s", "option_groups": []}),
        "/view/blocks/0/element/option_groups",
        "at least 1",
    ),
    (
        _input(
            {
                "type": "multi_static_select",
                "action_id": "s",
                "options": [_option()],
                "max_selected_items": 0,
            }
        ),
        "/view/blocks/0/element/max_selected_items",
        "at least 1",
    ),
    (
        {"type": "actions", "elements": [{"type": "plain_text_input", "action_id": "t"}]},
        "/view/blocks/0/elements/0/type",
        "only in an input block",
    ),
    (
        _section(accessory={"type": "plain_text_input", "action_id": "t"}),
        "/view/blocks/0/accessory/type",
        "only in an input block",
    ),
    ({"type": "image", "alt_text": "a chart"}, "/view/blocks/0/image_url", "required"),
    ({"type": "divider", "text": _plain("x")}, "/view/blocks/0/text", "unknown key"),
    (_section(verbatim=True), "/view/blocks/0/verbatim", "unknown key"),
]


@pytest.mark.parametrize(("block", "path", "limit"), SHAPE_CASES)
def test_shapes_slack_refuses_are_refused(block: dict[str, Any], path: str, limit: str) -> None:
    """Empty selects, input-only elements outside an input, an image without its URL,
    max_selected_items below 1 and unknown keys on a block are refused at their path."""
    violations = view_violations(_modal(block), allowed_types=("modal",))
    assert any(v.path == path and limit in v.limit for v in violations), violations


def test_shapes_slack_accepts_still_pass() -> None:
    """The allowed forms of the same blocks pass."""
    blocks = [
        _input({"type": "plain_text_input", "action_id": "t"}, optional=True, block_id="t"),
        _input(
            {
                "type": "multi_static_select",
                "action_id": "s",
                "option_groups": [{"label": _plain("g"), "options": [_option()]}],
                "max_selected_items": 1,
            },
            hint=_plain("h"),
            dispatch_action=False,
        ),
        {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "a chart"},
        _section(accessory=_button(), block_id="s"),
        {"type": "divider"},
    ]
    assert view_violations(_modal(*blocks), allowed_types=("modal",)) == []


def test_a_view_over_250_kb_is_refused() -> None:
    """A published view whose JSON is over 250 kB is refused, whatever its blocks."""
    section = _section()
    section["text"]["text"] = "x" * 2900
    big = {"type": "home", "blocks": [dict(section) for _ in range(80)]}
    assert view_violations(big) == []
    section["text"]["text"] = "é" * 1500  # two bytes each in UTF-8: ~270 kB over 90 blocks
    bigger = {
        "type": "home",
        "blocks": [dict(section, text=dict(section["text"])) for _ in range(90)],
    }
    assert any("250000" in v.limit for v in view_violations(bigger))


def test_a_message_over_12000_characters_is_too_long() -> None:
    """Blocks' text plus the fallback over 12,000 characters is refused (msg_too_long)."""
    blocks = [_section() for _ in range(4)]
    for block in blocks:
        block["text"]["text"] = "x" * 2999
    assert message_violations(blocks, text="x" * 4) == []
    [too_long] = message_violations(blocks, text="x" * 5)
    assert "at most 12000 characters (has 12001)" in too_long.limit
