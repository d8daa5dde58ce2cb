"""What happens before the app takes requests: migrations and seed data."""

from __future__ import annotations

from bot.config import Settings
from bot.rules.allies import seed_business_units
from storage.db import Database
from storage.migrate import upgrade


def prepare_database(db: Database, settings: Settings) -> None:
    """Apply migrations, then seed what configuration declares (ALLYBOT_BUSINESS_UNITS)."""
    upgrade(db.engine)
    with db.session() as session:
        seed_business_units(session, settings.business_units)
