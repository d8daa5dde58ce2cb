"""What anonymous-request listeners read from a Slack payload: the views' metadata, the case."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.rules.anonymous import cases
from bot.rules.errors import NotFound
from handlers.common.deps import Deps
from handlers.common.payload import Payload
from storage.models.anonymous import AnonymousCase


@dataclass(frozen=True)
class Metadata:
    """What this feature's views carry in private_metadata: opaque ids only."""

    draft: str | None = None
    case: int | None = None

    def dump(self) -> str:
        """The JSON text for private_metadata."""
        data: dict[str, Any] = {}
        if self.draft is not None:
            data["draft"] = self.draft
        if self.case is not None:
            data["case"] = self.case
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def parse(cls, private_metadata: str) -> Metadata:
        """Read a view's private_metadata; anything malformed is refused."""
        try:
            data = json.loads(private_metadata or "{}")
            draft = data.get("draft")
            case = data.get("case")
            return cls(
                draft=str(draft) if isinstance(draft, str) else None,
                case=int(case) if isinstance(case, int) else None,
            )
        except (ValueError, TypeError, AttributeError):
            raise NotFound("This form no longer works; please start again.") from None


def case_in_button(payload: Payload) -> int:
    """The case a card button is about (its value)."""
    return payload.action_int()


def case_in_view(payload: Payload) -> int:
    """The case a modal about a case was opened for (its private_metadata)."""
    case_id = Metadata.parse(payload.private_metadata).case
    if case_id is None:
        raise NotFound("This form no longer works.")
    return case_id


def holder_case(d: Deps, *, case_id: int, user_id: str) -> AnonymousCase:
    """The case as its holder sees it (who may act on it is declared where the listener is
    registered; the rules check again where a race matters)."""
    # Read-only (it runs before views.open and its ack): never waits for SQLite's writer.
    with d.db.read() as session:
        case = cases.holder_case(session, case_id=case_id, volunteer_id=user_id)
        session.expunge(case)  # loaded, and kept as loaded when the read is rolled back
        return case
