"""Benchmark: award standings and the leaderboard over 1,000,000 ledger rows (run on purpose).

    .venv/bin/python scripts/bench_awards.py [--rows 1000000] [--units 200] [--matches 5000]
        [--repeat 5] [--database sqlite|postgres|both] [--pg-dsn URL]

Builds a migrated database (a temporary SQLite file; PostgreSQL from `--pg-dsn` or
ALLYBOT_TEST_PG, in a temporary database dropped afterwards) holding `--units` business units,
`--rows` ledger rows spread over two years (three quarters of them in the year measured),
`--matches` successful allyships with their requests and ledger rows, and a few hundred
decided stories and events. Then it times, `--repeat` times each, the year's award standings
(`bot.rules.yearend.results.year_awards`: the ledger GROUP BY, the outcomes and the pure
computation) and the leaderboard (`bot.rules.points.standings`), and prints the medians. It
exits 1 when a median is over budget: 1 s on SQLite, 0.2 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet
from sqlalchemy import insert, select

from bot.config import Settings
from bot.rules.points import leaderboard as points_leaderboard
from bot.rules.points import ledger
from bot.rules.yearend import results
from storage.db import Database
from storage.migrate import upgrade
from storage.models.points import PointsEntry
from storage.models.programme import BusinessUnit, Member
from storage.models.requests import AllyRequest, Match, Offer
from storage.models.yearend import AllyshipEvent, AllyshipStory

YEAR = 2025
BUDGET = {"sqlite": 1.0, "postgres": 0.2}
KINDS = [ledger.ALLYSHIP, ledger.CASE, ledger.STORY, ledger.EVENT, ledger.ADJUSTMENT]
BATCH = 20_000


def settings_for(url: str) -> Settings:
    """Settings good enough for the rules: the database and a secret key."""
    return Settings(  # type: ignore[call-arg]
        SLACK_BOT_TOKEN="xoxb-bench",  # noqa: S106 (a throwaway value)
        SLACK_SIGNING_SECRET="bench",  # noqa: S106
        DATABASE_URL=url,
        ALLYBOT_ALLIES_CHANNEL="C0ALLIES",
        ALLYBOT_VOLUNTEERS_CHANNEL="G0VOL",
        ALLYBOT_ANNOUNCEMENTS_CHANNEL="C0ANN",
        ALLYBOT_ADMINS="U0ADMIN",
        ALLYBOT_SECRET_KEY=Fernet.generate_key().decode(),
        _env_file=None,
    )


def build(db: Database, *, rows: int, units: int, matches: int, seed: int = 7) -> None:
    """Fill the database: units, people, matches, stories, events and the ledger."""
    rng = random.Random(seed)
    start = datetime(YEAR - 1, 1, 1, tzinfo=UTC)
    span = (datetime(YEAR + 1, 1, 1, tzinfo=UTC) - start).total_seconds()
    with db.session() as s:
        s.execute(
            insert(BusinessUnit),
            [
                {"name": f"Unit {k:03d}", "source": "bench", "created_at": start}
                for k in range(units)
            ],
        )
    with db.session() as s:
        ids = [u.id for u in s.execute(select(BusinessUnit)).scalars().all()]
        people = [
            {
                "user_id": f"U{k:07d}",
                "business_unit_id": rng.choice(ids),
                "source": "bench",
                "updated_at": start,
            }
            for k in range(20_000)
        ]
        s.execute(insert(Member), people)

    def when() -> datetime:
        return start + timedelta(seconds=rng.random() * span)

    def in_year() -> datetime:
        return datetime(YEAR, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.random() * 364 * 86400)

    with db.session() as s:
        requests = [
            {
                "kind": "named",
                "category": "career_advice",
                "requester_id": f"U{rng.randrange(20_000):07d}",
                "status": "matched",
                "created_at": start,
                "updated_at": start,
            }
            for _ in range(matches)
        ]
        s.execute(insert(AllyRequest), requests)
        request_ids = [r.id for r in s.execute(select(AllyRequest)).scalars().all()]
        s.execute(
            insert(Offer),
            [
                {
                    "request_id": r,
                    "ally_user_id": f"U{rng.randrange(20_000):07d}",
                    "source": "button",
                    "active": True,
                    "created_at": start,
                    "updated_at": start,
                }
                for r in request_ids
            ],
        )
        offers = s.execute(select(Offer)).scalars().all()
        s.execute(
            insert(Match),
            [
                {
                    "request_id": o.request_id,
                    "offer_id": o.id,
                    "ally_user_id": o.ally_user_id,
                    "outcome": ledger.WORKED,
                    "created_at": start,
                }
                for o in offers
            ],
        )
        match_ids = [m.id for m in s.execute(select(Match)).scalars().all()]
    entries = [
        {
            "business_unit_id": rng.choice(ids),
            "amount": 10,
            "kind": ledger.ALLYSHIP,
            "reason": "successful allyship",
            "source": f"match:{m}:ally",
            "created_at": in_year(),
        }
        for m in match_ids
    ]
    for k in range(rows - len(entries)):
        kind = rng.choice(KINDS[1:])
        amount = rng.choice([-5, 5]) if kind == ledger.ADJUSTMENT else rng.choice([5, 15])
        entries.append(
            {
                "business_unit_id": rng.choice(ids),
                "amount": amount,
                "kind": kind,
                "reason": "bench",
                "source": f"bench:{k}",
                "created_at": when() if rng.random() < 0.5 else in_year(),
            }
        )
    for index in range(0, len(entries), BATCH):
        with db.session() as s:
            s.execute(insert(PointsEntry), entries[index : index + BATCH])
    with db.session() as s:
        s.execute(
            insert(AllyshipStory),
            [
                {
                    "reporter_id": f"U{k:07d}",
                    "ally_id": f"U{k + 1:07d}",
                    "reporter_marker": f"r{k}",
                    "ally_marker": f"a{k}",
                    "ally_unit_id": rng.choice(ids),
                    "what": "w",
                    "status": "accepted",
                    "creative": k % 3 == 0,
                    "submission_key": f"s{k}",
                    "created_at": in_year(),
                    "decided_at": in_year(),
                }
                for k in range(300)
            ],
        )
        s.execute(
            insert(AllyshipEvent),
            [
                {
                    "logged_by": "U0000001",
                    "business_unit_id": rng.choice(ids),
                    "title": "t",
                    "what": "w",
                    "happened_on": date(YEAR, 5, 1),
                    "status": "accepted",
                    "creative": k % 2 == 0,
                    "submission_key": f"e{k}",
                    "created_at": in_year(),
                    "decided_at": in_year(),
                }
                for k in range(300)
            ],
        )


def analyse(db: Database) -> None:
    """Gather the planner's statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize`
    (SQLite) would on a live database: without them a bulk-loaded table gets naive plans."""
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def timed(fn: Callable[[], object], repeat: int) -> float:
    """The median seconds of `repeat` runs."""
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        fn()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def run(name: str, url: str, args: argparse.Namespace) -> bool:
    """Build, time and report one database; True when within budget."""
    db = Database(url)
    upgrade(db.engine)
    begin = time.perf_counter()
    build(db, rows=args.rows, units=args.units, matches=args.matches)
    print(f"{name}: built {args.rows:,} ledger rows in {time.perf_counter() - begin:.1f} s")
    analyse(db)
    settings = settings_for(url)
    period = points_leaderboard.year_period(YEAR, settings.zone)

    def awards() -> object:
        with db.read() as session:
            return results.year_awards(session, year=YEAR, settings=settings)

    def leaderboard() -> object:
        with db.read() as session:
            return points_leaderboard.standings(session, period=period)

    awards()  # warm the caches once, as a running app would be
    award_s, board_s = timed(awards, args.repeat), timed(leaderboard, args.repeat)
    budget = BUDGET[name]
    print(
        f"{name}: award standings median {award_s * 1000:.0f} ms, "
        f"leaderboard median {board_s * 1000:.0f} ms (budget {budget * 1000:.0f} ms each)"
    )
    db.dispose()
    return award_s <= budget and board_s <= budget


def main() -> int:
    """Parse the options, run the benchmark(s), exit 1 over budget."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--matches", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get("ALLYBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    ok = True
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as directory:
            ok &= run("sqlite", f"sqlite:///{Path(directory) / 'bench.db'}", args)
    if args.database in ("postgres", "both"):
        name = f"allybot_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base = args.pg_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        try:
            ok &= run("postgres", f"{base}/{name}", args)
        finally:
            with psycopg.connect(args.pg_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
