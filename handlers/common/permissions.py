"""Who may use a listener, declared where it is registered (handlers.common.listeners).

A permission looks at the request (who, which case, which request) and answers None (go
ahead) or a `Refusal`: the words the person is told instead, as the handlers told them before
permissions were declared. It never writes. Rules still enforce their invariants inside their
own transaction where a race matters (the holder of a case, the chooser of a request): the
declaration keeps the check off the top of each handler, it does not replace those.

When a check runs (`before_ack`):
- `ANYONE` and `admins` read nothing but the settings: they run before the listener.
- The others may call Slack (the volunteer roster, cached for at most 60 s) or read the
  database, so by default they run just after the listener's own ack, so they never delay
  it, and before anything else the listener does: a modal's form errors still come first.
- `before_ack=True` (a button that opens a modal with its trigger) checks before the
  listener, so that nobody is shown a form they may not use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from bot.rules.anonymous import cases
from bot.rules.errors import UserFacingError
from handlers.common.deps import Deps
from handlers.common.payload import Payload
from storage import requests as request_store

# What a non-volunteer is told by default (cases, and asks made on behalf of a case).
ONLY_VOLUNTEERS = "Only the programme's volunteers (members of the volunteers channel) can do this."
# What the rules say too, inside their own transaction (bot.rules.requests).
ONLY_CHOOSER = "Only the person who asked can choose an ally for this request."
ONLY_REQUESTER = "Only the person who asked can withdraw this request."
OFFER_GONE = "That offer no longer exists."
REQUEST_GONE = "That request no longer exists."
# What bot.rules.anonymous.cases.reveal says too.
ONLY_CASE_REQUESTER = "Only the person who asked can do this."


@dataclass(frozen=True)
class Refusal:
    """What a refused person is told: privately (ephemeral where they are, else by DM), or,
    for a modal submitted with `field` set, as that field's error in the modal itself."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    field: str | None = None


@dataclass(frozen=True)
class Asking:
    """What a permission check may look at: the request, the app's deps, the Web API client."""

    payload: Payload
    deps: Deps
    client: WebClient

    @property
    def user_id(self) -> str:
        """Who is asking."""
        return self.payload.user_id

    def is_volunteer(self) -> bool:
        """Whether they are in the volunteers channel now (the roster, cached for 60 s)."""
        return self.deps.volunteers.is_volunteer(self.client, self.user_id)


Check = Callable[[Asking], Refusal | None]


@dataclass(frozen=True)
class Permission:
    """A declared permission: its name (for people reading the registrations), its check,
    and whether the check must run before the listener's ack."""

    name: str
    check: Check = field(repr=False)
    before_ack: bool = False

    def refusal(self, asking: Asking) -> Refusal | None:
        """None if this person may go ahead; else what they are told. A rule's refusal met
        while checking (the case is gone, the button is stale) is told the same way."""
        try:
            return self.check(asking)
        except UserFacingError as error:
            return Refusal(error.message)


def _nobody_refused(asking: Asking) -> Refusal | None:
    return None


# Anyone in the workspace; the rules still refuse what is not theirs (a feedback token, a
# draft, a check-in are checked against the person by the rules that use them).
ANYONE = Permission("anyone", _nobody_refused, before_ack=True)


def admins(
    text: str, *, blocks: list[dict[str, Any]] | None = None, field: str | None = None
) -> Permission:
    """Programme admins only (ALLYBOT_ADMINS); checked before the listener (no I/O)."""

    def check(asking: Asking) -> Refusal | None:
        if asking.deps.settings.is_admin(asking.user_id):
            return None
        return Refusal(text, blocks, field)

    return Permission("admins", check, before_ack=True)


def volunteers(
    text: str = ONLY_VOLUNTEERS, *, blocks: list[dict[str, Any]] | None = None
) -> Permission:
    """Members of the volunteers channel only (the cached roster)."""

    def check(asking: Asking) -> Refusal | None:
        return None if asking.is_volunteer() else Refusal(text, blocks)

    return Permission("volunteers", check)


def case_holder(case_of: Callable[[Payload], int], *, before_ack: bool = False) -> Permission:
    """The volunteer holding the anonymous case `case_of(payload)`, while it is not closed."""

    def check(asking: Asking) -> Refusal | None:
        case_id = case_of(asking.payload)
        if not asking.is_volunteer():
            return Refusal(ONLY_VOLUNTEERS)
        # Read-only (it may run before views.open and its ack): never waits for SQLite's writer.
        with asking.deps.db.read() as session:
            cases.holder_case(session, case_id=case_id, volunteer_id=asking.user_id)
        return None

    return Permission("case holder", check, before_ack=before_ack)


def case_requester(case_of: Callable[[Payload], int]) -> Permission:
    """The person who asked for the anonymous case (compared by keyed marker, never unsealed)."""

    def check(asking: Asking) -> Refusal | None:
        case_id = case_of(asking.payload)
        with asking.deps.db.read() as session:
            case = cases.get_case(session, case_id=case_id)
            mine = cases.is_requester(asking.deps.privacy, case, asking.user_id)
        return None if mine else Refusal(ONLY_CASE_REQUESTER)

    return Permission("case requester", check)


def request_chooser(offer_of: Callable[[Payload], int]) -> Permission:
    """Whoever chooses the ally for the offer's request: its requester, or for an ask made on
    behalf of a case, the volunteer who posted it (still a volunteer)."""

    def check(asking: Asking) -> Refusal | None:
        offer_id = offer_of(asking.payload)
        with asking.deps.db.read() as session:
            offer = request_store.get_offer(session, offer_id=offer_id)
            if offer is None:
                return Refusal(OFFER_GONE)
            request = request_store.get_request(session, request_id=offer.request_id)
            if request is None:
                return Refusal(REQUEST_GONE)
            for_case, chooser = bool(request.on_behalf_of), request.chooser_id
        if for_case and not asking.is_volunteer():
            return Refusal(ONLY_VOLUNTEERS)
        return None if chooser == asking.user_id else Refusal(ONLY_CHOOSER)

    return Permission("request chooser", check)


def request_requester(request_of: Callable[[Payload], int]) -> Permission:
    """The person who asked (or, for an ask made on behalf of a case, the volunteer who posted
    it, still a volunteer)."""

    def check(asking: Asking) -> Refusal | None:
        request_id = request_of(asking.payload)
        with asking.deps.db.read() as session:
            request = request_store.get_request(session, request_id=request_id)
            if request is None:
                return Refusal(REQUEST_GONE)
            for_case = bool(request.on_behalf_of)
            people = (request.requester_id, request.chooser_id)
        if for_case and not asking.is_volunteer():
            return Refusal(ONLY_VOLUNTEERS)
        return None if asking.user_id in people else Refusal(ONLY_REQUESTER)

    return Permission("request requester", check)
