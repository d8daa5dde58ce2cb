"""The `allybot` console script: serve, run, db upgrade, demo, keygen, pair."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet

from bot.config import ConfigError, Settings, load_settings

EXIT_CONFIG = 2
EXIT_BAD_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="allybot", description="The allyship programme in Slack.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="HTTP mode: POST /slack/events, GET /healthz")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 (a server listens on all interfaces)
    serve.add_argument("--port", type=int, default=3000)
    run = sub.add_parser("run", help="Socket Mode when SLACK_APP_TOKEN is set, else as serve")
    run.add_argument("--host", default="0.0.0.0")  # noqa: S104
    run.add_argument("--port", type=int, default=3000)
    db = sub.add_parser("db", help="database commands")
    db.add_argument("action", choices=["upgrade"])
    sub.add_parser("demo", help="the programme in a simulated workspace, no Slack needed")
    sub.add_parser("keygen", help="print a new ALLYBOT_SECRET_KEY")
    pair = sub.add_parser("pair", help="pair a mentoring cohort from a CSV, no Slack needed")
    pair.add_argument("participants", metavar="PARTICIPANTS.csv")
    pair.add_argument("--out", metavar="PAIRS.csv", help="write the pairs here, not to stdout")
    pair.add_argument("--capacity", type=int, default=1, help="mentees per mentor if uneven")
    pair.add_argument("--allow-repeats", action="store_true", help="allow earlier pairs again")
    args = parser.parse_args(argv)

    if args.command == "keygen":
        print(Fernet.generate_key().decode())
        return 0
    if args.command == "pair":
        return _pair(args)
    if args.command == "demo":
        from bot.devkit.demo import run_demo

        return run_demo()

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"allybot: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "db":
        from storage.db import Database
        from storage.migrate import upgrade

        database = Database(settings.database_url)
        upgrade(database.engine)
        database.dispose()
        print("database is up to date")
        return 0
    socket_mode = args.command == "run" and settings.slack_app_token is not None
    return _start(settings, host=args.host, port=args.port, socket_mode=socket_mode)


def _pair(args: argparse.Namespace) -> int:
    """Offline pairing (SPEC 5.2): pairs as CSV; the unmatched and totals on stderr."""
    from bot.rules.mentoring.csvio import CsvError, pair_csv
    from bot.rules.mentoring.pairing import PairingError

    try:
        text = Path(args.participants).read_text(encoding="utf-8-sig")
        result = pair_csv(
            text,
            source=args.participants,
            capacity=args.capacity,
            allow_repeats=args.allow_repeats,
        )
        if args.out:
            Path(args.out).write_text(result.csv, encoding="utf-8")
    except (OSError, UnicodeDecodeError, CsvError, PairingError) as exc:
        print(f"allybot pair: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not args.out:
        sys.stdout.write(result.csv)
    for line in result.report:
        print(line, file=sys.stderr)
    return 0


def _start(settings: Settings, *, host: str, port: int, socket_mode: bool) -> int:
    from bot.app.factory import create_app, new_listener_executor
    from bot.app.scheduler import Scheduler
    from bot.app.server import serve
    from bot.app.startup import prepare_database
    from handlers.common.deps import build_deps

    app_deps = build_deps(settings)
    database = app_deps.db
    prepare_database(database, settings)
    listeners = new_listener_executor()
    app = create_app(app_deps, listener_executor=listeners)
    # Due work (feedback, escalations, purges, leaderboard posts) is swept from the database.
    scheduler = Scheduler(app_deps, app.client).start()

    def finish() -> None:
        # Work already acknowledged, and the current sweep, end before the database closes.
        listeners.shutdown(wait=True)
        scheduler.shutdown()

    if socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        assert settings.slack_app_token is not None
        try:
            SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()
        finally:
            finish()
            database.dispose()
        return 0
    serve(app, database, host=host, port=port, on_stop=finish)
    return 0


if __name__ == "__main__":
    sys.exit(main())
