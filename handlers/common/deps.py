"""What every listener and scheduled job needs, built once per app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.config import Settings
from bot.privacy import IdentityCache, Privacy, privacy
from handlers.common.roster import VolunteerRoster
from messages.content import Content, load_content
from storage.db import Database

# A scheduled job's handler: (deps, client, item) -> None; registered by features by kind.
DueHandler = Callable[..., None]


@dataclass(frozen=True)
class Deps:
    """The app's settings, database, content, in-process caches and scheduled-work handlers."""

    settings: Settings
    db: Database
    content: Content
    volunteers: VolunteerRoster
    due_handlers: dict[str, DueHandler] = field(default_factory=dict)
    # Requesters' names fetched as the request modal opens (handlers.requests, .anonymous).
    identities: IdentityCache = field(default_factory=IdentityCache)
    # Sealing and keyed markers from ALLYBOT_SECRET_KEY, made once for the app.
    privacy: Privacy = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "privacy", privacy(self.settings))


def build_deps(settings: Settings, db: Database | None = None) -> Deps:
    """Deps for these settings (the database from DATABASE_URL unless one is given)."""
    return Deps(
        settings=settings,
        db=db or Database(settings.database_url),
        content=load_content(settings.content_dir),
        volunteers=VolunteerRoster(settings.volunteers_channel),
    )
