"""Builders for the interactive payload pieces Slack sends: actions and view state."""

from __future__ import annotations

import time
from typing import Any

from bot.devkit.fakeslack.validation import iter_elements

_SINGLE_OPTION = ("static_select", "radio_buttons", "overflow", "external_select")
_MULTI_OPTION = ("checkboxes", "multi_static_select", "multi_external_select")


def find_element(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]] | None:
    """Return (block_id, element) for the element with this action_id, if present."""
    for block in blocks:
        for element in iter_elements(block):
            if element.get("action_id") == action_id:
                return str(block.get("block_id", "")), element
    return None


def all_options(element: dict[str, Any]) -> list[dict[str, Any]]:
    """Return an element's options, including those inside option groups."""
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def option_for(element: dict[str, Any], value: Any, *, where: str) -> dict[str, Any]:
    """Return the option whose value matches, or fail the test with the choices available."""
    options = all_options(element)
    for option in options:
        if option.get("value") == value:
            return option
    choices = [o.get("value") for o in options]
    raise AssertionError(f"{where}: no option with value {value!r}; options are {choices}")


def action_entry(block_id: str, element: dict[str, Any], value: Any) -> dict[str, Any]:
    """Return one item of a block_actions payload's actions list."""
    element_type = element.get("type", "button")
    action: dict[str, Any] = {
        "type": element_type,
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
    }
    where = f"action {element.get('action_id')!r}"
    if element_type == "button":
        action["text"] = element.get("text")
        if value is not None:
            action["value"] = value
        if element.get("style"):
            action["style"] = element["style"]
    elif element_type in _SINGLE_OPTION:
        action["selected_option"] = option_for(element, value, where=where)
    elif element_type in _MULTI_OPTION:
        action["selected_options"] = _selected_options(element, value, where=where)
    else:
        action.update(_input_value(element, value, where=where))
    return action


def view_state(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Return state.values for a view: given values by block_id (or action_id), others empty."""
    state: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for block in view.get("blocks", []):
        if block.get("type") not in ("input", "actions", "section"):
            continue
        block_id = str(block.get("block_id", ""))
        for element in iter_elements(block):
            action_id = element.get("action_id")
            if action_id is None or element.get("type") == "button":
                continue
            key = block_id if block_id in values else action_id
            if block.get("type") != "input" and key not in values:
                continue
            where = f"view {view.get('callback_id')!r} block {block_id!r}"
            given = values.get(key)
            if key in values:
                used.add(key)
            state.setdefault(block_id, {})[action_id] = _element_state(element, given, where)
    unknown = sorted(set(values) - used)
    if unknown:
        raise AssertionError(f"no input in view {view.get('callback_id')!r} for {unknown}")
    return state


def _element_state(element: dict[str, Any], value: Any, where: str) -> dict[str, Any]:
    element_type = element.get("type")
    entry: dict[str, Any] = {"type": element_type}
    if element_type in _SINGLE_OPTION:
        entry["selected_option"] = (
            None if value is None else option_for(element, value, where=where)
        )
    elif element_type in _MULTI_OPTION:
        entry["selected_options"] = _selected_options(element, value, where=where)
    else:
        entry.update(_input_value(element, value, where=where))
    return entry


def _selected_options(element: dict[str, Any], value: Any, *, where: str) -> list[dict[str, Any]]:
    if value is None or value is False:
        return []
    if value is True:
        return all_options(element)
    wanted = value if isinstance(value, list | tuple | set) else [value]
    return [option_for(element, v, where=where) for v in wanted]


def _input_value(element: dict[str, Any], value: Any, *, where: str) -> dict[str, Any]:
    element_type = element.get("type")
    if element_type in ("users_select", "multi_users_select"):
        key = "selected_user" if element_type == "users_select" else "selected_users"
        return {key: value if value is not None else ([] if key.endswith("s") else None)}
    if element_type in ("conversations_select", "channels_select"):
        key = (
            "selected_conversation"
            if element_type == "conversations_select"
            else "selected_channel"
        )
        return {key: value}
    if element_type in ("multi_conversations_select", "multi_channels_select"):
        key = (
            "selected_conversations"
            if element_type == "multi_conversations_select"
            else "selected_channels"
        )
        return {key: list(value or [])}
    if element_type == "datepicker":
        return {"selected_date": value}
    if element_type == "timepicker":
        return {"selected_time": value}
    if element_type == "datetimepicker":
        return {"selected_date_time": value}
    if element_type in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        return {"value": None if value is None else str(value)}
    raise AssertionError(f"{where}: cannot fill an element of type {element_type!r}")
