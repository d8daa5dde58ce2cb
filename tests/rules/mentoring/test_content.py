"""Mentoring content: the shipped files load, and broken rewrites fail with one clear line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.config import DEFAULT_CONTENT_DIR
from bot.rules.mentoring.content import (
    CHECKBOX_OPTIONS_MAX,
    OPTION_TEXT_MAX,
    SUBDIRECTORY,
    ContentError,
    load_mentoring_content,
)

SHIPPED = DEFAULT_CONTENT_DIR / SUBDIRECTORY


def test_shipped_content_loads_and_fits_slack() -> None:
    """The shipped interests, framework and library are valid and within Slack's limits."""
    content = load_mentoring_content(SHIPPED)
    assert 10 <= len(content.interests) <= 100
    assert [lv.name for lv in content.framework.levels] == [
        "Unaware",
        "Aware",
        "Active",
        "Advocate",
        "Champion",
    ]
    for behaviour in content.framework.behaviours():
        assert len(behaviour.text) <= OPTION_TEXT_MAX
    for group in content.framework.checkbox_groups():
        assert 1 <= len(group.behaviours) <= CHECKBOX_OPTIONS_MAX


def test_framework_counts_the_behaviours_the_pilot_counted() -> None:
    """Training, ERG sessions, visible allyship, ERG talk and the LGBTQ+ agenda are there."""
    ids = {b.id for b in load_mentoring_content(SHIPPED).framework.behaviours()}
    assert {
        "took_awareness_training",
        "attended_erg_session",
        "visible_ally",
        "talks_about_erg_events",
        "contributes_lgbtq_agenda",
    } <= ids


def test_library_covers_six_months_fortnightly() -> None:
    """One item per fortnightly meeting for six months, in order."""
    library = load_mentoring_content(SHIPPED).library
    assert library.cadence_days == 14
    assert len(library.items) * library.cadence_days >= 26 * 7 - library.cadence_days
    assert [i.meeting for i in library.items] == list(range(1, len(library.items) + 1))
    assert library.item_for_meeting(1).title == "Getting to know each other"
    assert library.item_for_meeting(99) == library.items[-1]


