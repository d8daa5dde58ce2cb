"""Choosing a business unit in a modal, at any number of units (sign-up, survey, event form).

Slack refuses a static select with no options, more than 100 options, more than 100 option
groups or 100 options in a group, and a published view over about 250 kB. So a list of unit
names becomes, in order of preference:

- "none": no units, a note instead of an empty select;
- "options": at most 100 units, one select;
- "groups": more, in option groups of at most 100, while their JSON fits a byte budget;
- "typed": past the budget, a plain text input for the unit's name, matched ignoring case and
  surrounding spaces on submit (`resolve_typed`; an unknown name is a field error,
  `unknown_unit`).

The block_id and action_id stay the caller's (SPEC 5.2: business_unit) in every form; the
submitted value is read the same way for a select and a text input (`submitted_unit`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Literal

logger = logging.getLogger(__name__)

# Slack's limits for a static select: options, option groups, and options in one group.
SELECT_MAX = 100
# A published view's JSON (UTF-8, compact) fails above about 250 kB.
VIEW_MAX_BYTES = 250_000
# The units' options in a form whose other parts are small (sign-up, event form): what is
# left of the 250 kB for the rest of the view is ample.
OPTIONS_BUDGET = 200_000
# Per option group: its label object and separators (the label is clipped to 75 characters).
_GROUP_OVERHEAD = 120
# Per option: separators and the template's spacing, on top of the option object's JSON.
_OPTION_OVERHEAD = 8
# A typed name is at most this long (a unit's name is at most 75 characters).
TYPED_MAX = 150

Mode = Literal["none", "options", "groups", "typed"]


@dataclass(frozen=True)
class UnitChoice:
    """How a form offers the units: `mode`, the names, and the option groups for "groups"."""

    mode: Mode
    units: list[str]
    groups: list[tuple[str, list[str]]] | None = None

    @property
    def typed(self) -> bool:
        """Whether the unit's name is typed (too many units to list within a view)."""
        return self.mode == "typed"

    @property
    def listed(self) -> list[str]:
        """The names a select offers (none when typed)."""
        if self.mode == "options":
            return self.units
        if self.mode == "groups" and self.groups:
            return [name for _, names in self.groups for name in names]
        return []


def _option_bytes(name: str) -> int:
    option = {
        "text": {"type": "plain_text", "text": name[:75], "emoji": True},
        "value": name[:150],
    }
    encoded = json.dumps(option, ensure_ascii=False, separators=(",", ":")).encode()
    return len(encoded) + _OPTION_OVERHEAD


def options_bytes(names: list[str], groups: int = 0) -> int:
    """An upper estimate of the bytes of a select's options for these names in `groups`."""
    return sum(_option_bytes(name) for name in names) + groups * _GROUP_OVERHEAD


def choose_units(names: list[str], budget: int | None = None) -> UnitChoice:
    """Select, option groups or a typed name for these units, the options within `budget`
    bytes of the view's JSON (OPTIONS_BUDGET when not given)."""
    budget = OPTIONS_BUDGET if budget is None else budget
    units = list(names)
    if not units:
        return UnitChoice("none", units)
    if len(units) <= SELECT_MAX and options_bytes(units) <= budget:
        return UnitChoice("options", units)
    if len(units) <= SELECT_MAX * SELECT_MAX:
        groups = unit_groups(units)
        if groups is not None and options_bytes(units, len(groups)) <= budget:
            return UnitChoice("groups", units, groups)
    return UnitChoice("typed", units)


def unit_groups(names: list[str]) -> list[tuple[str, list[str]]] | None:
    """Option groups for more units than one select lists (None when they fit as options).

    Units are grouped by initial letter, neighbouring letters packed together up to 100
    options a group ("A-C"); a letter with more than 100 units is split into groups named by
    their first and last unit. Past 100 such groups (thousands of units) plain runs of 100.
    """
    if len(names) <= SELECT_MAX:
        return None
    by_initial: dict[str, list[str]] = {}
    for name in sorted(names, key=str.casefold):
        by_initial.setdefault(name[:1].upper(), []).append(name)
    groups: list[tuple[str, list[str]]] = []
    letters: list[str] = []  # the initials of the last group while it can still take more
    for initial, units in by_initial.items():
        if len(units) > SELECT_MAX:
            letters = []
            groups.extend((f"{initial}: {run[0]} to {run[-1]}", run) for run in _runs(units))
        elif letters and len(groups[-1][1]) + len(units) <= SELECT_MAX:
            letters.append(initial)
            groups[-1] = (f"{letters[0]}-{initial}", [*groups[-1][1], *units])
        else:
            letters = [initial]
            groups.append((initial, list(units)))
    if len(groups) > SELECT_MAX:
        ordered = sorted(names, key=str.casefold)
        groups = [(f"{run[0]} to {run[-1]}", run) for run in _runs(ordered)]
    if len(groups) > SELECT_MAX:
        logger.warning("%d business units: only the first 10000 fit a select", len(names))
    return groups[:SELECT_MAX]


def _runs(names: list[str]) -> list[list[str]]:
    return [names[start : start + SELECT_MAX] for start in range(0, len(names), SELECT_MAX)]


def submitted_unit(values: dict[str, Any], block_id: str, action_id: str | None = None) -> str:
    """The unit in a submitted view's state: a select's chosen value or the typed text
    (stripped; "" when none)."""
    action = (values.get(block_id) or {}).get(action_id or block_id) or {}
    chosen = action.get("selected_option") or {}
    return str(chosen.get("value") or action.get("value") or "").strip()


def resolve_typed(name: str, units: list[str]) -> str | None:
    """The unit's name as the programme spells it, matching ignoring case and surrounding
    spaces; None when no unit has that name."""
    wanted = name.strip().casefold()
    if not wanted:
        return None
    return next((unit for unit in units if unit.casefold() == wanted), None)


def unknown_unit(name: str) -> str:
    """The field error for a typed name no unit has."""
    return (
        f"There is no business unit called “{name.strip()[:80]}” in the programme. "
        "Check the spelling (capitals do not matter)."
    )
