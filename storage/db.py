"""The engine and the unit of work: one session, one transaction, one owner."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session


def make_engine(url: str) -> Engine:
    """Create an engine for SQLite or PostgreSQL with settings suited to each."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # WAL lets readers work beside the one writer; foreign keys are off by default.
            # Python's sqlite3 opens transactions lazily, so BEGIN IMMEDIATE is issued by
            # `_begin` below to take the write lock up front and serialise writers cleanly.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection):
            # Reads (Database.read) begin deferred: in WAL mode they never wait for a writer.
            options = connection.get_execution_options()
            if options.get(_READ_ONLY, False):
                connection.exec_driver_sql("BEGIN")
                return
            wait_ms = options.get(_WAIT_MS)
            if wait_ms is None:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            # A bounded wait for the write lock (a write before an ack must not outwait it).
            connection.exec_driver_sql(f"PRAGMA busy_timeout={int(wait_ms)}")
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            finally:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={_BUSY_MS}")

        return engine
    # hide_parameters keeps row values (which may be request text) out of error messages and logs.
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True
    )


_READ_ONLY = "allybot_read_only"
_WAIT_MS = "allybot_wait_ms"
# How long a SQLite writer waits for another's write lock, unless told otherwise.
_BUSY_MS = 30_000


class Database:
    """Owns the engine; hands out units of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._reader = self.engine.execution_options(**{_READ_ONLY: True})

    @property
    def is_postgres(self) -> bool:
        """Whether the database is PostgreSQL (row locks, SKIP LOCKED)."""
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self, *, wait: float | None = None) -> Iterator[Session]:
        """One unit of work: commit when the block ends, roll back if it raises.

        `wait` bounds, in seconds, how long it waits for another's lock (SQLite's write lock,
        PostgreSQL's row locks) before raising OperationalError: for the few writes made
        before an ack, which must rather fail than outwait it.
        """
        bind = self.engine
        if wait is not None and not self.is_postgres:
            bind = self.engine.execution_options(**{_WAIT_MS: int(wait * 1000)})
        with Session(bind, expire_on_commit=False, close_resets_only=False) as session:
            try:
                if wait is not None and self.is_postgres:
                    session.execute(text(f"SET LOCAL lock_timeout = '{int(wait * 1000)}ms'"))
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only look, for checks before the ack: it never waits for SQLite's writer."""
        # Closing (not rolling back) the session ends its transaction and detaches what it
        # read with the values loaded, so they can be used after the block, as the rows of a
        # unit of work (expire_on_commit=False) can. A session used after its block raises
        # (close_resets_only=False): it would otherwise open a transaction nobody ends.
        with Session(self._reader, expire_on_commit=False, close_resets_only=False) as session:
            yield session

    def ping(self) -> bool:
        """Whether the database answers a trivial query."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
