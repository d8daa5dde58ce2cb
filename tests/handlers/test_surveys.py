"""Awareness surveys end to end: start, answers without IDs, one each, close, safe results."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from bot.devkit.sandbox import Sandbox
from handlers.surveys.ids import Ids
from storage.types import utcnow
from tests.helpers import settle

ADMIN = "U0ADMIN"
EXTRA = ("U0PEOPLE1", "U0PEOPLE2", "U0PEOPLE3", "U0PEOPLE4")


def _admin(box: Sandbox, words: str) -> list[str]:
    """Run `/ally-admin WORDS` and return the texts the admin was shown."""
    before = len(box.fake.calls_to("chat.postEphemeral"))
    box.slack.slash("/ally-admin", words, user_id=ADMIN)
    settle(box)
    calls = box.fake.calls_to("chat.postEphemeral")[before:]
    return [_text(c.args) for c in calls]


def _text(args: dict[str, Any]) -> str:
    blocks = args.get("blocks") or []
    if isinstance(blocks, str):
        import json

        blocks = json.loads(blocks)
    parts = [str(args.get("text") or "")]
    for block in blocks:
        for key in ("text",):
            if isinstance(block.get(key), dict):
                parts.append(block[key]["text"])
        for element in block.get("elements") or []:
            if isinstance(element, dict) and "text" in element:
                parts.append(str(element["text"]))
    return "\n".join(parts)


def _people(box: Sandbox) -> list[str]:
    for user_id in EXTRA:
        box.fake.add_user(user_id, user_id.lower())
    return [p.id for p in box.workspace.everyone] + list(EXTRA)


def _invite(box: Sandbox, user_id: str) -> dict[str, Any]:
    invites = [m for m in box.fake.dm_messages(user_id) if Ids.ANSWER.value in str(m.get("blocks"))]
    return invites[-1]  # the latest survey's


def _answer(box: Sandbox, user_id: str, values: dict[str, Any]) -> Any:
    message = _invite(box, user_id)
    box.slack.click(user_id, Ids.ANSWER.value, message=message)
    settle(box)
    view = box.fake.current_view(user_id)
    assert view is not None and view["callback_id"] == Ids.VIEW.value
    return box.slack.submit_view(user_id, view, values), view


def _started(box: Sandbox, words: str = "survey start awareness") -> list[str]:
    people = _people(box)
    shown = _admin(box, words)
    assert any("Started awareness-1" in t for t in shown), shown
    box.run_due()
    return people


def test_start_sends_every_human_one_dm_even_after_restarts(sandbox: Sandbox) -> None:
    """Every active human member gets one DM with answer_survey; sweeping again sends none."""
    box = sandbox
    people = _started(box)
    for user_id in people:
        assert len(box.fake.dm_messages(user_id)) == 1, user_id
        assert Ids.ANSWER.value in str(box.fake.dm_messages(user_id)[0]["blocks"])
    sent = len(box.fake.calls_to("chat.postMessage"))
    assert box.run_due() == 0
    assert len(box.fake.calls_to("chat.postMessage")) == sent
    # a second start while it runs is refused
    assert any("already running" in t for t in _admin(box, "survey start awareness"))


def test_start_to_one_channel_reaches_its_members_only(sandbox: Sandbox) -> None:
    """`survey start awareness <#C…>` DMs only that channel's human members."""
    box = sandbox
    allies = [p.id for p in box.workspace.allies]
    shown = _admin(box, f"survey start awareness <#{box.workspace.allies_channel}|allies>")
    assert any("Started awareness-1" in t for t in shown), shown
    box.run_due()
    reached = {str(c.args["channel"]) for c in box.fake.calls_to("chat.postMessage")}
    assert reached == set(allies)


