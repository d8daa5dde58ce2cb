"""What an anonymous case shows in Slack: the preview, the case card and thread in the
volunteers channel, and messages to the requester (whose names are looked up, never stored).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlmodel import Session

from bot.jobs import once
from bot.jobs import queue as jobs
from bot.privacy import Identity, identity_from_user
from bot.rules.anonymous import cases, drafts
from handlers.anonymous.inputs import Metadata
from handlers.common.deps import Deps
from handlers.common.redraw import Drawing, Read, post_once, redraw
from messages.render import render, render_blocks
from storage.models.anonymous import AnonymousCase
from storage.models.programme import FORGOTTEN

logger = logging.getLogger(__name__)


# Seconds users.info may take while a preview waits for its ack (Slack allows 3 in all), when
# the names were not fetched as the modal opened.
QUICK_LOOKUP = 1.5


@dataclass(frozen=True)
class CaseView:
    """What the card template shows of a case (no link to the requester)."""

    id: int
    handle: str
    status: str
    category_label: str
    details: str
    timing: str | None
    volunteer_id: str | None
    outcome_label: str
    ask_posted: bool
    purged: bool


def _identity(client: WebClient, user_id: str) -> Identity:
    """The requester's own names and e-mail, to redact them (users.info about the requester)."""
    answer = client.users_info(user=user_id)
    return identity_from_user(answer.get("user") or {})


def quick_identity(client: WebClient, user_id: str) -> Identity | None:
    """users.info within QUICK_LOOKUP seconds and no retries (it runs before an ack), or None."""
    quick = WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=QUICK_LOOKUP,  # type: ignore[arg-type]  # urllib takes float seconds
        retry_handlers=[],
    )
    try:
        return _identity(quick, user_id)
    except (SlackApiError, OSError) as error:
        logger.info("users.info for a preview failed (%s)", type(error).__name__)
        return None


class NamesUnavailable(Exception):
    """The requester's names could not be had, so their words cannot be redacted yet."""


def requester_names(client: WebClient, d: Deps, user_id: str) -> Identity | None:
    """The requester's names to redact with: users.info, else those kept in memory, else None."""
    try:
        identity = _identity(client, user_id)
    except (SlackClientError, OSError) as error:
        logger.info("users.info for redaction failed (%s)", type(error).__name__)
        return d.identities.get(user_id)
    d.identities.put(user_id, identity)
    return identity


def retire(d: Deps, key: str) -> None:
    """Cancel a due item whose work was done at once (the sweep would find nothing to do)."""
    with d.db.session() as session:
        jobs.cancel(session, key=key)


def prefetch_identity(client: WebClient, d: Deps, user_id: str) -> None:
    """Fetch and keep the person's names as the request modal opens (after views.open and ack).

    An anonymous preview then needs no users.info before its ack. Best effort: on a failure the
    submission looks the names up itself (quick_identity), so it is logged and ignored.
    """
    try:
        d.identities.put(user_id, _identity(client, user_id))
    except (SlackClientError, OSError) as error:
        logger.info("prefetching names for a request modal failed (%s)", type(error).__name__)


def _case_view(d: Deps, case: AnonymousCase) -> CaseView:
    category = d.content.category(case.category)
    assert case.id is not None
    return CaseView(
        id=case.id,
        handle=case.handle,
        status=case.status,
        category_label=category.label if category else case.category,
        details=case.details or "",
        timing=case.timing,
        volunteer_id=None if case.volunteer_id == FORGOTTEN else case.volunteer_id,
        outcome_label=cases.OUTCOME_LABELS.get(case.outcome or "", "closed"),
        ask_posted=case.ask_request_id is not None,
        purged=case.purged_at is not None,
    )


def _category_label(d: Deps, category_id: str) -> str:
    category = d.content.category(category_id)
    return category.label if category else category_id


def preview_view(d: Deps, token: str, shown: drafts.Draft | None) -> dict[str, Any]:
    view = render(
        "anonymous/preview.json.j2",
        metadata=Metadata(draft=token).dump(),
        c=shown,
        category_label=_category_label(d, shown.category) if shown else "",
    )
    assert isinstance(view, dict)
    return view


def notice_blocks(text: str) -> list[dict[str, Any]]:
    return render_blocks("anonymous/notice.json.j2", text=text)


def refresh_card(client: WebClient, d: Deps, case_id: int) -> None:
    """Show the case's current state on its card in the volunteers channel."""
    redraw(client, d.db, _card_read(d, case_id))


def _card_read(d: Deps, case_id: int) -> Read:
    def read(session: Session) -> Drawing | None:
        case = cases.get_case(session, case_id=case_id)
        if not (case.card_channel and case.card_ts):
            return None
        blocks = render_blocks("anonymous/card.json.j2", c=_case_view(d, case))
        return Drawing(case.card_channel, case.card_ts, _card_text(case.handle), blocks)

    return read