def test_level_is_the_highest_checklist_at_least_half_done() -> None:
    """Ticking half of each checklist up to Active gives Active; a gap below stops the climb."""
    framework = load_mentoring_content(SHIPPED).framework
    assert framework.level_for([]) == 1
    by_level = {lv.level: [b.id for b in lv.behaviours] for lv in framework.levels}
    half = [ids[: (len(ids) + 1) // 2] for ids in (by_level[1], by_level[2], by_level[3])]
    assert framework.level_for([b for part in half for b in part]) == 3
    assert framework.level_for(by_level[1] + by_level[3] + by_level[4]) == 1
    assert framework.name(3) == "Active"


def test_a_long_level_is_split_into_groups_of_ten() -> None:
    """Twelve behaviours at one level become two checkbox groups (10 and 2)."""
    framework = load_mentoring_content(SHIPPED).framework
    level = framework.levels[0]
    many = tuple(
        type(level.behaviours[0])(id=f"b{k}", text=f"Behaviour {k}", level=1) for k in range(12)
    )
    longer = type(framework)(levels=(type(level)(1, "unaware", "Unaware", "s", many),))
    groups = longer.checkbox_groups()
    assert [(g.part, g.parts, len(g.behaviours)) for g in groups] == [(1, 2, 10), (2, 2, 2)]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the shipped mentoring folder to break."""
    target = tmp_path / SUBDIRECTORY
    shutil.copytree(SHIPPED, target)
    return target


def edit(path: Path, change: object) -> None:
    """Rewrite a YAML file through a function of its data."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


def too_long_behaviour(data: dict) -> None:
    data["levels"][2]["behaviours"][0]["text"] = "x" * 76


def duplicate_behaviour(data: dict) -> None:
    data["levels"][3]["behaviours"][0]["id"] = data["levels"][0]["behaviours"][0]["id"]


def three_levels(data: dict) -> None:
    data["levels"] = data["levels"][:3]


def six_levels(data: dict) -> None:
    extra = dict(data["levels"][-1], level=6, id="beyond")
    extra["behaviours"] = [{"id": "new_one", "text": "Something more"}]
    data["levels"].append(extra)


def misnumbered_level(data: dict) -> None:
    data["levels"][1]["level"] = 3


def too_many_groups(data: dict) -> None:
    for lv in data["levels"]:
        lv["behaviours"] = [{"id": f"{lv['id']}_{k}", "text": "t"} for k in range(41)]


def duplicate_interest(data: dict) -> None:
    data["interests"][1]["id"] = data["interests"][0]["id"]


def long_interest(data: dict) -> None:
    data["interests"][0]["label"] = "y" * 80


def bad_interest_id(data: dict) -> None:
    data["interests"][0]["id"] = "Has Spaces"


def many_interests(data: dict) -> None:
    data["interests"] = [{"id": f"i{k}", "label": f"Interest {k}"} for k in range(101)]


def empty_prompt(data: dict) -> None:
    data["items"][0]["prompt"] = "  "


def duplicate_item(data: dict) -> None:
    data["items"][2]["id"] = data["items"][1]["id"]


def skipped_meeting(data: dict) -> None:
    del data["items"][4]


def no_cadence(data: dict) -> None:
    del data["cadence_days"]


@pytest.mark.parametrize(
    ("filename", "change", "message"),
    [
        ("maturity.yml", too_long_behaviour,
         "entry 3 behaviour 1: 'text' is 76 characters; at most 75 (it is a checkbox option)"),
        ("maturity.yml", duplicate_behaviour,
         "levels entry 4 behaviour 1: id 'knows_acronym' is used twice"),
        ("maturity.yml", three_levels, "3 levels; the framework needs 4 or 5"),
        ("maturity.yml", six_levels, "6 levels; the framework needs 4 or 5"),
        ("maturity.yml", misnumbered_level, "levels entry 2: level is 3"),
        ("maturity.yml", too_many_groups, "need 25 checkbox groups"),
        ("interests.yml", duplicate_interest,
         "interests entry 2: id 'everyday_allyship' is used twice"),
        ("interests.yml", long_interest, "interests entry 1: 'label' is 80 characters; at most 75"),
        ("interests.yml", bad_interest_id, "interests entry 1: id 'Has Spaces' should be"),
        ("interests.yml", many_interests, "101 interests; at most 100"),
        ("library.yml", empty_prompt, "items entry 1: 'prompt' should be non-empty text"),
        ("library.yml", duplicate_item, "items entry 3: id 'words_matter' is used twice"),
        ("library.yml", skipped_meeting, "items entry 5: meeting is 6"),
        ("library.yml", no_cadence, "top level: 'cadence_days' should be a whole number"),
    ],
)  # fmt: skip
def test_bad_content_names_the_file_and_the_problem(
    copy: Path, filename: str, change: object, message: str
) -> None:
    """Each broken rewrite raises a one-line ContentError starting with the file's path."""
    edit(copy / filename, change)
    with pytest.raises(ContentError) as caught:
        load_mentoring_content(copy)
    text = str(caught.value)
    assert text.startswith(f"{copy / filename}: ")
    assert message in text
    assert "\n" not in text


def test_missing_broken_or_odd_files_are_named(copy: Path) -> None:
    """A missing file, invalid YAML and a list at the top each get one line."""
    (copy / "library.yml").unlink()
    with pytest.raises(ContentError, match=r"library\.yml: missing$"):
        load_mentoring_content(copy)
    (copy / "library.yml").write_text("items: [\n  - {", encoding="utf-8")
    with pytest.raises(ContentError, match=r"library\.yml: is not valid YAML at line \d+$"):
        load_mentoring_content(copy)
    (copy / "library.yml").write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ContentError, match="should be a mapping of keys to values"):
        load_mentoring_content(copy)
