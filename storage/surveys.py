"""Queries the surveys and misuse features share with the engine and with anonymous cases:
whether a person is paused, and leaving no trace of a closed survey in the database."""

from __future__ import annotations

import logging

from sqlalchemy import text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from storage.db import Database
from storage.models.anonymous import CasePause
from storage.models.programme import FORGOTTEN
from storage.models.surveys import MisuseReport, PersonPause

logger = logging.getLogger(__name__)


def paused(session: Session, *, marker: str) -> bool:
    """Whether any pause holds for the person with this marker: one admins see (PersonPause),
    or one set from an anonymous case (CasePause), which only this answer ever reflects."""
    return (
        session.get(PersonPause, marker) is not None or session.get(CasePause, marker) is not None
    )


def forget_decider(session: Session, *, user_id: str) -> None:
    """A forgotten volunteer's name goes from the misuse reviews they decided."""
    session.execute(
        update(MisuseReport)
        .where(col(MisuseReport.decided_by) == user_id)
        .values(decided_by=FORGOTTEN)
    )


def checkpoint(db: Database) -> None:
    """After a survey's close: let go of the old row versions the close left behind.

    On SQLite, move the write-ahead log into the file and truncate it: the log keeps old page
    images (deleted survey markers among them) until a checkpoint; with `secure_delete` on,
    the checkpointed pages hold zeros where the rows were. On PostgreSQL, VACUUM the answers
    and markers, so that the dead row versions (the markers, and the answers in the order
    they came, which the close rewrote in a random order) are removed from the heap; best
    effort, logged if it fails (autovacuum gets there later).
    """
    if db.is_postgres:
        try:
            with db.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(text("VACUUM survey_marker"))
                conn.execute(text("VACUUM survey_answer"))
        except SQLAlchemyError as exc:
            logger.warning("VACUUM after a survey's close failed: %s", type(exc).__name__)
        return
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()
