"""Keeping relayed copies in step with their source: edits, deletions, a released case,
and blanking a copy its volunteer no longer holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from sqlmodel import Session

from bot.jobs import once
from bot.jobs import queue as jobs
from bot.jobs.once import Step
from bot.privacy import Identity, redact
from bot.rules.anonymous import cases, relays
from handlers.anonymous.surface import (
    NamesUnavailable,
    notice_blocks,
    post_to_requester,
    refresh_card,
    requester_names,
    to_volunteer_blocks,
)
from handlers.common.deps import Deps
from handlers.common.redraw import redraw_or_gone
from handlers.requests import surface as request_surface
from storage.models.anonymous import AnonymousCase, CaseRelay
from storage.models.programme import FORGOTTEN

logger = logging.getLogger(__name__)


def sync_now(client: WebClient, d: Deps, relay_id: int) -> None:
    """The first try of a relay's sync; if it fails, its due item tries again."""
    try:
        sync_relay(client, d, relay_id)
    except (SlackClientError, OSError, NamesUnavailable, RelayRaced) as error:
        logger.info(
            "relay %s not synced (%s); the sweep tries again", relay_id, type(error).__name__
        )


def on_relay_due(deps: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """The safety net of a reply's copy (payload relay_id), or of the replies a new holder
    of the case is to receive (payload case_id)."""
    payload = item.read(relays.RelayItem)
    if payload.relay_id is not None:
        sync_relay(client, deps, payload.relay_id)
        return
    if payload.case_id is None:
        raise KeyError("case_id")  # as before: an item naming neither is retried, then parked
    with deps.db.read() as session:
        waiting = relays.pending_relays(session, case_id=payload.case_id)
    for relay_id in waiting:
        sync_relay(client, deps, relay_id)


class RelayRaced(Exception):
    """The case or the reply kept changing while a sync looked up names; tried again later."""


# How many times a sync looks up again when the case or the reply changed meanwhile.
_SYNC_TRIES = 4


@dataclass(frozen=True)
class _Looked:
    """What a relay's sync found and looked up before taking any lock."""

    case_id: int
    version: int
    # The case's volunteer (None if nobody, or forgotten) and whether it is taken; when words
    # are to be shown, whether the volunteer left the volunteers channel.
    holder: str | None
    taken: bool
    left: bool
    withdrawn: bool
    # The requester's names, to redact with, when words are to be shown to a holder who is
    # still a volunteer (None otherwise: nothing is shown to anyone).
    names: Identity | None


def sync_relay(client: WebClient, d: Deps, relay_id: int) -> None:
    """Bring the volunteer's copy of one reply in line with what the requester wrote.

    Who holds the case, whether they are still a volunteer and the requester's names are
    looked up first, with no lock held (conversations.members and users.info can wait out a
    rate limit). A holder who left the volunteers channel gets nothing: the case is released
    (its own unit of work) and the reply waits for the next. Then the reply's sync is held
    (bot.jobs.once.hold, a lease; no transaction stays open while Slack answers) while the
    copy is sent or changed and recorded, so two syncs never both send. A sync that finds the
    reply held leaves its change to the holder, which looks again after letting go; if the
    case or the reply changed since the look-ups, they are made again.

    A copy follows the volunteer it was sent to: once they no longer hold the case (or are no
    longer a volunteer), an edit blanks their copy, and the new words go to whoever holds the
    case now, as a new reply would.
    """
    for _ in range(_SYNC_TRIES):
        looked = _look_up(client, d, relay_id)
        if looked is None:
            return
        if looked.taken and looked.holder is not None and looked.left:
            _release(client, d, case_id=looked.case_id, holder=looked.holder)
            continue  # looked at again: the case is back in the channel
        applied = _apply_sync(client, d, relay_id, looked)
        if applied is _Applied.HELD_ELSEWHERE:
            # The sync holding this reply looks again once it lets go, and finds this change
            # (committed before this try): nothing is left for this one to do.
            return
        if applied is _Applied.DONE and _state(d, relay_id) == _state_of(looked):
            return
        # The case or the reply changed meanwhile (an edit or a deletion that found this
        # sync holding the reply, say): looked at again.
    raise RelayRaced(f"relay {relay_id} changed during every try")


class _Applied(Enum):
    DONE = "done"
    CHANGED = "changed"  # since the look-ups: made again
    HELD_ELSEWHERE = "held elsewhere"


def _state(d: Deps, relay_id: int) -> tuple[object, ...] | None:
    """What a sync acts on: the reply's version and deletion, the case's holder and status."""
    with d.db.read() as session:
        relay = relays.get_relay(session, relay_id=relay_id)
        if relay is None:
            return None
        case = cases.get_case(session, case_id=relay.case_id)
        return (relay.version, relay.withdrawn, _holder(case), case.status == cases.TAKEN)


def _state_of(looked: _Looked) -> tuple[object, ...] | None:
    return (looked.version, looked.withdrawn, looked.holder, looked.taken)


def _holder(case: AnonymousCase) -> str | None:
    return case.volunteer_id if case.volunteer_id not in (None, FORGOTTEN) else None


def _look_up(client: WebClient, d: Deps, relay_id: int) -> _Looked | None:
    """Read the relay and its case, then (no lock held) make the Web API look-ups it needs."""
    p = d.privacy
    with d.db.read() as session:
        relay = relays.get_relay(session, relay_id=relay_id)
        if relay is None:
            return None
        case = cases.get_case(session, case_id=relay.case_id)
        holder, taken = _holder(case), case.status == cases.TAKEN
        shows_words = (
            not relay.withdrawn
            and relay.pending_sealed is not None
            and case.requester_sealed is not None
        )
        requester = cases.requester_of(p, case) if shows_words and holder else None
        looked = _Looked(
            case_id=relay.case_id,
            version=relay.version,
            holder=holder,
            taken=taken,
            left=False,
            withdrawn=relay.withdrawn,
            names=None,
        )
    if holder is None or requester is None:
        return looked
    if not d.volunteers.is_volunteer(client, holder):
        return replace(looked, left=True)
    # users.info about the requester, to redact their own names: the one use of their ID here.
    names = requester_names(client, d, requester)
    if names is None:
        raise NamesUnavailable("the requester's names could not be fetched")
    return replace(looked, names=names)


def _release(client: WebClient, d: Deps, *, case_id: int, holder: str) -> None:
    """Never to someone who left the volunteers channel: the case goes back to it."""
    with d.db.session() as session:
        key = cases.release_case(session, case_id=case_id, volunteer_id=holder)
    if key is None:
        return
    logger.info("case %s released: its holder is no longer a volunteer", case_id)
    try:
        release_followups(client, d, key=key)
    except (SlackClientError, OSError) as error:  # its due item finishes them
        logger.info(
            "case %s release follow-ups left to the sweep (%s)", case_id, type(error).__name__
        )


def _apply_sync(client: WebClient, d: Deps, relay_id: int, looked: _Looked) -> _Applied:
    """Send or change the copy and record it, holding the relay's sync (bot.jobs.once.hold).

    No transaction is open while Slack answers: the state is read, the copy sent or changed,
    then recorded in its own short unit of work. The hold keeps two syncs of one reply from
    interleaving; an edit or a new holder arriving meanwhile schedules its own sync, which finds
    the copy recorded where it really is.
    """
    with once.hold(d.db, f"relay:{relay_id}/sync") as held:
        if not held:
            return _Applied.HELD_ELSEWHERE
        return _Applied.DONE if _sync_held(client, d, relay_id, looked) else _Applied.CHANGED


def _sync_held(client: WebClient, d: Deps, relay_id: int, looked: _Looked) -> bool:
    p = d.privacy
    with d.db.read() as session:
        case = cases.get_case(session, case_id=looked.case_id)
        relay = relays.get_relay(session, relay_id=relay_id)
        reply = relays.pending_reply(p, relay) if relay is not None else None
    if relay is None:
        return True
    if relay.withdrawn:
        if relay.copy_channel and relay.copy_ts:
            _blank_copy(client, relay, f"{case.handle}: deleted by the person who asked.")
        _write(d, lambda session: relays.drop_relay(session, relay_id=relay_id))
        return True
    if case.requester_sealed is None:
        # Cut from the person who asked (forget-me, the purge): nothing of theirs is shown
        # any more; replies never copied go, as the forget-me or the purge would do.
        _write(d, lambda session: relays.purge_relays(session, case_id=looked.case_id))
        return True
    if reply is None:
        return True  # the copy shows it already
    holder = _holder(case)
    if (relay.version, holder, case.status == cases.TAKEN) != (
        looked.version,
        looked.holder,
        looked.taken,
    ):
        return False
    version = relay.version
    copy_channel, copy_ts = relay.copy_channel, relay.copy_ts
    if copy_channel and copy_ts:
        if looked.names and holder and relays.holds_copy(p, relay, holder):
            _update_copy(client, case, relay_id, (copy_channel, copy_ts), reply, looked.names)
            _record_copy(d, relay_id, (copy_channel, copy_ts), holder, version)
            return True
        # In the DM of someone who no longer holds the case (or of whoever it was, for a
        # copy recorded before copies knew their holder): blanked, and the new words go
        # to whoever holds the case now, as a new reply would.
        _blank_copy(client, relay, _NO_LONGER_YOURS.format(handle=case.handle))
        _write(d, lambda session: relays.forget_copy(session, relay_id=relay_id))
    if case.status == cases.CLOSED:
        # Closed before it reached anyone.
        _write(d, lambda session: relays.drop_relay(session, relay_id=relay_id))
        return True
    if not (looked.taken and holder and looked.names):
        return True  # it waits for the next volunteer who takes the case
    answer = client.chat_postMessage(
        channel=holder,
        text=f"{case.handle} replied.",
        blocks=to_volunteer_blocks(case, redact(reply.text, looked.names), reply.files),
    )
    _record_copy(d, relay_id, (str(answer["channel"]), str(answer["ts"])), holder, version)
    return True


def _write(d: Deps, change: Callable[[Session], object]) -> None:
    with d.db.session() as session:
        change(session)


def _record_copy(d: Deps, relay_id: int, copy: tuple[str, str], holder: str, version: int) -> None:
    with d.db.session() as session:
        relays.record_copy(
            session,
            d.privacy,
            relay_id=relay_id,
            channel=copy[0],
            ts=copy[1],
            holder=holder,
            version=version,
        )


_NO_LONGER_YOURS = "{handle}: message removed (you no longer hold this case)."


def _update_copy(
    client: WebClient,
    case: AnonymousCase,
    relay_id: int,
    copy: tuple[str, str],
    reply: relays.Reply,
    names: Identity,
) -> None:
    """An edit: the holder's copy shows the new words, redacted (a copy that is gone is fine)."""
    shown = redact(reply.text, names)
    gone = redraw_or_gone(
        lambda: client.chat_update(
            channel=copy[0],
            ts=copy[1],
            text=f"{case.handle} replied (edited).",
            blocks=to_volunteer_blocks(case, shown, reply.files),
        )
    )
    if gone:
        logger.info("relay %s copy not updated (%s)", relay_id, gone)


def _blank_copy(client: WebClient, relay: CaseRelay, text: str) -> None:
    """Replace a relayed copy's words with a note (a copy that is gone is fine)."""
    gone = redraw_or_gone(
        lambda: client.chat_update(
            channel=str(relay.copy_channel),
            ts=str(relay.copy_ts),
            text=text,
            blocks=notice_blocks(text),
        )
    )
    if gone:
        logger.info("relay %s copy not blanked (%s)", relay.id, gone)


def _blank_copies(client: WebClient, d: Deps, relay_ids: list[int]) -> None:
    """These copies lose their words and their records go (those whose copy was already
    forgotten are left: their words wait for the case's next holder)."""
    for relay_id in relay_ids:
        with once.hold(d.db, f"relay:{relay_id}/sync") as held:
            if not held:
                raise RelayRaced(f"relay {relay_id} is being synced")
            with d.db.read() as session:
                relay = relays.get_relay(session, relay_id=relay_id)
                if relay is None or not (relay.copy_channel and relay.copy_ts):
                    continue
                handle = cases.get_case(session, case_id=relay.case_id).handle
            text = f"{handle}: message text deleted (this case's messages are no longer kept)."
            _blank_copy(client, relay, text)
            with d.db.session() as session:
                relays.drop_relay(session, relay_id=relay_id)


def on_relays_purge_due(deps: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """Copies blanked and their records deleted: every copy of a purged case (payload
    case_id), or those sent to a volunteer who was forgotten (payload relay_ids)."""
    payload = item.read(relays.RelaysPurge)
    if payload.relay_ids is not None:
        relay_ids = payload.relay_ids
    elif payload.case_id is None:
        raise KeyError("case_id")  # as before: an item naming neither is retried, then parked
    else:
        with deps.db.read() as session:
            relay_ids = relays.relays_of(session, case_id=payload.case_id)
    _blank_copies(client, deps, relay_ids)


_RELEASED_CHANNEL = (
    "{handle} needs a volunteer again: the volunteer who held it is no longer in this "
    "channel. Take it to carry on; replies waiting for a volunteer come to whoever takes it."
)


_RELEASED_REQUESTER = (
    "Your volunteer for {handle} is no longer available, so your message was not passed on "
    "to them. It is kept and will reach the next volunteer who takes your case; we will tell "
    "you here when one does."
)


def on_case_released_due(deps: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """The safety net of a release's follow-ups."""
    release_followups(client, deps, key=str(item.key))


def release_followups(client: WebClient, d: Deps, *, key: str) -> None:
    """After a release: the card offers the case again, the channel and the requester are told.

    Each step runs once whoever runs the item (the first try at once, then the sweep).
    """

    with d.db.read() as session:
        item = jobs.find(session, key=key)
        if item is None or item.status in (jobs.DONE, jobs.CANCELLED):
            return
        released = cases.Released.model_validate(item.payload or {})
    case_id, ask_id = released.case_id, released.ask_id
    redraw_or_gone(lambda: refresh_card(client, d, case_id))
    if ask_id is not None:
        redraw_or_gone(lambda: request_surface.refresh_card(client, d, ask_id))
        redraw_or_gone(lambda: request_surface.refresh_escalation(client, d, request_id=ask_id))

    with d.db.read() as session:
        handle = cases.get_case(session, case_id=case_id).handle

    def tell_channel() -> str:
        text = _RELEASED_CHANNEL.format(handle=handle)
        answer = client.chat_postMessage(
            channel=d.settings.volunteers_channel, text=text, blocks=notice_blocks(text)
        )
        return str(answer["ts"])

    def tell_requester() -> None:
        text = _RELEASED_REQUESTER.format(handle=handle)
        post_to_requester(client, d, case_id, text=text, blocks=notice_blocks(text))

    steps = [Step("channel", tell_channel), Step("requester", tell_requester)]
    once.run_due_steps(d.db, key=key, steps=steps, what="release")
