"""`/ally-admin awards [YYYY]` and `confirm_awards`: standings with figures, tie rule, formula;
one announcement with a chart, whatever the clicks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from bot.devkit import factories
from bot.devkit.sandbox import Sandbox
from bot.rules.points import ledger
from bot.rules.yearend import results
from handlers.yearend.ids import Ids
from storage.models.yearend import AllyshipEvent
from tests.helpers import settle

YEAR = 2025


def at(month: int, day: int) -> datetime:
    """A time in the test year (UTC, the sandbox's zone)."""
    return datetime(YEAR, month, day, 12, tzinfo=UTC)


def build_year(box: Sandbox) -> None:
    """A year by hand: Engineering 20 and Sales 20 points (Sales adjusted by hand), People 5;
    one creative accepted event for People; a row the year after, which must not count."""
    units = {
        name: factories.business_unit(box.db, name) for name in ("Engineering", "Sales", "People")
    }
    rows = [
        ("Engineering", 15, ledger.EVENT, "event:90:organiser", at(3, 1)),
        ("Engineering", 5, ledger.CASE, "case:1:volunteer", at(4, 1)),
        ("Sales", 15, ledger.EVENT, "event:91:organiser", at(2, 1)),
        ("Sales", 10, ledger.CASE, "case:2:volunteer", at(2, 2)),
        ("Sales", -5, ledger.ADJUSTMENT, "adjust:1", at(5, 1)),
        ("People", 5, ledger.CASE, "case:3:volunteer", at(6, 1)),
        ("People", 99, ledger.CASE, "case:4:volunteer", datetime(YEAR + 1, 1, 2, tzinfo=UTC)),
    ]
    with box.db.session() as s:
        for unit, amount, kind, source, when in rows:
            ledger.add_entry(
                s,
                business_unit_id=units[unit],
                amount=amount,
                kind=kind,
                reason="r",
                source=source,
                now=when,
            )
        s.add(
            AllyshipEvent(
                logged_by="U0ASKER",
                business_unit_id=units["People"],
                title="t",
                what="w",
                happened_on=at(6, 1).date(),
                status="accepted",
                creative=True,
                decided_by="U0VOL1",
                submission_key="k1",
                decided_at=at(6, 2),
            )
        )


def _admin(box: Sandbox, text: str, count: int = 1) -> str:
    box.fake.reset_calls()
    box.slack.slash("/ally-admin", text, user_id=box.workspace.admin.id, channel_id="C0GENERAL")
    calls = box.fake.wait_for("chat.postEphemeral", count=count)
    return "\n".join(str(c.args["text"]) + str(c.args.get("blocks")) for c in calls)


def test_standings_show_every_figure_the_formula_and_the_tie_rule(sandbox: Sandbox) -> None:
    """Each award lists one line per unit with its figure; the 20-20 tie is decided by the
    hand adjustment, and the standings say so; the formula is shown."""
    box = sandbox
    build_year(box)
    answer = _admin(box, f"awards {YEAR}", count=3)
    for line in (
        "Engineering: 20 points",
        "Sales: 20 points",
        "People: 5 points",
        "Finance: 0 points",
    ):
        assert line in answer
    assert "fewer points adjusted by hand (0 against 5) decided for Engineering" in answer
    assert "tie broken by fewer points adjusted by hand" in answer
    assert (
        "people helped" in answer and "(1 + other business units those people belong to)" in answer
    )
    assert "People: 1 creative item (0 stories, 1 event)" in answer
    assert "no award: no unit has a figure above zero" in answer  # nobody helped anyone
    assert Ids.CONFIRM_AWARDS in answer
    # A pure function of the data: the same again.
    assert _admin(box, f"awards {YEAR}", count=3) == answer


def test_confirming_announces_once_with_a_chart(sandbox: Sandbox) -> None:
    """Many confirm clicks from the admin: one post and one chart in the announcements channel;
    a non-admin's click is refused."""
    box = sandbox
    build_year(box)
    _admin(box, f"awards {YEAR}", count=3)
    [preview] = [
        c for c in box.fake.calls_to("chat.postEphemeral") if Ids.CONFIRM_AWARDS in str(c.args)
    ]
    message = {"ts": "1.0", "channel": "C0GENERAL", "blocks": preview.args["blocks"]}
    if isinstance(message["blocks"], str):
        import json

        message["blocks"] = json.loads(message["blocks"])
    box.slack.click(box.workspace.colleague.id, Ids.CONFIRM_AWARDS, message=message)
    box.fake.wait_for(
        "chat.postEphemeral", predicate=lambda c: "Only programme admins" in str(c.args)
    )
    with ThreadPoolExecutor(4) as pool:
        list(
            pool.map(
                lambda _: box.slack.click(
                    box.workspace.admin.id, Ids.CONFIRM_AWARDS, message=message
                ),
                range(4),
            )
        )
    channel = box.workspace.announcements_channel
    box.fake.wait_for("chat.postMessage", predicate=lambda c: c.args.get("channel") == channel)
    box.fake.wait_for("files.completeUploadExternal")
    settle(box)
    box.run_due(datetime(2099, 1, 1, tzinfo=UTC))
    posts = [c for c in box.fake.calls_to("chat.postMessage") if c.args.get("channel") == channel]
    assert len(posts) == 1
    text = str(posts[0].args["text"])
    assert "Ally of the year: Engineering (20 points)" in text
    assert "Most creative ally: People" in text
    assert "Most influential ally: not awarded this year" in text
    assert len(box.fake.uploaded_files()) == 1


def test_bad_years_and_empty_years_get_clear_answers(sandbox: Sandbox) -> None:
    """`awards 20x6` names what works; a year with no data says so."""
    box = sandbox
    build_year(box)
    assert "not a year" in _admin(box, "awards 20x6")
    assert "no points or outcome data for 2001" in _admin(box, "awards 2001")


def test_year_awards_rerun_gives_the_same_result(sandbox: Sandbox) -> None:
    """Reading the standings twice from the database gives equal results."""
    box = sandbox
    build_year(box)
    with box.db.session() as s:
        first = results.year_awards(s, year=YEAR, settings=box.settings)
        second = results.year_awards(s, year=YEAR, settings=box.settings)
    assert first == second
    assert [line.text for line in first[0].lines][:2] == [
        "Engineering: 20 points",
        "Sales: 20 points",
    ]


def test_most_influential_counts_people_helped_across_units(sandbox: Sandbox) -> None:
    """Two successful allyships for Engineering's ally, helping a Sales and a People colleague,
    and an accepted story by a third: 3 people x (1 + 2 other units) = 9."""

    from storage.models.yearend import AllyshipStory

    box = sandbox
    factories.member(box.db, "U0ASKER", "Sales")
    factories.member(box.db, "U0COLLEAGUE", "People")
    for asker in ("U0ASKER", "U0COLLEAGUE"):
        match_id = factories.match(
            box.db, box.settings, matched_at=datetime.now(UTC), requester=asker, feedback_due=False
        )
        assert factories.answer(box.db, box.settings, match_id).points_awarded
    with box.db.session() as s:
        s.add(
            AllyshipStory(
                reporter_id="U0VOL1",
                ally_id="U0ALLY1",
                reporter_marker="m-vol1",
                ally_marker="m-ally1",
                ally_unit_id=factories.business_unit(box.db, "Engineering"),
                what="w",
                status="accepted",
                decided_by="U0VOL2",
                decided_at=datetime.now(UTC),
                submission_key="s1",
            )
        )
    with box.db.session() as s:
        _, influence, _ = results.year_awards(s, year=datetime.now(UTC).year, settings=box.settings)
    assert influence.lines[0].text.startswith("Engineering: 9 (3 people helped")
    assert influence.winners == ("Engineering",)


def test_forgetting_people_never_raises_a_units_influence(sandbox: Sandbox) -> None:
    """Engineering's allies help four named colleagues (one of their own unit three times, two
    others twice) and two reporters tell accepted stories. Forgetting them one by one, the
    figure never rises: the people whose data was deleted count as one person per unit,
    reaching no other unit."""
    from itertools import pairwise

    from bot.privacy import privacy
    from bot.rules import forget
    from bot.rules.yearend.standings import AwardStandings
    from storage.models.yearend import AllyshipStory

    box = sandbox
    askers = {"U0ASK0": "Engineering", "U0ASK1": "Sales", "U0ASK2": "People", "U0ASK3": "Finance"}
    for person, unit in askers.items():
        factories.member(box.db, person, unit)
    for asker, ally in [
        ("U0ASK0", "U0ALLY1"),
        ("U0ASK0", "U0ALLY2"),
        ("U0ASK0", "U0ALLY3"),
        ("U0ASK1", "U0ALLY1"),
        ("U0ASK1", "U0ALLY2"),
        ("U0ASK2", "U0ALLY1"),
        ("U0ASK2", "U0ALLY2"),
        ("U0ASK3", "U0ALLY1"),
    ]:
        match_id = factories.match(
            box.db,
            box.settings,
            matched_at=datetime.now(UTC),
            requester=asker,
            ally=ally,
            feedback_due=False,
        )
        assert factories.answer(box.db, box.settings, match_id).points_awarded
    keys = privacy(box.settings)
    with box.db.session() as s:
        for n, reporter in enumerate(("U0TELL1", "U0TELL2")):
            s.add(
                AllyshipStory(
                    reporter_id=reporter,
                    ally_id="U0ALLY1",
                    reporter_marker=keys.marker(reporter),
                    ally_marker=keys.marker("U0ALLY1"),
                    ally_unit_id=factories.business_unit(box.db, "Engineering"),
                    what="w",
                    status="accepted",
                    decided_by="U0VOL2",
                    decided_at=datetime.now(UTC),
                    submission_key=f"s{n}",
                )
            )

    def influence() -> AwardStandings:
        with box.db.session() as s:
            return results.year_awards(s, year=datetime.now(UTC).year, settings=box.settings)[1]

    def engineering() -> int:
        [line] = [x for x in influence().lines if x.unit == "Engineering"]
        return line.figure

    figures = [engineering()]
    assert figures == [6 * (1 + 3)]  # 6 people, reaching Sales, People and Finance
    for person in ("U0ASK0", "U0ASK1", "U0TELL1", "U0ASK2", "U0TELL2", "U0ASK3"):
        with box.db.session() as s:
            forget.forget(s, keys, user_id=person)
        figures.append(engineering())
    assert all(after <= before for before, after in pairwise(figures))
    assert figures[-1] == 1  # everyone forgotten: one unknown person, no other unit
    assert "one person per unit" in str(influence().formula)
