"""Durable follow-ups: what Slack must show after a change, run once whoever runs it.

A change that many messages must reflect (a forget-me, a withdrawal) writes one due item in
its own transaction, naming what to redraw and whom to tell. The listener runs the steps at
once; the scheduler runs the item again if any failed. Each step is recorded in the item by
its place in the item's fixed payload, so the record holds no ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.jobs import queue as jobs
from handlers.common.deps import Deps

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    """One follow-up. A message (`alone`) is sent under the item's row lock, so it goes once;
    a redraw is idempotent and runs outside it (it opens units of work of its own)."""

    run: Callable[[], Any]
    alone: bool = False


class StepsPending(RuntimeError):
    """Some follow-up failed; the scheduled item runs the rest again."""


def run_steps(d: Deps, *, key: str, steps: list[Step], what: str) -> None:
    """Run each step once, whoever runs the item; then empty and retire the item.

    A failing step does not hold up the others; StepsPending is raised at the end, and the
    scheduler runs the item again. `what` names the follow-ups in the log (never an id).
    """
    failed = 0
    for index, step in enumerate(steps):
        try:
            _run_once(d, key, str(index), step)
        except Exception as error:  # the other steps still run; the item retries this one
            logger.warning(
                "%s follow-up failed (%s); it will be retried", what, type(error).__name__
            )
            failed += 1
    if failed:
        raise StepsPending(f"{failed} {what} follow-up(s) failed")
    with d.db.session() as session:
        jobs.clear_payload(session, key=key)
        jobs.cancel(session, key=key)


def _run_once(d: Deps, key: str, name: str, step: Step) -> None:
    if step.alone:

        def send(_session: object) -> None:
            step.run()

        jobs.run_once(d.db, key=key, name=name, send=send)
        return
    with d.db.read() as session:
        item = jobs.find(session, key=key)
        if item is None or name in (item.sent or {}):
            return
    step.run()
    with d.db.session() as session:
        jobs.find(session, key=key, lock=True)
        jobs.record_sent(session, key=key, name=name, value=True)
