"""Migrations build the schema from nothing and agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage.db import Database
from storage.migrate import MIGRATIONS, alembic_config, upgrade


def test_upgrade_from_empty_creates_every_table(db: Database) -> None:
    """Upgrading an empty database yields every table the models declare."""
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables


def test_models_and_latest_migration_agree(db: Database) -> None:
    """Autogenerate finds nothing to add: no model change is missing a migration."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_upgrade_is_idempotent(db: Database) -> None:
    """Running the upgrade again at start-up changes nothing and does not fail."""
    upgrade(db.engine)
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    heads = set(ScriptDirectory.from_config(alembic_config(db.engine)).get_heads())
    assert current == heads
    assert MIGRATIONS.is_dir()
