"""Block Kit checks the fake Slack applies to what the app sends, as Slack would."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_PRIVATE_METADATA = 3000
MAX_INPUT_LENGTH = 3000
MAX_ID_LENGTH = 255
VIEW_TYPES = ("modal", "home")

_ID_ALPHABET = string.ascii_letters + string.digits


class ApiError(Exception):
    """A Web API failure: Slack's error code plus optional detail messages."""

    def __init__(self, error: str, messages: list[str] | None = None, status: int = 200) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
        self.status = status

    def body(self) -> dict[str, Any]:
        """Return the JSON body Slack would answer with."""
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


def decode_json_arg(value: Any, *, error: str) -> Any:
    """Decode an argument that form posts carry as a JSON string."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError(error, [f"[ERROR] {exc}"]) from exc
    return value


def parse_blocks(value: Any) -> list[dict[str, Any]]:
    """Return the blocks argument as a list of dicts, or fail with invalid_blocks_format."""
    blocks = decode_json_arg(value, error="invalid_blocks_format")
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise ApiError("invalid_blocks_format", ["[ERROR] blocks must be an array of objects"])
    return blocks


def check_message_blocks(blocks: list[dict[str, Any]]) -> None:
    """Fail with invalid_blocks when message blocks break Block Kit's rules."""
    problems = _block_problems(blocks, MAX_MESSAGE_BLOCKS)
    if problems:
        raise ApiError("invalid_blocks", problems)


def check_view(view: dict[str, Any], *, allowed_types: tuple[str, ...] = VIEW_TYPES) -> None:
    """Fail with invalid_arguments when a view breaks Slack's rules."""
    problems: list[str] = []
    view_type = view.get("type")
    if view_type not in allowed_types:
        problems.append(
            f"[ERROR] view type must be one of {list(allowed_types)} [json-pointer:/view/type]"
        )
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        problems.append(
            "[ERROR] view.blocks must be an array of objects [json-pointer:/view/blocks]"
        )
        raise ApiError("invalid_arguments", problems)
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError, ValueError, AttributeError) as exc:
        problems.append(f"[ERROR] {exc} [json-pointer:/view]")
    metadata = view.get("private_metadata") or ""
    if len(metadata) > MAX_PRIVATE_METADATA:
        problems.append(
            f"[ERROR] private_metadata must be at most {MAX_PRIVATE_METADATA} characters "
            "[json-pointer:/view/private_metadata]"
        )
    callback_id = view.get("callback_id") or ""
    if len(callback_id) > MAX_ID_LENGTH:
        problems.append("[ERROR] callback_id must be at most 255 characters")
    if (
        view_type == "modal"
        and any(b.get("type") == "input" for b in blocks)
        and not view.get("submit")
    ):
        problems.append(
            "[ERROR] a modal with input blocks needs a submit button [json-pointer:/view]"
        )
    problems.extend(_block_problems(blocks, MAX_VIEW_BLOCKS))
    if problems:
        raise ApiError("invalid_arguments", problems)


def fill_generated_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give blocks and interactive elements the random ids Slack assigns when absent."""
    filled = json.loads(json.dumps(blocks))
    for block in filled:
        block.setdefault("block_id", _random_id())
        for element in iter_elements(block):
            if element.get("type") in _INTERACTIVE_TYPES:
                element.setdefault("action_id", _random_id())
    return filled


def iter_elements(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield the interactive-capable elements of one block."""
    accessory = block.get("accessory")
    if isinstance(accessory, dict):
        yield accessory
    element = block.get("element")
    if isinstance(element, dict):
        yield element
    if block.get("type") in ("actions", "input"):
        for item in block.get("elements") or []:
            if isinstance(item, dict):
                yield item


_INTERACTIVE_TYPES = frozenset(
    {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "timepicker",
        "email_text_input",
        "number_input",
        "url_text_input",
        "plain_text_input",
        "overflow",
        "radio_buttons",
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
        "rich_text_input",
        "file_input",
    }
)


def _random_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(5))


def _block_problems(blocks: list[dict[str, Any]], limit: int) -> list[str]:
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"[ERROR] no more than {limit} items allowed [json-pointer:/blocks]")
    seen_block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        pointer = f"[json-pointer:/blocks/{index}]"
        problems.extend(f"{p} {pointer}" for p in _one_block_problems(block))
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen_block_ids:
                problems.append(f"[ERROR] duplicate block_id {block_id!r} {pointer}")
            seen_block_ids.add(block_id)
    return problems


def _one_block_problems(block: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    try:
        parsed = Block.parse(block)
    except (SlackObjectFormationError, TypeError, ValueError, AttributeError, KeyError) as exc:
        return [f"[ERROR] {exc}"]
    if parsed is None:
        return [f"[ERROR] unknown block type {block.get('type')!r}"]
    try:
        parsed.validate_json()
    except (SlackObjectFormationError, TypeError, ValueError, AttributeError) as exc:
        problems.append(f"[ERROR] {exc}")
    block_id = block.get("block_id")
    if block_id is not None and (not isinstance(block_id, str) or len(block_id) > MAX_ID_LENGTH):
        problems.append("[ERROR] block_id must be a string of at most 255 characters")
    text = block.get("text")
    if (
        block.get("type") == "section"
        and isinstance(text, dict)
        and len(str(text.get("text", ""))) > MAX_SECTION_TEXT
    ):
        problems.append(f"[ERROR] section text must be at most {MAX_SECTION_TEXT} characters")
    seen_action_ids: set[str] = set()
    for element in iter_elements(block):
        problems.extend(_element_problems(element, seen_action_ids))
    return problems


def _element_problems(element: dict[str, Any], seen_action_ids: set[str]) -> list[str]:
    problems: list[str] = []
    element_type = element.get("type")
    action_id = element.get("action_id")
    if action_id is not None:
        if not isinstance(action_id, str) or len(action_id) > MAX_ID_LENGTH:
            problems.append("[ERROR] action_id must be a string of at most 255 characters")
        elif action_id in seen_action_ids:
            problems.append(f"[ERROR] duplicate action_id {action_id!r} in one block")
        else:
            seen_action_ids.add(action_id)
    if element_type == "plain_text_input":
        for key in ("max_length", "min_length"):
            bound = element.get(key)
            if bound is not None and (not isinstance(bound, int) or bound > MAX_INPUT_LENGTH):
                problems.append(
                    f"[ERROR] plain_text_input {key} must be at most {MAX_INPUT_LENGTH}"
                )
    return problems
