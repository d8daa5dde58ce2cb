"""`allybot pair`: participants from CSV, pairs as CSV, and bad rows named by row and column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bot.cli import main
from bot.rules.mentoring.csvio import CsvError, pair_csv, read_participants
from bot.rules.mentoring.pairing import Role

HEADER = "id,role,business_unit,country,seniority,interests,maturity,reports_to,exclude,previous"
ROWS = [
    "ana,mentor,Engineering,FR,IC,trans inclusion;pronouns,4,,,",
    "bo,mentor,Sales,DE,IC,pronouns,3,,,cy",
    "cy,mentee,Engineering,DE,VP,trans inclusion; pronouns,1,,,",
    "di,mentee,Finance,DE,Director,pronouns,2,bo,,",
    "eve,mentee,Finance,UK,VP,,1,,ana,",
]
GOOD = "\n".join([HEADER, *ROWS]) + "\n"


def test_rows_become_participants_and_earlier_pairs() -> None:
    """Lists split on ';' and trimmed; `previous` becomes an earlier pair."""
    cohort = read_participants(GOOD)
    by_id = {p.id: p for p in cohort.participants}
    assert by_id["cy"].interests == frozenset({"trans inclusion", "pronouns"})
    assert by_id["cy"].role is Role.MENTEE and by_id["cy"].maturity == 1
    assert by_id["di"].reports_to == frozenset({"bo"})
    assert by_id["eve"].exclude == frozenset({"ana"})
    assert cohort.previous_pairs == frozenset({("bo", "cy")})


def test_columns_in_any_order_extra_columns_and_a_bom_are_fine() -> None:
    """A spreadsheet export with reordered columns, a name column and a BOM still reads."""
    rows = list(csv.reader(io.StringIO(GOOD)))
    order = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    out = io.StringIO()
    writer = csv.writer(out)
    for n, row in enumerate(rows):
        writer.writerow(["name" if n == 0 else f"Person {n}", *(row[i] for i in order)])
    assert read_participants("\ufeff" + out.getvalue()) == read_participants(GOOD)


def test_pairs_come_out_as_csv_with_reasons_and_a_report() -> None:
    """mentor,mentee,score,reasons rows; the unmatched and totals go to the report."""
    result = pair_csv(GOOD)
    rows = list(csv.DictReader(io.StringIO(result.csv)))
    assert [(r["mentor"], r["mentee"], r["score"]) for r in rows] == [
        ("ana", "cy", "13"),
        ("bo", "eve", "7"),
    ]
    assert rows[0]["reasons"] == (
        "share 2 interests: pronouns, trans inclusion; "
        "mentor 3 maturity levels ahead (level 4 vs level 1); different countries"
    )
    assert result.report == (
        "unmatched mentee di: more mentees than mentor places",
        "2 pairs, 1 of 5 people unmatched, total score 20",
    )


def test_repeats_and_capacity_are_the_admins_choice() -> None:
    """--allow-repeats lets bo and cy meet again; --capacity 2 matches everyone."""
    again = "\n".join([HEADER, "bo,mentor,Sales,DE,IC,,3,,,cy", "cy,mentee,Eng,DE,VP,,1,,,"])
    assert pair_csv(again).csv.splitlines()[1:] == []
    assert pair_csv(again, allow_repeats=True).csv.splitlines()[1].startswith("bo,cy,")
    two = pair_csv(GOOD, capacity=2)
    assert len(two.csv.strip().splitlines()) == 4
    assert two.report[-1] == "3 pairs, 0 of 5 people unmatched, total score 30"


def replace_row(n: int, row: str) -> str:
    rows = list(ROWS)
    rows[n] = row
    return "\n".join([HEADER, *rows]) + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "row 1: no header row"),
        (GOOD.replace(",maturity,", ",level,"), "row 1, column maturity: missing column"),
        (GOOD.replace("country,", "country,country,"), "row 1, column country: appears twice"),
        (replace_row(2, "ana,mentee,Eng,FR,IC,,1,,,"),
         "row 4, column id: 'ana' is already the id of row 2"),
        (replace_row(3, "di,mentee,Finance,DE,Director,pronouns,2,zz,,"),
         "row 5, column reports_to: 'zz' is not the id of any row"),
        (replace_row(3, "di,mentee,Finance,DE,Director,pronouns,2,,bo;nobody,"),
         "row 5, column exclude: 'nobody' is not the id of any row"),
        (replace_row(1, "bo,mentor,Sales,DE,IC,pronouns,3,,,gone"),
         "row 3, column previous: 'gone' is not the id of any row"),
        (replace_row(3, "di,mentee,Finance,DE,Director,pronouns,2,,di,"),
         "row 5, column exclude: 'di' is this row's own id"),
        (replace_row(0, ",mentor,Eng,FR,IC,,4,,,"), "row 2, column id: empty"),
        (replace_row(0, "ana,boss,Eng,FR,IC,,4,,,"),
         "row 2, column role: 'boss' should be mentor or mentee"),
        (replace_row(0, "ana,mentor,Eng,FR,IC,,high,,,"),
         "row 2, column maturity: 'high' should be a whole number"),
        (replace_row(0, "ana,mentor,Eng,FR,IC,,4,,,,extra"),
         "row 2: 11 fields but the header has 10 columns"),
        (replace_row(0, 'ana,mentor,"Eng'), "row 2: not valid CSV (unexpected end of data)"),
        (replace_row(0, 'ana,mentor,"Eng"x,FR,IC,,4,,,'), "row 2: not valid CSV"),
    ],
)  # fmt: skip
def test_bad_rows_are_named_by_row_and_column(text: str, message: str) -> None:
    """Missing column, duplicate id, unknown reference and bad values each get one line."""
    with pytest.raises(CsvError) as caught:
        read_participants(text, source="people.csv")
    assert str(caught.value).startswith("people.csv: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_cli_writes_pairs_to_stdout_and_the_report_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`allybot pair FILE` prints the CSV; the unmatched and totals go to stderr."""
    path = tmp_path / "people.csv"
    path.write_text(GOOD, encoding="utf-8")
    assert main(["pair", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "mentor,mentee,score,reasons"
    assert out.splitlines()[1].startswith("ana,cy,13,")
    assert "unmatched mentee di" in err and "total score 20" in err


def test_cli_writes_pairs_to_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--out writes the CSV to a file and nothing to stdout."""
    path, out_path = tmp_path / "people.csv", tmp_path / "pairs.csv"
    path.write_text(GOOD, encoding="utf-8")
    assert main(["pair", str(path), "--out", str(out_path), "--capacity", "2"]) == 0
    out, _ = capsys.readouterr()
    assert out == ""
    assert len(out_path.read_text(encoding="utf-8").splitlines()) == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace(",previous", ",before"), "row 1, column previous: missing column"),
        (HEADER + "\n" + ROWS[0] + "\n", "at least two people"),
        (HEADER + "\n" + ROWS[0] + "\n" + ROWS[0].replace("ana", "al") + "\n",
         "at least one mentor and one mentee"),
    ],
)  # fmt: skip
def test_cli_exits_2_with_one_line_on_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    """Bad input: exit 2, one line on stderr, nothing on stdout, no output file."""
    path, out_path = tmp_path / "people.csv", tmp_path / "pairs.csv"
    path.write_text(text, encoding="utf-8")
    assert main(["pair", str(path), "--out", str(out_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and message in err
    assert not out_path.exists()


def test_cli_names_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not there exits 2 with its name."""
    assert main(["pair", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv" in capsys.readouterr().err