def test_one_answer_each_a_reminder_once_and_none_after_answering(sandbox: Sandbox) -> None:
    """A second answer is refused; only those who have not answered are reminded, once."""
    box = sandbox
    people = _started(box)
    first = people[1]
    response, view = _answer(box, first, {"know_what_to_ask": "4"})
    assert response.status == 200 and not response.json()
    settle(box)
    assert "Thank you" in str(box.fake.dm_messages(first)[0]["blocks"])
    # the same form again, and a second click: refused
    again = box.slack.submit_view(first, view, {"know_what_to_ask": "2"})
    assert "already answered" in str(again.json()["errors"])
    box.slack.click_raw(first, Ids.ANSWER.value, str(_run_id(view)))
    settle(box)
    assert any("already answered" in e["text"] for e in box.fake.ephemerals(first))
    later = utcnow() + box.settings.survey_reminder_after + timedelta(minutes=1)
    assert box.run_due(later) == len(people)
    assert len(box.fake.dm_messages(first)) == 1
    assert all(len(box.fake.dm_messages(p)) == 2 for p in people if p != first)
    assert box.run_due(later + timedelta(days=30)) == 0


def _run_id(view: dict[str, Any]) -> int:
    return int(re.search(r'"r":(\d+)', view["private_metadata"]).group(1))  # type: ignore[union-attr]


def _everyone_answers(box: Sandbox, people: list[str]) -> None:
    units = {p: ("Sales" if i < 2 else "Engineering") for i, p in enumerate(people[:9])}
    for i, (person, unit) in enumerate(units.items()):
        values = {
            "know_what_to_ask": str(1 + i % 5),
            "would_offer": "5",
            "meaning": "listen",
            Ids.UNIT: unit,
            "anything_else": f"comment number {i}",
        }
        response, _ = _answer(box, person, values)
        assert response.status == 200, response.json()
    settle(box)


def test_results_only_after_close_and_never_a_small_unit(sandbox: Sandbox) -> None:
    """Results of an open survey are refused; after close, neither unit's 2 answers show,
    directly or by subtracting Engineering from the total."""
    box = sandbox
    people = _started(box)
    _everyone_answers(box, people)
    assert any("still open" in t for t in _admin(box, "survey results awareness-1"))
    box.slack.click(people[9], Ids.ANSWER.value, message=_invite(box, people[9]))
    settle(box)
    open_form = box.fake.current_view(people[9])
    assert open_form is not None
    assert any(
        "Closed awareness-1 with 9 answers" in t for t in _admin(box, "survey close awareness")
    )
    shown = "\n".join(_admin(box, "survey results awareness-1"))
    assert "*Answers*: 9" in shown
    assert "Sales: fewer than 5" in shown
    assert "Engineering: withheld" in shown
    assert not re.search(r"Engineering\*? \(\d", shown), shown
    assert "comment number" not in shown  # comments need 10 answers
    box.fake.wait_for("files.completeUploadExternal")
    # an answer after close is refused: a form opened before the close, and a click after
    submitted = box.slack.submit_view(people[9], open_form, {"would_ask": "5"})
    assert "has closed" in str(submitted.json()["errors"])
    late = people[10]
    box.slack.click(late, Ids.ANSWER.value, message=_invite(box, late))
    settle(box)
    assert any("has closed" in e["text"] for e in box.fake.ephemerals(late))


def test_after_close_no_row_and_no_byte_links_a_person_to_an_answer(
    sqlite_sandbox: Sandbox, tmp_path: Path
) -> None:
    """Every table and the SQLite file's bytes hold no respondent ID nor survey marker."""
    from bot.privacy import privacy
    from bot.rules.surveys.runs import marker

    box = sqlite_sandbox
    people = _started(box)
    _everyone_answers(box, people[3:])
    markers = [marker(privacy(box.settings), run_id=1, user_id=p) for p in people]
    with box.db.session() as session:
        stored = session.execute(text("SELECT marker FROM survey_marker")).scalars().all()
    assert set(stored) <= set(markers) and len(stored) == 9
    _admin(box, "survey close awareness-1")
    respondents = people[3:12]
    with box.db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                flat = " ".join(str(v) for v in row)
                for secret in [*respondents, *markers]:
                    assert secret not in flat, (table, secret)
    box.db.dispose()
    path = Path(box.settings.database_url.removeprefix("sqlite:///"))
    data = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    for secret in [*markers]:
        assert secret.encode() not in data
    for respondent in respondents:
        assert respondent.encode() not in data.replace(b"U0ADMIN", b""), respondent


