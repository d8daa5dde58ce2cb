"""Offline pairing from a spreadsheet: `allybot pair PARTICIPANTS.csv` (SPEC 5.2).

Pure: text in, text out. Input has a header row and the columns of COLUMNS in any order
(others are ignored); lists are separated by ';'. Rows are counted as a spreadsheet shows
them, the header being row 1, so an error's row is the one the organiser sees.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from bot.rules.mentoring.pairing import CohortOptions, Participant, Proposal, Role, propose_pairs

COLUMNS = (
    "id",
    "role",
    "business_unit",
    "country",
    "seniority",
    "interests",
    "maturity",
    "reports_to",
    "exclude",
    "previous",
)
REFERENCE_COLUMNS = ("reports_to", "exclude", "previous")
OUTPUT_COLUMNS = ("mentor", "mentee", "score", "reasons")
LIST_SEPARATOR = ";"


class CsvError(ValueError):
    """A participants file that cannot be paired; one line naming the row and column."""


@dataclass(frozen=True)
class CsvCohort:
    """The participants of a file and the earlier pairs its `previous` column names."""

    participants: tuple[Participant, ...]
    previous_pairs: frozenset[tuple[str, str]]


@dataclass(frozen=True)
class PairResult:
    """What `allybot pair` prints: the pairs as CSV, and the report for stderr."""

    csv: str
    report: tuple[str, ...]


def pair_csv(
    text: str, *, source: str = "input", capacity: int = 1, allow_repeats: bool = False
) -> PairResult:
    """Read participants, pair them, and render the pairs and the report."""
    cohort = read_participants(text, source=source)
    proposal = propose_pairs(
        cohort.participants,
        CohortOptions(
            previous_pairs=cohort.previous_pairs, allow_repeats=allow_repeats, capacity=capacity
        ),
    )
    return PairResult(csv=write_pairs(proposal), report=report_lines(proposal))


def read_participants(text: str, *, source: str = "input") -> CsvCohort:
    """Parse the participants file; CsvError names the row and column of the first problem."""
    records = _records(text, source)
    try:
        row_number, header = next(records)
    except StopIteration:
        raise CsvError(f"{source}: row 1: no header row (the file is empty)") from None
    names = [h.strip().casefold() for h in header]
    for column in COLUMNS:
        if column not in names:
            raise CsvError(f"{source}: row {row_number}, column {column}: missing column")
        if names.count(column) > 1:
            raise CsvError(f"{source}: row {row_number}, column {column}: appears twice")
    position = {column: names.index(column) for column in COLUMNS}

    rows: list[tuple[int, dict[str, str]]] = []
    first_seen: dict[str, int] = {}
    for row_number, record in records:
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header):
            raise CsvError(
                f"{source}: row {row_number}: {len(record)} fields but the header has "
                f"{len(header)} columns"
            )
        row = {c: record[i].strip() if i < len(record) else "" for c, i in position.items()}

        def fail(column: str, problem: str, n: int = row_number) -> CsvError:
            return CsvError(f"{source}: row {n}, column {column}: {problem}")

        pid = row["id"]
        if not pid:
            raise fail("id", "empty")
        if pid in first_seen:
            raise fail("id", f"'{pid}' is already the id of row {first_seen[pid]}")
        first_seen[pid] = row_number
        if row["role"].casefold() not in (Role.MENTOR.value, Role.MENTEE.value):
            raise fail("role", f"'{row['role']}' should be mentor or mentee")
        try:
            maturity = int(row["maturity"])
        except ValueError:
            raise fail(
                "maturity", f"'{row['maturity']}' should be a whole number (the level)"
            ) from None
        if maturity < 0:
            raise fail("maturity", f"'{row['maturity']}' should not be negative")
        rows.append((row_number, row))

    participants: list[Participant] = []
    previous: set[tuple[str, str]] = set()
    for row_number, row in rows:
        references: dict[str, frozenset[str]] = {}
        for column in REFERENCE_COLUMNS:
            ids = _split(row[column])
            for other in sorted(ids):
                if other == row["id"]:
                    raise CsvError(
                        f"{source}: row {row_number}, column {column}: "
                        f"'{other}' is this row's own id"
                    )
                if other not in first_seen:
                    raise CsvError(
                        f"{source}: row {row_number}, column {column}: "
                        f"'{other}' is not the id of any row"
                    )
            references[column] = ids
        previous.update((row["id"], other) for other in references["previous"])
        participants.append(
            Participant(
                id=row["id"],
                role=Role(row["role"].casefold()),
                business_unit=row["business_unit"],
                country=row["country"],
                seniority=row["seniority"],
                interests=_split(row["interests"]),
                maturity=int(row["maturity"]),
                reports_to=references["reports_to"],
                exclude=references["exclude"],
            )
        )
    return CsvCohort(participants=tuple(participants), previous_pairs=frozenset(previous))


def write_pairs(proposal: Proposal) -> str:
    """The pairs as CSV: mentor, mentee, score, reasons (joined by '; ')."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    for pair in proposal.pairs:
        writer.writerow((pair.mentor, pair.mentee, pair.score, "; ".join(pair.reasons)))
    return out.getvalue()


def report_lines(proposal: Proposal) -> tuple[str, ...]:
    """One line per unmatched person, then the totals."""
    lines = [f"unmatched {u.role.value} {u.id}: {u.reason}" for u in proposal.unmatched]
    people = 2 * len(proposal.pairs) + len(proposal.unmatched) - _shared_mentors(proposal)
    lines.append(
        f"{len(proposal.pairs)} pairs, {len(proposal.unmatched)} of {people} people "
        f"unmatched, total score {proposal.total_score}"
    )
    return tuple(lines)


def _shared_mentors(proposal: Proposal) -> int:
    """Mentors counted twice by 2 * pairs when capacity lets them take several mentees."""
    mentors = [p.mentor for p in proposal.pairs]
    return len(mentors) - len(set(mentors))


def _split(cell: str) -> frozenset[str]:
    return frozenset(part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip())


def _records(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row, fields) pairs; blank lines keep their row numbers."""
    # Strict: a stray or unclosed quote is an error, not a silently merged row.
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")), strict=True)
    row_number = 0
    try:
        for record in reader:
            row_number += 1
            yield row_number, record
    except csv.Error as exc:
        raise CsvError(f"{source}: row {row_number + 1}: not valid CSV ({exc})") from None
