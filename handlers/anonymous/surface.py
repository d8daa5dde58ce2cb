"""What an anonymous case shows in Slack: the preview, the case card and thread in the
volunteers channel, and messages to the requester (whose names are looked up, never stored).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlmodel import Session

from bot.jobs import queue as jobs
from bot.privacy import Identity, identity_from_user
from bot.rules.anonymous import cases, drafts
from handlers.anonymous.inputs import Metadata
from handlers.common.deps import Deps
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
    with d.db.session() as session:
        # Locked while it is redrawn: two redraws at once apply in turn, the newer state last.
        case = cases.get_case(session, case_id=case_id, lock=True)
        if not (case.card_channel and case.card_ts):
            return
        client.chat_update(
            channel=case.card_channel,
            ts=case.card_ts,
            text=f"{case.handle}: an anonymous request",
            blocks=render_blocks("anonymous/card.json.j2", c=_case_view(d, case)),
        )


def post_case_card(client: WebClient, d: Deps, case_id: int) -> bool:
    """Post the case's card to the volunteers channel once; False if it is already there.

    Both the attempt right after the confirmation and the scheduled safety net (kind
    cases.CARD) come here: the case row is locked (SQLite: the writer lock) while card_ts is
    checked, the card posted and its ts recorded, so the two never both post.
    """
    with d.db.session() as session:
        case = cases.get_case(session, case_id=case_id, lock=True)
        session.refresh(case)
        if case.card_ts is not None or case.purged_at is not None:
            return False
        answer = client.chat_postMessage(
            channel=d.settings.volunteers_channel,
            text=f"{case.handle}: someone asked anonymously",
            blocks=render_blocks("anonymous/card.json.j2", c=_case_view(d, case)),
        )
        cases.record_card(session, case_id=case_id, channel=answer["channel"], ts=answer["ts"])
    logger.info("case %s card posted", case_id)
    return True


def open_thread(
    client: WebClient, d: Deps, session: Session, case: AnonymousCase, *, queued: bool = False
) -> None:
    """Post the case's first message in the requester's DM: the root of the case thread."""
    p = d.privacy
    requester = cases.requester_of(p, case)
    channel = client.conversations_open(users=requester)["channel"]["id"]
    text = f"Your anonymous request was sent as {case.handle}." + (
        " It is queued and will reach the volunteers shortly." if queued else ""
    )
    answer = client.chat_postMessage(
        channel=channel,
        text=text,
        blocks=render_blocks(
            "anonymous/thread_root.json.j2",
            handle=case.handle,
            details=case.details or "",
            queued=queued,
        ),
    )
    assert case.id is not None
    cases.record_thread(session, p, case_id=case.id, dm_channel=channel, thread_ts=answer["ts"])
    session.refresh(case)


def post_to_requester(
    client: WebClient,
    d: Deps,
    session: Session,
    case: AnonymousCase,
    *,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
) -> None:
    """Send to the requester's case thread (opening it first if needed); to them only."""
    if case.requester_sealed is None:
        logger.info("case %s has no link to its requester any more; nothing sent", case.id)
        return
    if case.thread_ts is None:
        # Locked, so that two first messages at once make one thread root.
        assert case.id is not None
        case = cases.get_case(session, case_id=case.id, lock=True)
        session.refresh(case)
        if case.thread_ts is None:
            open_thread(client, d, session, case)
    channel = cases.dm_of(d.privacy, case)
    assert channel is not None
    client.chat_postMessage(channel=channel, thread_ts=case.thread_ts, text=text, blocks=blocks)


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
        with d.db.session() as session:
            case = cases.get_case(session, case_id=case_id)
            post_to_requester(client, d, session, case, text=text, blocks=notice_blocks(text))
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
