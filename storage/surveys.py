"""Queries the surveys feature shares with the engine: leaving no trace in a SQLite file."""

from __future__ import annotations

from storage.db import Database


def checkpoint(db: Database) -> None:
    """On SQLite, move the write-ahead log into the file and truncate it.

    The log keeps old page images (deleted survey markers among them) until a checkpoint;
    with `secure_delete` on, the checkpointed pages hold zeros where the rows were.
    """
    if db.is_postgres:
        return
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()