def test_bad_survey_commands_get_a_clear_answer_and_change_nothing(sandbox: Sandbox) -> None:
    """An unknown survey, results of an unknown run, a bad channel: told why; nothing starts."""
    box = sandbox
    assert any("There is no survey nosuch" in t for t in _admin(box, "survey start nosuch"))
    assert any("no survey run called" in t for t in _admin(box, "survey results nosuch"))
    assert any("no survey run called" in t for t in _admin(box, "survey close nosuch"))
    assert any("Name the channel" in t for t in _admin(box, "survey start awareness general"))
    assert any("Usage" in t for t in _admin(box, "survey frobnicate"))
    with box.db.session() as session:
        assert session.execute(text("SELECT count(*) FROM survey_run")).scalar_one() == 0
        assert session.execute(text("SELECT count(*) FROM due_item")).scalar_one() == 0
    assert not box.fake.calls_to("chat.postMessage")
    listed = "\n".join(_admin(box, "survey list"))
    assert "`awareness`" in listed and "None yet" in listed


def test_two_runs_compared_before_and_after(sandbox: Sandbox) -> None:
    """`results awareness-1 awareness-2` shows each question's mean before and after."""
    box = sandbox
    people = _started(box)
    for person in people[:6]:
        _answer(box, person, {"know_what_to_ask": "2"})
    _admin(box, "survey close awareness")
    assert any("Started awareness-2" in t for t in _admin(box, "survey start awareness"))
    box.run_due()
    for person in people[:6]:
        response, _ = _answer(box, person, {"know_what_to_ask": "4"})
        assert response.status == 200 and not response.json()  # a new survey: a new answer
    _admin(box, "survey close awareness-2")
    shown = "\n".join(_admin(box, "survey results awareness-1 awareness-2"))
    assert "awareness-1 compared with awareness-2" in shown
    assert "2.0 → 4.0 (+2.0)" in shown


def test_rate_limits_are_waited_out_and_nobody_is_missed_or_doubled(
    sqlite_sandbox: Sandbox,
) -> None:
    """429s on chat.postMessage mid-send: every member still gets exactly one DM."""
    box = sqlite_sandbox
    people = _people(box)
    _admin(box, "survey start awareness")
    box.fake.fail_next("chat.postMessage", status=429, times=2, retry_after=1)
    box.run_due()
    assert all(len(box.fake.dm_messages(p)) == 1 for p in people)


def test_after_close_no_table_row_holds_a_respondent_or_a_marker(sandbox: Sandbox) -> None:
    """On SQLite and PostgreSQL: after close, no row of any table holds a respondent's ID or
    survey marker; answers carry the day only."""
    from bot.privacy import privacy
    from bot.rules.surveys.runs import marker

    box = sandbox
    people = _started(box)
    respondents = people[3:12]
    _everyone_answers(box, respondents)
    with box.db.session() as session:
        run_id = session.execute(text("SELECT id FROM survey_run")).scalar_one()
    markers = [marker(privacy(box.settings), run_id=run_id, user_id=p) for p in people]
    _admin(box, "survey close awareness-1")
    with box.db.engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("survey_answer")}
        assert columns == {"id", "run_id", "business_unit", "answers", "answered_on"}
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                flat = " ".join(str(v) for v in row)
                for secret in [*respondents, *markers]:
                    assert secret not in flat, (table, secret)


