"""What anonymous-request listeners read from a Slack payload, and who may act on a case."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bot.rules.anonymous import cases
from bot.rules.errors import NotAllowed, NotFound
from handlers.common.deps import Deps
from handlers.common.roster import VolunteerRoster
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
    def parse(cls, view: dict[str, Any]) -> Metadata:
        """Read a view's private_metadata; anything malformed is refused."""
        try:
            data = json.loads(view.get("private_metadata") or "{}")
            draft = data.get("draft")
            case = data.get("case")
            return cls(
                draft=str(draft) if isinstance(draft, str) else None,
                case=int(case) if isinstance(case, int) else None,
            )
        except (ValueError, TypeError, AttributeError):
            raise NotFound("This form no longer works; please start again.") from None


def case_id_of(body: dict[str, Any]) -> int:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        raise NotFound("That button no longer works.") from None


def user_of(body: dict[str, Any]) -> str:
    return str(body["user"]["id"])


def require_volunteer(client: WebClient, roster: VolunteerRoster, user_id: str) -> None:
    if not roster.is_volunteer(client, user_id):
        raise NotAllowed(
            "Only the programme's volunteers (members of the volunteers channel) can do this."
        )


def holder_case(
    client: WebClient, d: Deps, roster: VolunteerRoster, *, case_id: int, user_id: str
) -> AnonymousCase:
    require_volunteer(client, roster, user_id)
    # Read-only (it runs before views.open and its ack): never waits for SQLite's writer.
    with d.db.read() as session:
        case = cases.holder_case(session, case_id=case_id, volunteer_id=user_id)
        session.expunge(case)  # loaded, and kept as loaded when the read is rolled back
        return case


def selected(values: dict[str, Any], block_id: str) -> list[str]:
    element = (values.get(block_id) or {}).get(block_id) or {}
    if element.get("selected_option"):
        return [str(element["selected_option"].get("value"))]
    return [str(o.get("value")) for o in element.get("selected_options") or []]
