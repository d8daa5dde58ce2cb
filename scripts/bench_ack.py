"""Benchmark: acknowledgement times for a burst of slash commands (run on purpose, not in CI).

    .venv/bin/python scripts/bench_ack.py [--burst 20] [--rounds 5]

Starts the real app over HTTP against the fake Slack (SQLite in a temp dir) and fires
`--burst` signed `/ally help` requests at once, `--rounds` times. Slack needs every ack
within 3 seconds; the script prints the slowest and the 95th percentile, and exits 1 if
any ack took 3 s or more.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.devkit.sandbox import Sandbox


def main() -> int:
    """Run the benchmark and print a summary."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    timings: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, Sandbox(f"sqlite:///{Path(tmp) / 'b.db'}") as box:
        users = [p.id for p in box.workspace.everyone]

        def ask(i: int) -> float:
            started = time.perf_counter()
            status = box.slack.slash(
                "/ally",
                "help",
                user_id=users[i % len(users)],
                channel_id=box.workspace.general_channel,
            ).status
            assert status == 200, status
            return time.perf_counter() - started

        with ThreadPoolExecutor(max_workers=args.burst) as pool:
            for _ in range(args.rounds):
                timings.extend(pool.map(ask, range(args.burst)))
        box.db.dispose()
    p95 = statistics.quantiles(timings, n=20)[-1]
    print(
        f"{len(timings)} acks: median {statistics.median(timings) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms"
    )
    return 0 if max(timings) < 3 else 1


if __name__ == "__main__":
    sys.exit(main())
