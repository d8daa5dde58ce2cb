"""Benchmark: a survey sent to 2,000 members against the fake Slack (run on purpose, not in CI).

    .venv/bin/python scripts/bench_bulk_send.py [--members 2000] [--rate 20] [--rate-limits 3]
        [--min-share 0.9]

Starts the awareness survey through `/ally-admin survey start awareness` in a sandbox (the real
app over signed HTTP, the fake Slack, a SQLite file), then sends the per-recipient DMs with the
scheduler's sweep paced at `--rate` messages a second. Midway the process "restarts": the
first sweeper stops, one item is left claimed by a sweeper that died mid-send, and a new app
instance with its own Database object sweeps the rest once that claim's lease has run out.
`--rate-limits` 429 answers (Retry-After: 1) are injected into chat.postMessage along the way;
the client waits them out.

Throughput is counted over the time the sweepers were sending (the restart's gap excluded),
with and without the Retry-After waits Slack imposed. It exits 1 unless every member got
exactly one DM and the sustained rate, without the imposed waits, is at least `--min-share`
of `--rate`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from functools import partial
from pathlib import Path

from slack_sdk.http_retry import builtin_handlers

from bot.app.factory import create_app
from bot.devkit.sandbox import Sandbox
from bot.jobs import queue as jobs
from bot.rules.surveys import runs
from handlers.common.client import make_client
from handlers.common.deps import Deps, build_deps
from storage.db import Database
from storage.types import utcnow


class _RecordedSleep:
    """slack_sdk's retry handlers sleep through `time.sleep`: their waits are added up here."""

    def __init__(self) -> None:
        self.total = 0.0

    def sleep(self, seconds: float) -> None:
        self.total += seconds
        time.sleep(seconds)

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)


def _sweep(deps: Deps, client: object, *, rate: float, limit: int, now_offset: timedelta) -> int:
    handlers = {kind: partial(h, deps, client) for kind, h in deps.due_handlers.items()}
    return jobs.sweep(
        deps.db,
        handlers,
        now=utcnow() + now_offset,
        worker=jobs.worker_name(),
        pace=1.0 / rate,
        limit=limit,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second")
    parser.add_argument("--rate-limits", type=int, default=3, help="429s to inject")
    parser.add_argument("--min-share", type=float, default=0.9)
    args = parser.parse_args()

    waited = _RecordedSleep()
    builtin_handlers.time = waited  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        with Sandbox(url) as box:
            fake = box.fake
            for i in range(args.members):
                fake.add_user(f"UB{i:06d}", f"member{i}")
            humans = args.members + len(box.workspace.everyone)
            box.slack.slash("/ally-admin", "survey start awareness", user_id=box.workspace.admin.id)
            fake.wait_for("chat.postEphemeral")
            box.idle()

            posted = lambda: len(fake.calls_to("chat.postMessage"))  # noqa: E731
            marks = [
                int(humans * (k + 1) / (args.rate_limits + 1)) for k in range(args.rate_limits)
            ]
            stop = threading.Event()

            def inject() -> None:
                pending = list(marks)
                while pending and not stop.is_set():
                    if posted() >= pending[0]:
                        fake.fail_next("chat.postMessage", status=429, times=1, retry_after=1)
                        pending.pop(0)
                    time.sleep(0.005)

            injector = threading.Thread(target=inject, daemon=True)
            injector.start()

            # The first process: the fan-out (users.list, one item per member), then about half
            # the DMs; the sending is what is timed.
            _sweep(box.deps, box.client, rate=args.rate, limit=1, now_offset=timedelta())
            first = time.monotonic()
            _sweep(box.deps, box.client, rate=args.rate, limit=humans // 2, now_offset=timedelta())
            first_span = time.monotonic() - first
            # It dies holding one claim (mid-send, say): the item stays claimed until its lease.
            crashed = jobs.claim_next(
                box.db,
                kinds=[runs.SEND],
                worker="crashed",
                now=utcnow(),
                lease=timedelta(seconds=1),
            )
            assert crashed is not None
            before_restart = posted()

            # The restart: a new app instance, its own Database object, a new client.
            db2 = Database(url)
            deps2 = build_deps(box.settings, db2)
            create_app(deps2, client=make_client(box.settings))
            time.sleep(1.1)  # the dead sweeper's lease runs out
            second = time.monotonic()
            _sweep(
                deps2,
                make_client(box.settings),
                rate=args.rate,
                limit=humans * 2,
                now_offset=timedelta(seconds=2),
            )
            second_span = time.monotonic() - second
            stop.set()
            db2.dispose()

            calls = [c for c in fake.calls_to("chat.postMessage") if c.ok]
            per_person = Counter(str(c.args["channel"]) for c in calls)
            limited = len([c for c in fake.calls_to("chat.postMessage") if not c.ok])
            missed = humans - len(per_person)
            doubled = sum(1 for n in per_person.values() if n > 1)
            span = first_span + second_span
            waits = waited.total
            rate = len(calls) / span
            sustained = len(calls) / max(span - waits, 1e-9)
            print(
                f"members reached: {len(per_person)} of {humans}; missed {missed}; "
                f"doubled {doubled}"
            )
            print(f"429s injected and waited out: {limited}")
            print(
                f"sent before the restart: {before_restart}; after: {len(calls) - before_restart}"
            )
            print(
                f"configured rate: {args.rate:.1f}/s; achieved {rate:.1f}/s over {span:.1f} s "
                f"({rate / args.rate:.0%}); without the {waits:.1f} s of Retry-After waits "
                f"{sustained:.1f}/s ({sustained / args.rate:.0%})"
            )
            ok = not missed and not doubled and sustained >= args.min_share * args.rate
            print("OK" if ok else "FAILED")
            return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
