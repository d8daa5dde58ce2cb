"""Queries the surveys feature shares with the engine: leaving no trace in the database."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from storage.db import Database

logger = logging.getLogger(__name__)


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
