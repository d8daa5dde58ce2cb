"""Ids are typed once: each lives in its feature's Ids enum, templates only name it, and every
id is something the app listens to or a template renders."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest
from jinja2 import nodes
from slack_bolt import App, BoltRequest, BoltResponse

import handlers
from bot.devkit.sandbox import Sandbox
from handlers import IDS, use_template_ids
from messages import render as render_module
from messages.render import TEMPLATES, MissingIdError, render

ID_KEYS = ("action_id", "block_id", "callback_id", "external_id")
# `"action_id": ` (any id key) followed by anything but an expression: a literal id.
LITERAL_ID = re.compile(
    r'"(?:' + "|".join(ID_KEYS) + r')"\s*:(?!\s*\{\{)\s*("(?:[^"\\]|\\.)*"|[^\s,}]*)'
)
ID_KEY_BEFORE_EXPRESSION = re.compile(r'"(?:' + "|".join(ID_KEYS) + r')"\s*:\s*$')
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Template:
    """One template's name, its source without comments, and its Jinja syntax tree."""

    name: str
    source: str
    tree: nodes.Template


def _templates(root: Path = TEMPLATES) -> list[Template]:
    env = render_module._ENV
    found = []
    for path in sorted(root.rglob("*.j2")):
        text = path.read_text(encoding="utf-8")
        found.append(
            Template(
                name=str(path.relative_to(root)),
                source=re.sub(r"\{#.*?#\}", lambda m: "\n" * m[0].count("\n"), text, flags=re.S),
                tree=env.parse(text),
            )
        )
    return found


def _enums() -> dict[str, type[StrEnum]]:
    """Every `Ids` enum declared under handlers/, by module."""
    found: dict[str, type[StrEnum]] = {}
    for info in pkgutil.walk_packages(handlers.__path__, "handlers."):
        module = importlib.import_module(info.name)
        ids = getattr(module, "Ids", None)
        if inspect.isclass(ids) and issubclass(ids, StrEnum) and ids.__module__ == info.name:
            found[info.name] = ids
    return found


def _names(node: nodes.Node) -> Iterator[tuple[str, str]]:
    """(feature, NAME) of every `ids.<feature>.<NAME>` under a node."""
    for attr in node.find_all(nodes.Getattr):
        inner = attr.node
        if (
            isinstance(inner, nodes.Getattr)
            and isinstance(inner.node, nodes.Name)
            and inner.node.name == "ids"
        ):
            yield inner.attr, attr.attr


def _rendered(templates: list[Template]) -> set[tuple[str, str]]:
    return {name for t in templates for name in _names(t.tree)}


def _unwrap(node: nodes.Node) -> nodes.Node:
    while isinstance(node, nodes.Filter) and node.node is not None:
        node = node.node
    return node


def _id_parameters(templates: list[Template]) -> dict[str, set[int]]:
    """Macro name -> positions of its parameters that a body writes as an id (`"action_id":
    {{ param | tojson }}`), so a call passing a literal there types an id."""
    found: dict[str, set[int]] = {}
    for t in templates:
        for macro in t.tree.find_all(nodes.Macro):
            params = [a.name for a in macro.args]
            for output in macro.find_all(nodes.Output):
                for before, node in zip(output.nodes, output.nodes[1:], strict=False):
                    value = _unwrap(node)
                    if (
                        isinstance(before, nodes.TemplateData)
                        and ID_KEY_BEFORE_EXPRESSION.search(before.data)
                        and isinstance(value, nodes.Name)
                        and value.name in params
                    ):
                        found.setdefault(macro.name, set()).add(params.index(value.name))
    return found


def _literal_ids(templates: list[Template], listened: set[str]) -> list[str]:
    """Where a template types an id instead of naming it."""
    problems = []
    macros = _id_parameters(templates)
    for t in templates:
        for match in LITERAL_ID.finditer(t.source):
            line = t.source.count("\n", 0, match.start()) + 1
            problems.append(f"{t.name}:{line}: literal id {match[1]!r}")
        for call in t.tree.find_all(nodes.Call):
            callee = call.node
            name = getattr(callee, "attr", None) or getattr(callee, "name", None)
            for index in macros.get(str(name), ()):
                if index < len(call.args) and isinstance(call.args[index], nodes.Const):
                    problems.append(
                        f"{t.name}:{call.lineno}: {name}() given the literal id "
                        f"{call.args[index].value!r}"
                    )
        for const in t.tree.find_all(nodes.Const):
            if isinstance(const.value, str) and const.value in listened:
                problems.append(f"{t.name}:{const.lineno}: literal {const.value!r}")
        for data in t.tree.find_all(nodes.TemplateData):
            for quoted in QUOTED.findall(data.data):
                if quoted in listened:
                    problems.append(f"{t.name}: literal {quoted!r} in its JSON")
    return problems


def _probes(value: str) -> Iterator[dict[str, object]]:
    """Payloads of every interactive kind whose id is `value`."""
    user = {"id": "U0PROBE"}
    yield {
        "type": "block_actions",
        "user": user,
        "actions": [{"type": "button", "action_id": value, "block_id": value}],
    }
    yield {"type": "block_suggestion", "user": user, "action_id": value, "block_id": value}
    for kind in ("view_submission", "view_closed"):
        yield {"type": kind, "user": user, "view": {"type": "modal", "callback_id": value}}
    for kind in ("shortcut", "message_action"):
        yield {"type": kind, "user": user, "callback_id": value}