def test_replicas_sweeping_together_send_each_member_one_dm(sandbox: Sandbox) -> None:
    """Four sweepers of two app instances (own Database objects) at once: one DM each."""
    import concurrent.futures
    import threading
    from functools import partial

    from bot.app.factory import create_app
    from bot.app.scheduler import Sweeper
    from bot.jobs import queue as jobs
    from handlers.common.client import make_client
    from handlers.common.deps import build_deps
    from storage.db import Database

    box = sandbox
    people = _people(box)
    _admin(box, "survey start awareness")
    # The fan-out alone first (it lists the members), so the replicas race for the sends.
    fanout = {kind: partial(h, box.deps, box.client) for kind, h in box.deps.due_handlers.items()}
    assert jobs.sweep(box.db, fanout, now=utcnow(), worker="first", limit=1) == 1
    other_db = Database(box.db.url)
    try:
        other = build_deps(box.settings, other_db)
        other_client = make_client(box.settings)
        create_app(other, client=other_client)
        replicas = [
            Sweeper(box.deps, box.client),
            Sweeper(other, other_client),
            Sweeper(box.deps, box.client),
            Sweeper(other, other_client),
        ]
        start = threading.Barrier(len(replicas))

        def sweep(sweeper: Sweeper) -> int:
            start.wait()
            return sweeper.run_due(utcnow() + timedelta(days=30))

        with concurrent.futures.ThreadPoolExecutor(len(replicas)) as pool:
            ran = list(pool.map(sweep, replicas))
    finally:
        other_db.dispose()
    assert sum(ran) == len(people)
    assert all(len(box.fake.dm_messages(p)) == 1 for p in people)
    box.run_due(utcnow() + timedelta(days=40))  # then each one reminder, once
    assert all(len(box.fake.dm_messages(p)) == 2 for p in people)


def test_a_member_who_cannot_be_reached_is_skipped_not_retried(sqlite_sandbox: Sandbox) -> None:
    """cannot_dm_bot for one member: the others get their DM; nothing is parked or retried."""
    box = sqlite_sandbox
    people = _people(box)
    _admin(box, "survey start awareness")
    box.fake.fail_next("chat.postMessage", status=200, error="cannot_dm_bot")
    box.run_due()
    reached = [p for p in people if box.fake.dm_messages(p)]
    assert len(reached) == len(people) - 1
    with box.db.session() as session:
        statuses = session.execute(text("SELECT DISTINCT status FROM due_item")).scalars().all()
    assert "failed" not in statuses
    later = utcnow() + timedelta(days=30)
    box.run_due(later)
    assert len([p for p in people if box.fake.dm_messages(p)]) == len(people) - 1


def test_thousands_of_units_are_typed_and_matched_ignoring_case(sandbox: Sandbox) -> None:
    """Too many units to list within a view's 250 kB: the survey asks for the unit's name,
    stores it as the programme spells it, and refuses an unknown name on that field only."""
    import json

    from storage.models.programme import BusinessUnit

    box = sandbox
    names = [f"{chr(65 + n % 26)} Department of Long Names {n:05d}" for n in range(3000)]
    with box.db.session() as s:
        s.add_all(BusinessUnit(name=name, source="admin") for name in names)
    people = _started(box)
    person = people[1]
    values = {"know_what_to_ask": "4", "anything_else": "my words", Ids.UNIT: "Nowhere"}
    response, view = _answer(box, person, values)
    assert len(json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode()) < 250_000
    field = next(b for b in view["blocks"] if b.get("block_id") == Ids.UNIT.value)["element"]
    assert field["type"] == "plain_text_input"
    errors = response.json()["errors"]
    assert list(errors) == [Ids.UNIT.value] and "Nowhere" in errors[Ids.UNIT.value]
    values[Ids.UNIT] = f" {names[42].upper()} "
    answer = box.slack.submit_view(person, view, values)
    assert answer.status == 200 and not answer.json()
    with box.db.read() as s:
        stored = s.execute(text("SELECT business_unit FROM survey_answer")).scalars().all()
    assert stored == [names[42]]