def post_case_card(client: WebClient, d: Deps, case_id: int) -> bool:
    """Post the case's card to the volunteers channel once; False if it is already there.

    Both the attempt right after the confirmation and the scheduled safety net (kind
    cases.CARD) come here; the post is made once, its ts recorded on the case (which retires
    the due post), and redrawn if the case changed while it was posted.
    """
    with d.db.read() as session:
        case = cases.get_case(session, case_id=case_id)
        if case.card_ts is not None or case.purged_at is not None:
            return False
        handle = case.handle
        blocks = render_blocks("anonymous/card.json.j2", c=_case_view(d, case))
    posted = post_once(
        client,
        d.db,
        f"case:{case_id}/card",
        channel=d.settings.volunteers_channel,
        text=f"{handle}: someone asked anonymously",
        blocks=blocks,
        record=lambda session, channel, ts: cases.record_card(
            session, case_id=case_id, channel=channel, ts=ts
        ),
        read=_card_read(d, case_id),
        shown_text=_card_text(handle),  # its redraws' text: it is not new any more
    ).sent
    if posted:
        logger.info("case %s card posted", case_id)
    return posted


def _card_text(handle: str) -> str:
    return f"{handle}: an anonymous request"


# How long a message to the requester waits for a thread another sender is opening.
THREAD_WAIT = 10.0


class ThreadPending(ConnectionError):
    """The requester's case thread is being opened by another sender just now: like a network
    failure, the message is tried again later (by its due item, or the person's next step)."""


def open_thread(client: WebClient, d: Deps, case_id: int, *, queued: bool = False) -> None:
    """Post the case's first message in the requester's DM, once: the root of the case thread.

    The DM channel is recorded sealed on the case, never in the record of the send.
    """
    with d.db.read() as session:
        case = cases.get_case(session, case_id=case_id)
        if case.thread_ts is not None or case.requester_sealed is None:
            return
        requester = cases.requester_of(d.privacy, case)
        handle, details = case.handle, case.details or ""
    text = f"Your anonymous request was sent as {handle}." + (
        " It is queued and will reach the volunteers shortly." if queued else ""
    )
    opened: dict[str, str] = {}

    def post() -> str:
        opened["channel"] = client.conversations_open(users=requester)["channel"]["id"]
        answer = client.chat_postMessage(
            channel=opened["channel"],
            text=text,
            blocks=render_blocks(
                "anonymous/thread_root.json.j2", handle=handle, details=details, queued=queued
            ),
        )
        return str(answer["ts"])

    def record(session: Session, ts: str) -> None:
        cases.record_thread(
            session, d.privacy, case_id=case_id, dm_channel=opened["channel"], thread_ts=ts
        )

    if not once.send_once(d.db, f"case:{case_id}/thread", post, record=record).settled:
        _wait_for_thread(d, case_id)


def _wait_for_thread(d: Deps, case_id: int) -> None:
    """Another sender is opening the thread (the submission, while a volunteer takes the
    case): wait for it to be recorded, briefly (this runs after the ack), else ThreadPending."""
    deadline = time.monotonic() + THREAD_WAIT
    while time.monotonic() < deadline:
        with d.db.read() as session:
            if cases.get_case(session, case_id=case_id).thread_ts is not None:
                return
        time.sleep(0.05)
    raise ThreadPending("the case thread is being opened")


def post_to_requester(
    client: WebClient,
    d: Deps,
    case_id: int,
    *,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    once_key: str | None = None,
) -> None:
    """Send to the requester's case thread (opening it first if needed); to them only.

    With `once_key` the message is sent once whoever sends it (bot.jobs.once).
    """
    open_thread(client, d, case_id)
    with d.db.read() as session:
        case = cases.get_case(session, case_id=case_id)
        channel, thread_ts = cases.dm_of(d.privacy, case), case.thread_ts
    if case.requester_sealed is None or channel is None:
        logger.info("case %s has no link to its requester any more; nothing sent", case_id)
        return

    def send() -> None:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=blocks)

    if once_key is None:
        send()
    elif not once.send_once(d.db, once_key, send).settled:
        raise ThreadPending("this message to the requester is being sent elsewhere")


FILES_NOT_PASSED_ON = (
    "Files and images are never passed on in an anonymous case: they can carry your name or "
    "other details about you. Please describe what matters in words."
)


WAITING_FOR_A_VOLUNTEER = (
    "No volunteer has taken {handle} yet. Your message is kept and will reach the volunteer "
    "who takes your case; we will tell you here when one does."
)


def tell_requester(client: WebClient, d: Deps, case_id: int, text: str) -> None:
    """A notice in the requester's case thread; a failure is logged (without the text), since
    what they wrote is kept already and Slack does not send an acked event again."""
    try:
        post_to_requester(client, d, case_id, text=text, blocks=notice_blocks(text))
    except (SlackClientError, OSError) as error:
        logger.warning(
            "case %s: a notice to the requester failed (%s)", case_id, type(error).__name__
        )


def to_volunteer_blocks(case: AnonymousCase, shown: str, files: bool) -> list[dict[str, Any]]:
    return render_blocks(
        "anonymous/to_volunteer.json.j2",
        handle=case.handle,
        text=shown,
        files_dropped=files,
        case_id=case.id,
    )
