"""Block Kit checks the fake Slack applies to what the app sends, as Slack would."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_PRIVATE_METADATA = 3000
MAX_INPUT_LENGTH = 3000
MAX_ID_LENGTH = 255
MAX_VIEW_TITLE = 24
MAX_INPUT_LABEL = 2000
MAX_INPUT_HINT = 2000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTION_DESCRIPTION = 75
MAX_SELECT_OPTIONS = 100
MAX_OPTION_GROUPS = 100
MAX_GROUP_LABEL = 75
MAX_CHOICE_OPTIONS = 10
MAX_OVERFLOW_OPTIONS = 5
MAX_PLACEHOLDER = 150
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_TEXT_OBJECT = 3000
MAX_IMAGE_ALT = 2000
# A published view's JSON (UTF-8, compact) fails above about 250 kB.
MAX_VIEW_BYTES = 250_000
# A whole message (its blocks' text plus the fallback) fails above about 12-13k characters.
MAX_MESSAGE_CHARS = 12_000
# The checks with a name: all on; a test of the fake may pass `enforce=` to isolate one.
ENFORCED = frozenset({"view_bytes", "empty_options", "message_chars"})
VIEW_TYPES = ("modal", "home")
# Methods whose blocks need a plain `text` fallback (notifications, screen readers). Slack
# only logs a warning without one; allybot treats it as a refusal so it is never omitted.
FALLBACK_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})

# Elements that work only in an input block (not in actions, not as a section accessory).
INPUT_ONLY_ELEMENTS = frozenset(
    {
        "plain_text_input",
        "email_text_input",
        "number_input",
        "url_text_input",
        "rich_text_input",
        "file_input",
    }
)
# The keys each block type takes besides type and block_id; Slack refuses any other.
BLOCK_KEYS: dict[str, frozenset[str]] = {
    "section": frozenset({"text", "fields", "accessory", "expand"}),
    "divider": frozenset(),
    "header": frozenset({"text"}),
    "context": frozenset({"elements"}),
    "actions": frozenset({"elements"}),
    "input": frozenset({"label", "element", "dispatch_action", "hint", "optional"}),
    "image": frozenset({"image_url", "slack_file", "alt_text", "title"}),
    "rich_text": frozenset({"elements"}),
    "markdown": frozenset({"text"}),
    "file": frozenset({"external_id", "source"}),
    "video": frozenset(
        {
            "alt_text",
            "author_name",
            "description",
            "provider_icon_url",
            "provider_name",
            "title",
            "title_url",
            "thumbnail_url",
            "video_url",
        }
    ),
}

_ID_ALPHABET = string.ascii_letters + string.digits
_MODEL_ERRORS = (SlackObjectFormationError, TypeError, ValueError, AttributeError, KeyError)


@dataclass(frozen=True)
class Violation:
    """One broken Block Kit rule: where (a json-pointer) and which limit."""

    path: str
    limit: str

    def message(self) -> str:
        """The line Slack puts in response_metadata.messages."""
        return f"[ERROR] {self.limit} [json-pointer:{self.path}]"


class ApiError(Exception):
    """A Web API failure: Slack's error code plus optional detail messages."""

    def __init__(
        self,
        error: str,
        messages: list[str] | None = None,
        status: int = 200,
        violations: list[Violation] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.violations = violations or []
        self.messages = messages or [v.message() for v in self.violations]
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


def message_violations(
    blocks: list[dict[str, Any]],
    *,
    text: Any = None,
    needs_fallback: bool = False,
    enforce: frozenset[str] = ENFORCED,
) -> list[Violation]:
    """Every rule a message's blocks (and its text fallback) break."""
    found = _Walk(enforce=enforce)
    found.blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
    if needs_fallback and blocks and not (isinstance(text, str) and text.strip()):
        found.add("/text", "a message with blocks needs a non-empty text fallback")
    if "message_chars" in enforce:
        chars = message_chars(blocks, text)
        if chars > MAX_MESSAGE_CHARS:
            found.add("", f"{TOO_LONG}: at most {MAX_MESSAGE_CHARS} characters (has {chars})")
    return found.violations


TOO_LONG = "a message's blocks' text plus its fallback"


def message_chars(blocks: Any, text: Any = None) -> int:
    """The characters of text a message carries: every text in its blocks, and the fallback."""
    total = len(text) if isinstance(text, str) else 0
    stack = [blocks]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    total += len(value)
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return total


def view_violations(
    view: dict[str, Any],
    *,
    allowed_types: tuple[str, ...] = VIEW_TYPES,
    enforce: frozenset[str] = ENFORCED,
) -> list[Violation]:
    """Every rule a view (modal or Home tab) breaks, anywhere in its tree."""
    found = _Walk(enforce=enforce)
    found.view(view, "/view", allowed_types)
    return found.violations


def check_message_blocks(
    blocks: list[dict[str, Any]], *, text: Any = None, needs_fallback: bool = False
) -> None:
    """Fail with invalid_blocks when message blocks break Block Kit's rules, or with
    msg_too_long when only the message's length is over."""
    violations = message_violations(blocks, text=text, needs_fallback=needs_fallback)
    if violations and all(v.limit.startswith(TOO_LONG) for v in violations):
        raise ApiError("msg_too_long", violations=violations)
    if violations:
        raise ApiError("invalid_blocks", violations=violations)


def check_view(view: dict[str, Any], *, allowed_types: tuple[str, ...] = VIEW_TYPES) -> None:
    """Fail with invalid_arguments when a view breaks Slack's rules."""
    violations = view_violations(view, allowed_types=allowed_types)
    if violations:
        raise ApiError("invalid_arguments", violations=violations)


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


def _is_dict_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _option_key(option: Any) -> Any:
    """What makes two option objects the same option (Slack matches initial ones by it)."""
    if not isinstance(option, dict):
        return None
    text: dict[str, Any] = option["text"] if isinstance(option.get("text"), dict) else {}
    desc: dict[str, Any] = (
        option["description"] if isinstance(option.get("description"), dict) else {}
    )
    return (text.get("type"), text.get("text"), option.get("value"), desc.get("text"))


@dataclass
class _Walk:
    """Walks a payload's whole tree and collects every rule it breaks, with its path."""

    violations: list[Violation] = field(default_factory=list)
    enforce: frozenset[str] = ENFORCED

    def add(self, path: str, limit: str) -> None:
        self.violations.append(Violation(path, limit))

    def max_len(self, value: Any, path: str, limit: int, what: str) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.add(path, f"{what} must be a string")
        elif len(value) > limit:
            self.add(path, f"{what} must be at most {limit} characters (has {len(value)})")

    def text(
        self,
        obj: Any,
        path: str,
        limit: int,
        what: str,
        *,
        plain: bool = False,
        required: bool = True,
    ) -> None:
        """A text object: the right type, non-empty, at most `limit` characters."""
        if obj is None:
            if required:
                self.add(path, f"{what} is required")
            return
        if not isinstance(obj, dict):
            self.add(path, f"{what} must be a text object")
            return
        allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if obj.get("type") not in allowed:
            self.add(f"{path}/type", f"{what} must be of type {' or '.join(allowed)}")
        value = obj.get("text")
        if not isinstance(value, str) or not value:
            self.add(f"{path}/text", f"{what} must be a non-empty string")
        elif len(value) > limit:
            self.add(
                f"{path}/text", f"{what} must be at most {limit} characters (has {len(value)})"
            )

    # views and blocks

    def view(self, view: dict[str, Any], path: str, allowed_types: tuple[str, ...]) -> None:
        before = len(self.violations)
        view_type = view.get("type")
        if view_type not in allowed_types:
            self.add(f"{path}/type", f"view type must be one of {list(allowed_types)}")
        blocks = view.get("blocks")
        if not isinstance(blocks, list) or not _is_dict_list(blocks):
            self.add(f"{path}/blocks", "view blocks must be an array of objects")
            return
        if view_type == "modal":
            self.text(view.get("title"), f"{path}/title", MAX_VIEW_TITLE, "modal title", plain=True)
            for key in ("submit", "close"):
                if key in view:
                    self.text(
                        view[key], f"{path}/{key}", MAX_VIEW_TITLE, f"modal {key}", plain=True
                    )
            if any(b.get("type") == "input" for b in blocks) and not view.get("submit"):
                self.add(f"{path}/submit", "a modal with input blocks needs a submit button")
        for key in ("private_metadata", "callback_id", "external_id"):
            limit = MAX_PRIVATE_METADATA if key == "private_metadata" else MAX_ID_LENGTH
            self.max_len(view.get(key), f"{path}/{key}", limit, key)
        self.blocks(blocks, f"{path}/blocks", MAX_VIEW_BLOCKS)
        size = len(json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode())
        if "view_bytes" in self.enforce and size > MAX_VIEW_BYTES:
            self.add(path, f"a view's JSON must be at most {MAX_VIEW_BYTES} bytes (has {size})")
        if len(self.violations) == before:
            # slack_sdk's own view checks, on the view alone (its blocks were walked above).
            try:
                View(**{**view, "blocks": [{"type": "divider"}]}).to_dict()
            except _MODEL_ERRORS as exc:
                self.add(path, f"slack_sdk refuses the view: {exc}")

    def blocks(self, blocks: list[dict[str, Any]], path: str, limit: int) -> None:
        if len(blocks) > limit:
            self.add(path, f"no more than {limit} items allowed (has {len(blocks)})")
        seen: set[str] = set()
        for index, block in enumerate(blocks):
            block_path = f"{path}/{index}"
            block_id = block.get("block_id")
            if isinstance(block_id, str):
                if block_id in seen:
                    self.add(f"{block_path}/block_id", f"duplicate block_id {block_id!r}")
                seen.add(block_id)
            self.block(block, block_path)

    def block(self, block: dict[str, Any], path: str) -> None:
        block_type = block.get("type")
        try:
            parsed = Block.parse(block)
        except _MODEL_ERRORS as exc:
            self.add(path, f"slack_sdk cannot read the block: {exc}")
            return
        if parsed is None:
            self.add(f"{path}/type", f"unknown block type {block_type!r}")
            return
        before = len(self.violations)
        known_keys = BLOCK_KEYS.get(str(block_type))
        if known_keys is not None:
            for key in block:
                if key not in known_keys and key not in ("type", "block_id"):
                    self.add(f"{path}/{key}", f"unknown key {key!r} on a {block_type} block")
        block_id = block.get("block_id")
        if block_id is not None:
            self.max_len(block_id, f"{path}/block_id", MAX_ID_LENGTH, "block_id")
        action_ids: set[str] = set()
        if block_type == "section":
            if block.get("text") is None and not block.get("fields"):
                self.add(path, "a section needs text or fields")
            self.text(
                block.get("text"), f"{path}/text", MAX_SECTION_TEXT, "section text", required=False
            )
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list):
                    self.add(f"{path}/fields", "section fields must be an array")
                    fields = []
                if len(fields) > MAX_FIELDS:
                    self.add(
                        f"{path}/fields",
                        f"section fields: at most {MAX_FIELDS} (has {len(fields)})",
                    )
                for i, item in enumerate(fields):
                    self.text(item, f"{path}/fields/{i}", MAX_FIELD_TEXT, "section field text")
            if "accessory" in block:
                self.element(block["accessory"], f"{path}/accessory", action_ids, outside=True)
        elif block_type == "header":
            self.text(block.get("text"), f"{path}/text", MAX_HEADER_TEXT, "header text", plain=True)
        elif block_type == "context":
            self.context(block.get("elements"), f"{path}/elements")
        elif block_type == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                self.add(f"{path}/elements", "actions elements must be a non-empty array")
                elements = []
            if len(elements) > MAX_ACTIONS_ELEMENTS:
                self.add(f"{path}/elements", f"actions elements: at most {MAX_ACTIONS_ELEMENTS}")
            for i, item in enumerate(elements):
                self.element(item, f"{path}/elements/{i}", action_ids, outside=True)
        elif block_type == "input":
            self.text(
                block.get("label"), f"{path}/label", MAX_INPUT_LABEL, "input label", plain=True
            )
            self.text(
                block.get("hint"),
                f"{path}/hint",
                MAX_INPUT_HINT,
                "input hint",
                plain=True,
                required=False,
            )
            if not isinstance(block.get("element"), dict):
                self.add(f"{path}/element", "an input block needs an element")
            else:
                self.element(block["element"], f"{path}/element", action_ids)
        elif block_type == "image":
            if not block.get("image_url") and not block.get("slack_file"):
                self.add(f"{path}/image_url", "an image block's image_url is required")
            if not block.get("alt_text"):
                self.add(f"{path}/alt_text", "an image block's alt_text is required")
            self.max_len(block.get("image_url"), f"{path}/image_url", MAX_URL, "image_url")
            self.max_len(block.get("alt_text"), f"{path}/alt_text", MAX_IMAGE_ALT, "alt_text")
            self.text(
                block.get("title"),
                f"{path}/title",
                MAX_IMAGE_ALT,
                "image title",
                plain=True,
                required=False,
            )
        if len(self.violations) == before:
            # slack_sdk's checks on the whole block: to_dict() walks and raises, where
            # validate_json() would only look at the block itself.
            try:
                parsed.to_dict()
            except _MODEL_ERRORS as exc:
                self.add(path, f"slack_sdk refuses the block: {exc}")

    def context(self, elements: Any, path: str) -> None:
        if not isinstance(elements, list) or not elements:
            self.add(path, "context elements must be a non-empty array")
            return
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            self.add(
                path, f"context elements: at most {MAX_CONTEXT_ELEMENTS} (has {len(elements)})"
            )
        for i, item in enumerate(elements):
            item_path = f"{path}/{i}"
            kind = item.get("type") if isinstance(item, dict) else None
            if kind == "image":
                self.max_len(
                    item.get("alt_text"), f"{item_path}/alt_text", MAX_IMAGE_ALT, "alt_text"
                )
            else:
                self.text(item, item_path, MAX_TEXT_OBJECT, "context text")

    # elements

    def element(
        self, element: Any, path: str, action_ids: set[str], *, outside: bool = False
    ) -> None:
        """One element; `outside` an input block (actions, a section's accessory)."""
        if not isinstance(element, dict):
            self.add(path, "an element must be an object")
            return
        kind = element.get("type")
        if outside and kind in INPUT_ONLY_ELEMENTS:
            self.add(f"{path}/type", f"{kind} works only in an input block")
        action_id = element.get("action_id")
        if action_id is not None:
            self.max_len(action_id, f"{path}/action_id", MAX_ID_LENGTH, "action_id")
            if action_id in action_ids:
                self.add(f"{path}/action_id", f"duplicate action_id {action_id!r} in one block")
            if isinstance(action_id, str):
                action_ids.add(action_id)
        if "placeholder" in element:
            self.text(
                element["placeholder"],
                f"{path}/placeholder",
                MAX_PLACEHOLDER,
                "placeholder",
                plain=True,
            )
        if "confirm" in element:
            self.confirm(element["confirm"], f"{path}/confirm")
        if kind == "button":
            self.text(
                element.get("text"), f"{path}/text", MAX_BUTTON_TEXT, "button text", plain=True
            )
            self.max_len(element.get("value"), f"{path}/value", MAX_BUTTON_VALUE, "button value")
            self.max_len(element.get("url"), f"{path}/url", MAX_URL, "button url")
        elif kind in ("static_select", "multi_static_select"):
            self.select(element, path, multi=kind.startswith("multi_"))
        elif kind in ("external_select", "multi_external_select"):
            initial = element.get("initial_options") or []
            if element.get("initial_option") is not None:
                initial = [element["initial_option"]]
            for i, option in enumerate(initial):
                self.option(option, f"{path}/initial_options/{i}", plain=True)
        elif kind == "overflow":
            self.choices(element, path, low=1, high=MAX_OVERFLOW_OPTIONS, initial=None, plain=True)
        elif kind == "radio_buttons":
            self.choices(element, path, low=1, high=MAX_CHOICE_OPTIONS, initial="initial_option")
        elif kind == "checkboxes":
            self.choices(element, path, low=1, high=MAX_CHOICE_OPTIONS, initial="initial_options")
        elif kind == "plain_text_input":
            self.input_bounds(element, path)

    def option(self, option: Any, path: str, *, plain: bool) -> None:
        if not isinstance(option, dict):
            self.add(path, "an option must be an object")
            return
        self.text(option.get("text"), f"{path}/text", MAX_OPTION_TEXT, "option text", plain=plain)
        value = option.get("value")
        if not isinstance(value, str) or not value:
            self.add(f"{path}/value", "option value must be a non-empty string")
        else:
            self.max_len(value, f"{path}/value", MAX_OPTION_VALUE, "option value")
        self.text(
            option.get("description"),
            f"{path}/description",
            MAX_OPTION_DESCRIPTION,
            "option description",
            plain=plain,
            required=False,
        )
        self.max_len(option.get("url"), f"{path}/url", MAX_URL, "option url")

    def options(self, options: Any, path: str, *, plain: bool) -> list[Any]:
        if not isinstance(options, list):
            self.add(path, "options must be an array")
            return []
        for i, option in enumerate(options):
            self.option(option, f"{path}/{i}", plain=plain)
        return options

    def initial(self, element: dict[str, Any], key: str, path: str, known: list[Any]) -> None:
        """initial_option(s) must each be one of the element's options."""
        value = element.get(key)
        if value is None:
            return
        chosen = value if key == "initial_options" else [value]
        if not isinstance(chosen, list):
            self.add(f"{path}/{key}", f"{key} must be an array")
            return
        keys = {_option_key(o) for o in known}
        for i, option in enumerate(chosen):
            where = f"{path}/{key}/{i}" if key == "initial_options" else f"{path}/{key}"
            if _option_key(option) not in keys:
                self.add(where, f"{key} must equal one of the element's options")

    def select(self, element: dict[str, Any], path: str, *, multi: bool) -> None:
        options = element.get("options")
        groups = element.get("option_groups")
        if (options is None) == (groups is None):
            self.add(path, "a static select needs exactly one of options or option_groups")
        known: list[Any] = []
        if multi and "max_selected_items" in element:
            most = element["max_selected_items"]
            if not isinstance(most, int) or isinstance(most, bool) or most < 1:
                self.add(f"{path}/max_selected_items", "max_selected_items must be at least 1")
        if options is not None:
            known += self.options(options, f"{path}/options", plain=True)
            if "empty_options" in self.enforce and isinstance(options, list) and not options:
                self.add(f"{path}/options", "options: at least 1 (has 0)")
            if len(known) > MAX_SELECT_OPTIONS:
                self.add(
                    f"{path}/options", f"options: at most {MAX_SELECT_OPTIONS} (has {len(known)})"
                )
        if groups is not None:
            if not isinstance(groups, list):
                self.add(f"{path}/option_groups", "option_groups must be an array")
                groups = []
            if "empty_options" in self.enforce and not groups:
                self.add(f"{path}/option_groups", "option_groups: at least 1 (has 0)")
            if len(groups) > MAX_OPTION_GROUPS:
                self.add(
                    f"{path}/option_groups",
                    f"option_groups: at most {MAX_OPTION_GROUPS} (has {len(groups)})",
                )
            for g, group in enumerate(groups):
                group_path = f"{path}/option_groups/{g}"
                if not isinstance(group, dict):
                    self.add(group_path, "an option group must be an object")
                    continue
                self.text(
                    group.get("label"),
                    f"{group_path}/label",
                    MAX_GROUP_LABEL,
                    "option group label",
                    plain=True,
                )
                grouped = self.options(group.get("options"), f"{group_path}/options", plain=True)
                if "empty_options" in self.enforce and group.get("options") == []:
                    self.add(f"{group_path}/options", "options in a group: at least 1 (has 0)")
                if len(grouped) > MAX_SELECT_OPTIONS:
                    self.add(
                        f"{group_path}/options",
                        f"options in a group: at most {MAX_SELECT_OPTIONS} (has {len(grouped)})",
                    )
                known += grouped
        self.initial(element, "initial_options" if multi else "initial_option", path, known)

    def choices(
        self,
        element: dict[str, Any],
        path: str,
        *,
        low: int,
        high: int,
        initial: str | None,
        plain: bool = False,
    ) -> None:
        options = self.options(element.get("options"), f"{path}/options", plain=plain)
        kind = element.get("type")
        if not low <= len(options) <= high:
            self.add(f"{path}/options", f"{kind} options: {low} to {high} (has {len(options)})")
        if initial is not None:
            self.initial(element, initial, path, options)

    def input_bounds(self, element: dict[str, Any], path: str) -> None:
        bounds: dict[str, int] = {}
        for key, low in (("min_length", 0), ("max_length", 1)):
            bound = element.get(key)
            if bound is None:
                continue
            if not isinstance(bound, int) or not low <= bound <= MAX_INPUT_LENGTH:
                self.add(
                    f"{path}/{key}",
                    f"plain_text_input {key} must be between {low} and {MAX_INPUT_LENGTH}",
                )
            else:
                bounds[key] = bound
        if bounds.get("min_length", 0) > bounds.get("max_length", MAX_INPUT_LENGTH):
            self.add(path, "plain_text_input min_length must not exceed max_length")
        self.max_len(
            element.get("initial_value"), f"{path}/initial_value", MAX_INPUT_LENGTH, "initial_value"
        )

    def confirm(self, confirm: Any, path: str) -> None:
        if not isinstance(confirm, dict):
            self.add(path, "confirm must be an object")
            return
        self.text(
            confirm.get("title"), f"{path}/title", MAX_CONFIRM_TITLE, "confirm title", plain=True
        )
        self.text(confirm.get("text"), f"{path}/text", MAX_CONFIRM_TEXT, "confirm text")
        self.text(
            confirm.get("confirm"),
            f"{path}/confirm",
            MAX_CONFIRM_BUTTON,
            "confirm button",
            plain=True,
        )
        self.text(
            confirm.get("deny"), f"{path}/deny", MAX_CONFIRM_BUTTON, "deny button", plain=True
        )
