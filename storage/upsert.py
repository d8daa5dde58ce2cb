"""INSERT ... ON CONFLICT DO NOTHING in the session's dialect (SQLite or PostgreSQL): the one
way rows are written "once" whoever writes them first."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def insert(session: Session, model: Any) -> Any:
    """An INSERT into `model` that can say `.on_conflict_do_nothing(...)` in this dialect."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