def listened_ids(app: App, candidates: set[str]) -> set[str]:
    """Which candidate ids some listener of the app answers: each listener's own constraint
    (its first matcher) is asked, as Bolt asks it for a real request."""
    primaries = [listener.matchers[0] for listener in app._listeners]
    response = BoltResponse(status=200)
    found = set()
    for value in candidates:
        for body in _probes(value):
            request = BoltRequest(body=body, mode="socket_mode")
            if any(matcher.matches(request, response) for matcher in primaries):
                found.add(value)
                break
    return found


@pytest.fixture(scope="module")
def templates() -> list[Template]:
    """Every template under messages/, parsed."""
    return _templates()


def _all_values() -> set[str]:
    return {str(member.value) for ids in IDS.values() for member in ids}


def test_every_ids_enum_is_handed_to_the_templates() -> None:
    """Each handlers module's Ids enum is in handlers.IDS, so templates can name its ids."""
    assert sorted(e.__qualname__ + "@" + m for m, e in _enums().items()) == sorted(
        e.__qualname__ + "@" + e.__module__ for e in IDS.values()
    )


@pytest.mark.parametrize("feature", sorted(IDS))
def test_no_ids_enum_has_aliases(feature: str) -> None:
    """No two names of a feature's Ids share a value (StrEnum would make one a silent alias)."""
    ids = IDS[feature]
    aliases = {n: m.value for n, m in ids.__members__.items() if m.name != n}
    assert aliases == {}


def test_templates_name_only_ids_that_exist(templates: list[Template]) -> None:
    """Every `ids.<feature>.<NAME>` a template writes is a member of that feature's Ids."""
    unknown = {
        f"ids.{feature}.{name}"
        for feature, name in _rendered(templates)
        if feature not in IDS or name not in IDS[feature].__members__
    }
    assert unknown == set()


def test_no_template_holds_a_literal_id(templates: list[Template], sqlite_sandbox: Sandbox) -> None:
    """No action_id, block_id, callback_id or external_id in a template is a literal, no macro
    that writes one is given a literal, and no string in a template is an id the app listens to."""
    listened = listened_ids(sqlite_sandbox.app, _all_values())
    assert _literal_ids(templates, listened) == []


def test_every_id_is_listened_to_or_rendered(
    templates: list[Template], sqlite_sandbox: Sandbox
) -> None:
    """Each id in an Ids enum is one the real app listens to, or one a template renders."""
    listened = listened_ids(sqlite_sandbox.app, _all_values())
    rendered = _rendered(templates)
    unused = [
        f"{feature}.{member.name} = {member.value!r}"
        for feature, ids in IDS.items()
        for member in ids
        if member.value not in listened and (feature, member.name) not in rendered
    ]
    assert unused == []


def test_the_contract_sees_a_planted_literal(tmp_path: Path, sqlite_sandbox: Sandbox) -> None:
    """The scan is not vacuous: literal ids written in each way it knows are all reported."""
    (tmp_path / "planted.json.j2").write_text(
        '{% import "common/macros.j2" as m %}\n'
        '{% macro field(label, block) %}{"type": "input", "block_id": {{ block | tojson }}}'
        "{% endmacro %}\n"
        '[{"type": "actions", "block_id": "planted_actions", "elements": [\n'
        '  {{ m.button("Help", "offer_help", 1) }}]},\n'
        '  {{ field("x", "planted_block") }},\n'
        '  {"type": "button", "action_id": "choose_ally", "x": "take_case"}]\n',
        encoding="utf-8",
    )
    planted = [t for t in _templates(tmp_path) if t.name == "planted.json.j2"]
    macros = _templates()
    listened = listened_ids(sqlite_sandbox.app, _all_values())
    problems = _literal_ids([*macros, *planted], listened)
    assert [p.split(": ", 1)[1] for p in problems if p.startswith("planted")] == [
        "literal id '\"planted_actions\"'",
        "literal id '\"choose_ally\"'",
        "button() given the literal id 'offer_help'",
        "field() given the literal id 'planted_block'",
        "literal 'offer_help'",
        "literal 'choose_ally' in its JSON",
        "literal 'take_case' in its JSON",
    ]


def test_the_app_listens_to_the_public_ids(sqlite_sandbox: Sandbox) -> None:
    """The probe finds SPEC 5's buttons and views, and nothing the app does not listen to."""
    listened = listened_ids(sqlite_sandbox.app, {"offer_help", "allyship_request", "no_such_id"})
    assert listened == {"offer_help", "allyship_request"}


def test_an_unknown_id_fails_loudly() -> None:
    """A template naming an id no feature declares raises instead of rendering an empty id."""
    use_template_ids()
    with pytest.raises(MissingIdError, match=r"ids\.requests\.NO_SUCH"):
        render_module._ENV.from_string("{{ ids.requests.NO_SUCH | tojson }}").render()
    with pytest.raises(MissingIdError, match=r"ids\.nobody"):
        render_module._ENV.from_string("{{ ids.nobody.OFFER | tojson }}").render()


def test_ids_are_not_per_call_data() -> None:
    """A render call cannot pass its own ids, which would hide the shared ones."""
    with pytest.raises(TypeError):
        render("forget/modal.json.j2", ids={})


def test_the_app_hands_the_ids_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before register_all nothing renders an id; after it, templates name the app's ids."""
    monkeypatch.setitem(render_module._ENV.globals, "ids", render_module._NotHandedOver())
    with pytest.raises(MissingIdError, match="no ids were handed"):
        render("forget/modal.json.j2")
    app = App(token="xoxb-x", signing_secret="s", token_verification_enabled=False)
    handlers.register_all(app)
    assert render("forget/modal.json.j2")["callback_id"] == "forget_me"
