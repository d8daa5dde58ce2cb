"""The Slack surface of anonymous requests brokered by volunteers (SPEC 2.3).

Privacy rules every listener here follows:
- The requester's Slack ID and DM channel are unsealed only to send *them* a message (or to
  look up their own names with users.info for redaction); no other call, log line, message or
  column carries them. Volunteers and allies see the case handle and redacted text only.
- Their names are fetched when the request modal opens and kept in memory only, briefly
  (Deps.identities), so the preview is answered without a Web API call before its ack.
- private_metadata carries opaque ids only: a random draft token (the draft itself is sealed
  in the database) or a case id.
- Every permission is checked on the server when the action arrives: volunteer membership
  (conversations.members, cached at most 60 s), holding the case, being the requester. The
  relay checks it too: a holder who left the volunteers channel gets no more replies.
- Work after an ack that must not be lost (a relayed reply, its edit or deletion, an
  introduction) is written as a due item in the unit of work that records it, tried at once,
  and otherwise done by the sweep; what was sent is recorded, so nothing is sent twice.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlmodel import Session

from bot.jobs import queue as jobs
from bot.privacy import Identity, identity_from_user, privacy, redact
from bot.rules import anonymous as cases
from bot.rules import requests as request_rules
from bot.rules.errors import Conflict, NotAllowed, NotFound
from bot.rules.requests import ANONYMOUS, RequestForm
from handlers.common.client import PRE_ACK_WAIT
from handlers.common.commands import Routes
from handlers.common.deps import Deps, deps, with_deps
from handlers.common.roster import VolunteerRoster
from handlers.requests import surface as request_surface
from messages.render import render, render_blocks
from storage import anonymous as anonymous_store
from storage import requests as request_store
from storage.models.anonymous import AnonymousCase, CaseRelay
from storage.models.programme import FORGOTTEN
from storage.models.requests import Match

logger = logging.getLogger(__name__)

# Seconds users.info may take while a preview waits for its ack (Slack allows 3 in all), when
# the names were not fetched as the modal opened.
QUICK_LOOKUP = 1.5


class Ids(StrEnum):
    """callback_id, action_id and block_id strings of this feature (SPEC 5 names some)."""

    PREVIEW = "anonymous_preview"
    EDIT = "edit_anonymous_request"
    TAKE = "take_case"
    MESSAGE = "message_requester"
    FIND_ALLY = "find_ally_for_case"
    REVEAL = "reveal_to_ally"
    CLOSE = "close_case"
    RELAY_VIEW = "relay_message"
    RELAY_INPUT = "message"
    CLOSE_VIEW = "case_close"
    SEND_AGAIN = "send_anonymous_request"
    OUTCOME = "outcome"
    PAUSE = "pause"
    KIND = "kind"


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


def register(app: App, routes: Routes) -> None:
    """Register the preview, case buttons, relay, reveal, close and the purge."""
    app.view(Ids.PREVIEW.value)(on_preview_submitted)
    app.view_closed(Ids.PREVIEW.value)(on_preview_closed)
    app.action(Ids.EDIT.value)(on_edit_button)
    app.action(Ids.TAKE.value)(with_deps(on_take_case_button))
    app.action(Ids.MESSAGE.value)(with_deps(on_message_requester_button))
    app.view(Ids.RELAY_VIEW.value)(with_deps(on_relay_submitted))
    app.action(Ids.FIND_ALLY.value)(with_deps(on_find_ally_button))
    app.action(Ids.CLOSE.value)(with_deps(on_close_case_button))
    app.view(Ids.CLOSE_VIEW.value)(with_deps(on_close_submitted))
    app.action(Ids.REVEAL.value)(on_reveal_button)
    app.action(Ids.SEND_AGAIN.value)(on_send_again_button)
    app.event("message", matchers=[is_requester_message])(on_requester_message)
    app.event("message", matchers=[is_requester_edit])(on_requester_edit)
    routes.due[cases.PURGE] = on_purge_due
    routes.due[cases.CARD] = on_case_card_due
    routes.due[cases.RELAY] = on_relay_due
    routes.due[cases.RELAYS_PURGE] = on_relays_purge_due
    routes.due[cases.RELEASED] = on_case_released_due
    routes.due[cases.REVEAL] = on_reveal_due
    routes.due[cases.DRAFT_EXPIRY] = on_draft_expiry_due


# helpers


def _case_id(body: dict[str, Any]) -> int:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        raise NotFound("That button no longer works.") from None


def _user(body: dict[str, Any]) -> str:
    return str(body["user"]["id"])


def _identity(client: WebClient, user_id: str) -> Identity:
    """The requester's own names and e-mail, to redact them (users.info about the requester)."""
    answer = client.users_info(user=user_id)
    return identity_from_user(answer.get("user") or {})


def _quick_identity(client: WebClient, user_id: str) -> Identity | None:
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


def _retire(d: Deps, key: str) -> None:
    """Cancel a due item whose work was done at once (the sweep would find nothing to do)."""
    with d.db.session() as session:
        jobs.cancel(session, key=key)


def prefetch_identity(client: WebClient, d: Deps, user_id: str) -> None:
    """Fetch and keep the person's names as the request modal opens (after views.open and ack).

    An anonymous preview then needs no users.info before its ack. Best effort: on a failure the
    submission looks the names up itself (_quick_identity), so it is logged and ignored.
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


def _preview_view(d: Deps, token: str, shown: cases.Draft | None) -> dict[str, Any]:
    view = render(
        "anonymous/preview.json.j2",
        metadata=Metadata(draft=token).dump(),
        c=shown,
        category_label=_category_label(d, shown.category) if shown else "",
    )
    assert isinstance(view, dict)
    return view


def _notice(text: str) -> list[dict[str, Any]]:
    return render_blocks("anonymous/notice.json.j2", text=text)


def _require_volunteer(client: WebClient, roster: VolunteerRoster, user_id: str) -> None:
    if not roster.is_volunteer(client, user_id):
        raise NotAllowed(
            "Only the programme's volunteers (members of the volunteers channel) can do this."
        )


def _holder_case(
    client: WebClient, d: Deps, roster: VolunteerRoster, *, case_id: int, user_id: str
) -> AnonymousCase:
    _require_volunteer(client, roster, user_id)
    # Read-only (it runs before views.open and its ack): never waits for SQLite's writer.
    with d.db.read() as session:
        case = cases.holder_case(session, case_id=case_id, volunteer_id=user_id)
        session.expunge(case)  # loaded, and kept as loaded when the read is rolled back
        return case


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


def _open_thread(
    client: WebClient, d: Deps, session: Session, case: AnonymousCase, *, queued: bool = False
) -> None:
    """Post the case's first message in the requester's DM: the root of the case thread."""
    p = privacy(d.settings)
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


def _post_to_requester(
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
            _open_thread(client, d, session, case)
    channel = cases.dm_of(privacy(d.settings), case)
    assert channel is not None
    client.chat_postMessage(channel=channel, thread_ts=case.thread_ts, text=text, blocks=blocks)


# 1. asking anonymously: preview, edit, confirm


def on_anonymous_request_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, deps: Deps, form: Any
) -> None:
    """Answer a request modal submitted with kind `anonymous` (called by handlers.requests).

    The preview must be redacted with the requester's own names, and the ack must carry the
    finished preview: an ack of a "preparing" view completed later by views.update races with
    Slack applying that ack (a late-applied ack would overwrite the finished preview). The names
    were usually fetched when the modal opened (prefetch_identity). If they were not (another
    replica opened it, or that fetch failed), users.info is called *before* the ack with a tight
    timeout (QUICK_LOOKUP seconds). If that fails too, the preview says so and offers only
    Edit: nothing unredacted can be sent.
    """
    d = deps
    # Whatever fails before the ack, the submission is answered (the error is then reported).
    answer: dict[str, Any] = {
        "response_action": "errors",
        "errors": {Ids.KIND.value: "We could not prepare your preview just now. Please try again."},
    }
    try:
        user_id = _user(body)
        p = privacy(d.settings)
        with d.db.read() as session:
            refusal = cases.refusal_for(session, p, user_id=user_id)
        if refusal:
            answer = {"response_action": "errors", "errors": {Ids.KIND.value: refusal}}
            return
        token = secrets.token_urlsafe(32)
        draft = cases.Draft(category=form.category, details=form.details, timing=form.timing)
        # The sealed draft is the minimum written before the ack: Send and Edit need it at once.
        # On SQLite another writer may hold the lock (through a Web API call): wait only
        # briefly, and rather ask the person to try again than miss the ack.
        with d.db.session(wait=PRE_ACK_WAIT) as session:
            cases.save_draft(session, p, token=token, user_id=user_id, draft=draft)
        identity = d.identities.get(user_id)
        if identity is None:
            identity = _quick_identity(client, user_id)
            if identity is not None:
                d.identities.put(user_id, identity)
        shown = cases.redact_draft(draft, identity) if identity is not None else None
        answer = {"response_action": "update", "view": _preview_view(d, token, shown)}
    finally:
        ack(**answer)


def on_edit_button(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """Back from the preview to the request modal, with the requester's text kept.

    The names are fetched again once the modal is shown, as when it is first opened.
    """
    ack()

    d = deps(context)
    user_id = _user(body)
    view = body.get("view") or {}
    token = Metadata.parse(view).draft
    if token is None:
        return
    p = privacy(d.settings)
    with d.db.session() as session:
        draft = cases.peek_draft(session, p, token=token, user_id=user_id)
    if draft is None:
        return  # already confirmed, edited or abandoned
    prefill = RequestForm(
        kind=ANONYMOUS, category=draft.category, details=draft.details, timing=draft.timing
    )
    client.views_update(view_id=view["id"], view=request_surface.request_modal(d, prefill))
    with d.db.session() as session:
        cases.take_draft(session, p, token=token, user_id=user_id)
    prefetch_identity(client, d, user_id)


def on_preview_closed(ack: Ack, body: dict[str, Any], context: Any) -> None:
    """The requester cancelled: their sealed draft is deleted at once."""
    ack()
    d = deps(context)
    token = Metadata.parse(body.get("view") or {}).draft
    if token:
        with d.db.session() as session:
            cases.take_draft(session, privacy(d.settings), token=token, user_id=_user(body))


def on_preview_submitted(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """Confirmed: redact again on the server, file the case, post its card, open the thread.

    The case and its due card post are committed together; the card is posted at once, and if
    that fails the sweep posts it (cases.CARD) and the requester is told it is queued. If the
    requester's names cannot be had after the ack, the draft is kept (see _file_draft).
    """
    d = deps(context)
    answer: dict[str, Any] = {}
    try:
        user_id = _user(body)
        p = privacy(d.settings)
        try:
            token = Metadata.parse(body.get("view") or {}).draft
        except NotFound as error:
            # Answered in the ack, not raised: an error raised just after an ack can make
            # Bolt drop that ack.
            token = None
            answer = {
                "response_action": "update",
                "view": render(
                    "anonymous/notice_view.json.j2", title="Not sent", text=error.message
                ),
            }
        if token is None:
            return
        with d.db.read() as session:
            refusal = cases.refusal_for(session, p, user_id=user_id)
        if refusal:
            answer = {
                "response_action": "update",
                "view": render("anonymous/notice_view.json.j2", title="Not sent", text=refusal),
            }
            return
    finally:
        ack(**answer)
    _file_draft(client, d, user_id=user_id, token=token)


def on_send_again_button(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """The requester sends again a confirmed request that could not be checked for names."""
    ack()
    d = deps(context)
    p = privacy(d.settings)
    user_id = _user(body)
    try:
        token = str(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError):
        raise NotFound("That button no longer works.") from None
    with d.db.read() as session:
        kept = cases.peek_draft(session, p, token=token, user_id=user_id) is not None
        refusal = cases.refusal_for(session, p, user_id=user_id)
    if not kept:
        raise NotFound(
            "This request was already sent, or it was kept for more than a day and deleted. "
            "To ask again, use `/ally`."
        )
    if refusal:
        raise NotAllowed(refusal)
    handle = _file_draft(client, d, user_id=user_id, token=token)
    container = body.get("container") or {}
    if handle and container.get("type") == "message" and container.get("message_ts"):
        text = f"Your anonymous request was sent as {handle}."
        client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            text=text,
            blocks=_notice(text),
        )


def _file_draft(client: WebClient, d: Deps, *, user_id: str, token: str) -> str | None:
    """File the person's confirmed draft as a case: card, thread; its handle, or None.

    The names come from users.info, else from those kept since the modal opened. With
    neither, nothing unredacted may be filed: the draft stays (sealed, a day at most) and
    the person is told, with a button to send it again.
    """
    p = privacy(d.settings)
    identity = requester_names(client, d, user_id)
    if identity is None:
        with d.db.read() as session:
            kept = cases.peek_draft(session, p, token=token, user_id=user_id) is not None
        if kept:
            text = (
                "We could not send your anonymous request just now: we could not check it for "
                "your name. Nothing was sent to anyone. Your text is kept, sealed, for a day: "
                "press *Send again* to try again."
            )
            client.chat_postMessage(
                channel=user_id,
                text="Your anonymous request was not sent yet; your text is kept.",
                blocks=render_blocks("anonymous/draft_kept.json.j2", text=text, token=token),
            )
        return None
    with d.db.session() as session:
        draft = cases.take_draft(session, p, token=token, user_id=user_id)
        if draft is None:
            return None  # a second submission of the same preview
        case = cases.open_case(session, p, user_id=user_id, draft=draft, identity=identity)
        case_id = case.id
        handle = case.handle
    assert case_id is not None
    logger.info("anonymous case %s filed as %s", case_id, handle)
    queued = False
    try:
        post_case_card(client, d, case_id)
    except (SlackApiError, OSError) as error:
        queued = True
        logger.warning(
            "case %s card not posted (%s); the sweep will post it", case_id, type(error).__name__
        )
    with d.db.session() as session:
        case = cases.get_case(session, case_id=case_id, lock=True)
        session.refresh(case)
        if case.thread_ts is None:
            _open_thread(client, d, session, case, queued=queued and case.card_ts is None)
    return handle


def on_draft_expiry_due(deps: Deps, client: WebClient, item: Any) -> None:
    """A draft nobody confirmed, edited or cancelled within a day is deleted."""
    token = str((getattr(item, "payload", None) or {}).get("draft") or "")
    if token:
        with deps.db.session() as session:
            if cases.expire_draft(session, token=token):
                logger.info("a stale anonymous draft was deleted")


def on_case_card_due(deps: Deps, client: WebClient, item: Any) -> None:
    """The safety net of a case's card: post it if it is still missing, then tell the requester."""
    payload = getattr(item, "payload", None) or {}
    case_id = int(payload.get("case_id") or str(item.key).rpartition(":")[2])
    try:
        posted = post_case_card(client, deps, case_id)
    except NotFound:
        return
    if not posted:
        return
    try:
        with deps.db.session() as session:
            case = cases.get_case(session, case_id=case_id, lock=True)
            session.refresh(case)
            if case.thread_ts is None:
                _open_thread(client, deps, session, case)
            else:
                text = f"{case.handle} has reached the volunteers."
                _post_to_requester(client, deps, session, case, text=text, blocks=_notice(text))
    except (SlackApiError, OSError) as error:  # the card is up; telling them is a courtesy
        logger.info("case %s requester not told of the card (%s)", case_id, type(error).__name__)


# 3. taking the case


def on_take_case_button(
    ack: Ack, body: dict[str, Any], client: WebClient, d: Deps, roster: VolunteerRoster
) -> None:
    """A volunteer takes the case: one wins; the others are told who has it."""
    ack()
    user_id = _user(body)
    case_id = _case_id(body)
    _require_volunteer(client, roster, user_id)
    with d.db.session() as session:
        case = cases.take_case(
            session, case_id=case_id, volunteer_id=user_id, privacy=privacy(d.settings)
        )
        handle = case.handle
        waiting = cases.pending_relays(session, case_id=case_id)
    logger.info("case %s taken", case_id)
    refresh_card(client, d, case_id)
    with d.db.session() as session:
        case = cases.get_case(session, case_id=case_id)
        text = f"A volunteer has taken {handle}. They will write to you in this thread."
        _post_to_requester(client, d, session, case, text=text, blocks=_notice(text))
    # Replies written while nobody held the case reach the new holder (the take scheduled
    # their due delivery too).
    for relay_id in waiting:
        _sync_now(client, d, relay_id)


# 4. the relay


def on_message_requester_button(
    ack: Ack, body: dict[str, Any], client: WebClient, d: Deps, roster: VolunteerRoster
) -> None:
    """The holding volunteer opens the relay modal (the trigger is used before the ack)."""
    _open_case_modal(ack, body, client, d, roster, "anonymous/relay_modal.json.j2")


def _open_case_modal(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    d: Deps,
    roster: VolunteerRoster,
    template: str,
) -> None:
    """Open a modal about a case for the volunteer holding it, then ack."""
    try:
        case = _holder_case(client, d, roster, case_id=_case_id(body), user_id=_user(body))
        client.views_open(
            trigger_id=body["trigger_id"],
            view=render(template, metadata=Metadata(case=case.id).dump(), handle=case.handle),
        )
    finally:
        ack()


def on_relay_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, d: Deps, roster: VolunteerRoster
) -> None:
    """The volunteer's words go to the requester's case thread, once per submission."""
    ack()
    view = body["view"]
    case_id = Metadata.parse(view).case
    if case_id is None:
        raise NotFound("This form no longer works.")
    user_id = _user(body)
    values = view.get("state", {}).get("values", {})
    text = str(
        (values.get(Ids.RELAY_INPUT.value, {}).get(Ids.RELAY_INPUT.value) or {}).get("value") or ""
    ).strip()
    if not text:
        return
    case = _holder_case(client, d, roster, case_id=case_id, user_id=user_id)
    with d.db.session() as session:
        if not request_store.claim_event(session, event_id=f"view:{view['id']}"[:64]):
            return
        case = cases.get_case(session, case_id=case_id)
        _post_to_requester(
            client,
            d,
            session,
            case,
            text=f"Your volunteer for {case.handle} wrote to you.",
            blocks=render_blocks("anonymous/to_requester.json.j2", handle=case.handle, text=text),
        )
    client.chat_postMessage(
        channel=user_id,
        text=f"Your message was passed on to {case.handle}.",
        blocks=_notice(f"Your message was passed on to *{case.handle}*."),
    )


# Messages in the requester's DM that are replies (plain, or "also send to direct message").
_REPLY_SUBTYPES = (None, "file_share", "thread_broadcast")
_EDIT = "message_changed"
_DELETE = "message_deleted"


def is_requester_message(body: dict[str, Any], context: Any) -> bool:
    """A person's own message in their DM with the bot, about (or near) an anonymous case."""
    event = body.get("event") or {}
    if event.get("type") != "message" or event.get("channel_type") != "im":
        return False
    if event.get("bot_id") or event.get("subtype") not in _REPLY_SUBTYPES:
        return False
    user_id, channel = event.get("user"), event.get("channel")
    if not user_id or not channel:
        return False
    d = deps(context)
    p = privacy(d.settings)
    # Read-only: this runs on every DM event before its ack and never waits for SQLite's writer.
    with d.db.read() as session:
        thread_ts = event.get("thread_ts")
        if thread_ts and cases.case_in_thread(
            session, p, user_id=user_id, channel=channel, thread_ts=str(thread_ts)
        ):
            return True
        return bool(cases.cases_of(session, p, user_id=user_id))


def on_requester_message(
    body: dict[str, Any], event: dict[str, Any], client: WebClient, context: Any
) -> None:
    """The requester's reply in a case thread reaches the volunteer, redacted, once.

    Slack does not retry an event it got an ack for, so the reply is kept instead: sealed,
    with its due delivery, in the unit of work that claims the event. It is sent at once;
    if that fails, the sweep sends it (cases.RELAY), and the copy's ts, recorded under the
    relay's lock, keeps it from being sent twice. While no volunteer holds the case, the
    reply waits for the next one who takes it. The notices to the requester go after that
    unit of work is committed: one that fails is logged and loses nothing.
    """
    d = deps(context)
    p = privacy(d.settings)
    user_id, channel = str(event["user"]), str(event["channel"])
    thread_ts = event.get("thread_ts")
    files = bool(event.get("files"))
    words = str(event.get("text") or "").strip()
    notices: list[str] = []
    relay_id: int | None = None
    with d.db.session() as session:
        if not request_store.claim_event(session, event_id=str(body.get("event_id") or "")):
            return
        case = (
            cases.case_in_thread(
                session, p, user_id=user_id, channel=channel, thread_ts=str(thread_ts)
            )
            if thread_ts
            else None
        )
        if case is None:
            handles = [c.handle for c in cases.cases_of(session, p, user_id=user_id)]
        else:
            assert case.id is not None
            case_id, handle, status = case.id, case.handle, case.status
            if files:
                notices.append(_FILES_NOT_PASSED_ON)
            if status == cases.CLOSED:
                notices.append(f"{handle} is closed. To ask again, use `/ally`.")
            elif words:
                relay_id = cases.record_reply(
                    session,
                    p,
                    case_id=case_id,
                    ts=str(event["ts"]),
                    reply=cases.Reply(words, files),
                )
                if status == cases.OPEN:
                    notices.append(_WAITING_FOR_A_VOLUNTEER.format(handle=handle))
    if case is None:
        text = (
            "To talk to the volunteer about your anonymous request, reply in the thread "
            f"under the message about {', '.join(handles[:3])}."
        )
        try:
            client.chat_postMessage(channel=channel, text=text, blocks=_notice(text))
        except (SlackClientError, OSError) as error:
            logger.warning("help for a requester not sent (%s)", type(error).__name__)
        return
    for text in notices:
        _tell_requester(client, d, case_id, text)
    if relay_id is not None and status == cases.TAKEN:
        _sync_now(client, d, relay_id)


_FILES_NOT_PASSED_ON = (
    "Files and images are never passed on in an anonymous case: they can carry your name or "
    "other details about you. Please describe what matters in words."
)
_WAITING_FOR_A_VOLUNTEER = (
    "No volunteer has taken {handle} yet. Your message is kept and will reach the volunteer "
    "who takes your case; we will tell you here when one does."
)


def _tell_requester(client: WebClient, d: Deps, case_id: int, text: str) -> None:
    """A notice in the requester's case thread; a failure is logged (without the text), since
    what they wrote is kept already and Slack does not send an acked event again."""
    try:
        with d.db.session() as session:
            case = cases.get_case(session, case_id=case_id)
            _post_to_requester(client, d, session, case, text=text, blocks=_notice(text))
    except (SlackClientError, OSError) as error:
        logger.warning(
            "case %s: a notice to the requester failed (%s)", case_id, type(error).__name__
        )


def _changed_message(event: dict[str, Any]) -> dict[str, Any] | None:
    """The person's message an edit or deletion event is about (None if it is not one)."""
    subtype = event.get("subtype")
    inner = event.get("message") if subtype == _EDIT else event.get("previous_message")
    if subtype not in (_EDIT, _DELETE) or not isinstance(inner, dict):
        return None
    if inner.get("bot_id") or not inner.get("user") or not inner.get("thread_ts"):
        return None
    return inner


def is_requester_edit(body: dict[str, Any], context: Any) -> bool:
    """A person editing or deleting their own message in one of their case threads."""
    event = body.get("event") or {}
    if event.get("type") != "message" or event.get("channel_type") != "im":
        return False
    inner = _changed_message(event)
    if inner is None or not event.get("channel"):
        return False
    d = deps(context)
    with d.db.read() as session:  # before the ack: never waits for SQLite's writer
        return (
            cases.case_in_thread(
                session,
                privacy(d.settings),
                user_id=str(inner["user"]),
                channel=str(event["channel"]),
                thread_ts=str(inner["thread_ts"]),
            )
            is not None
        )


def on_requester_edit(
    body: dict[str, Any], event: dict[str, Any], client: WebClient, context: Any
) -> None:
    """The requester edited or deleted a reply: the volunteer's copy follows, once.

    An edit shows the new words, redacted; a deletion leaves a note without the words. Kept
    as a due item with the change, like the reply itself.
    """
    d = deps(context)
    p = privacy(d.settings)
    inner = _changed_message(event)
    if inner is None:
        return
    ts = str(event.get("deleted_ts") or inner.get("ts") or "")
    with d.db.session() as session:
        if not request_store.claim_event(session, event_id=str(body.get("event_id") or "")):
            return
        case = cases.case_in_thread(
            session,
            p,
            user_id=str(inner["user"]),
            channel=str(event["channel"]),
            thread_ts=str(inner["thread_ts"]),
        )
        if case is None or case.id is None or not ts:
            return
        reply: cases.Reply | None = None
        if event.get("subtype") == _EDIT:
            words = str(inner.get("text") or "").strip()
            before = (event.get("previous_message") or {}).get("text")
            if before is not None and str(before).strip() == words:
                return  # not an edit of the words (an unfurl, say)
            reply = cases.Reply(words, bool(inner.get("files"))) if words else None
        relay_id = cases.change_reply(session, p, case_id=case.id, ts=ts, reply=reply)
    if relay_id is not None:
        _sync_now(client, d, relay_id)


def _sync_now(client: WebClient, d: Deps, relay_id: int) -> None:
    """The first try of a relay's sync; if it fails, its due item tries again."""
    try:
        sync_relay(client, d, relay_id)
    except (SlackClientError, OSError, NamesUnavailable, RelayRaced) as error:
        logger.info(
            "relay %s not synced (%s); the sweep tries again", relay_id, type(error).__name__
        )


def on_relay_due(deps: Deps, client: WebClient, item: Any) -> None:
    """The safety net of a reply's copy (payload relay_id), or of the replies a new holder
    of the case is to receive (payload case_id)."""
    payload = getattr(item, "payload", None) or {}
    if payload.get("relay_id") is not None:
        sync_relay(client, deps, int(payload["relay_id"]))
        return
    with deps.db.read() as session:
        waiting = cases.pending_relays(session, case_id=int(payload["case_id"]))
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
    # The requester's names, to redact with, when words are to be shown to a holder who is
    # still a volunteer (None otherwise: nothing is shown to anyone).
    names: Identity | None


def sync_relay(client: WebClient, d: Deps, relay_id: int) -> None:
    """Bring the volunteer's copy of one reply in line with what the requester wrote.

    Who holds the case, whether they are still a volunteer and the requester's names are
    looked up first, with no lock held (conversations.members and users.info can wait out a
    rate limit). A holder who left the volunteers channel gets nothing: the case is released
    (its own unit of work) and the reply waits for the next. Then the case row, then the
    relay's, are locked while the copy is sent or changed and recorded (the order every unit
    of work on both keeps), so two syncs never both send; if the case or the reply changed
    since the look-ups, they are made again.

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
        if _apply_sync(client, d, relay_id, looked):
            return
    raise RelayRaced(f"relay {relay_id} changed during every try")


def _holder(case: AnonymousCase) -> str | None:
    return case.volunteer_id if case.volunteer_id not in (None, FORGOTTEN) else None


def _look_up(client: WebClient, d: Deps, relay_id: int) -> _Looked | None:
    """Read the relay and its case, then (no lock held) make the Web API look-ups it needs."""
    p = privacy(d.settings)
    with d.db.read() as session:
        relay = cases.get_relay(session, relay_id=relay_id)
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


def _apply_sync(client: WebClient, d: Deps, relay_id: int, looked: _Looked) -> bool:
    """Under the case's and the relay's locks: send or change the copy, and record it.

    False if the case or the reply changed since the look-ups (they are made again).
    """
    p = privacy(d.settings)
    with d.db.session() as session:
        case = cases.get_case(session, case_id=looked.case_id, lock=True)
        session.refresh(case)
        relay = cases.get_relay(session, relay_id=relay_id, lock=True)
        if relay is None:
            return True
        if relay.withdrawn:
            if relay.copy_channel and relay.copy_ts:
                _blank_copy(client, relay, f"{case.handle}: deleted by the person who asked.")
            cases.drop_relay(session, relay_id=relay_id)
            return True
        if case.requester_sealed is None:
            # Cut from the person who asked (forget-me, the purge): nothing of theirs is shown
            # any more; replies never copied go, as the forget-me or the purge would do.
            cases.purge_relays(session, case_id=looked.case_id)
            return True
        reply = cases.pending_reply(p, relay)
        if reply is None:
            return True  # the copy shows it already
        holder = _holder(case)
        if (relay.version, holder, case.status == cases.TAKEN) != (
            looked.version,
            looked.holder,
            looked.taken,
        ):
            return False
        copy_channel, copy_ts = relay.copy_channel, relay.copy_ts
        if copy_channel and copy_ts:
            if looked.names and holder and cases.holds_copy(p, relay, holder):
                _update_copy(client, case, relay_id, (copy_channel, copy_ts), reply, looked.names)
                cases.record_copy(
                    session, p, relay_id=relay_id, channel=copy_channel, ts=copy_ts, holder=holder
                )
                return True
            # In the DM of someone who no longer holds the case (or of whoever it was, for a
            # copy recorded before copies knew their holder): blanked, and the new words go
            # to whoever holds the case now, as a new reply would.
            _blank_copy(client, relay, _NO_LONGER_YOURS.format(handle=case.handle))
            cases.forget_copy(session, relay_id=relay_id)
        if case.status == cases.CLOSED:
            cases.drop_relay(session, relay_id=relay_id)  # closed before it reached anyone
            return True
        if not (looked.taken and holder and looked.names):
            return True  # it waits for the next volunteer who takes the case
        answer = client.chat_postMessage(
            channel=holder,
            text=f"{case.handle} replied.",
            blocks=_to_volunteer(case, redact(reply.text, looked.names), reply.files),
        )
        cases.record_copy(
            session, p, relay_id=relay_id, channel=answer["channel"], ts=answer["ts"], holder=holder
        )
        return True


_NO_LONGER_YOURS = "{handle}: message removed (you no longer hold this case)."


def _update_copy(
    client: WebClient,
    case: AnonymousCase,
    relay_id: int,
    copy: tuple[str, str],
    reply: cases.Reply,
    names: Identity,
) -> None:
    """An edit: the holder's copy shows the new words, redacted (a copy that is gone is fine)."""
    shown = redact(reply.text, names)
    gone = redraw_or_gone(
        lambda: client.chat_update(
            channel=copy[0],
            ts=copy[1],
            text=f"{case.handle} replied (edited).",
            blocks=_to_volunteer(case, shown, reply.files),
        )
    )
    if gone:
        logger.info("relay %s copy not updated (%s)", relay_id, gone)


def _to_volunteer(case: AnonymousCase, shown: str, files: bool) -> list[dict[str, Any]]:
    return render_blocks(
        "anonymous/to_volunteer.json.j2",
        handle=case.handle,
        text=shown,
        files_dropped=files,
        case_id=case.id,
    )


def _blank_copy(client: WebClient, relay: CaseRelay, text: str) -> None:
    """Replace a relayed copy's words with a note (a copy that is gone is fine)."""
    gone = redraw_or_gone(
        lambda: client.chat_update(
            channel=str(relay.copy_channel), ts=str(relay.copy_ts), text=text, blocks=_notice(text)
        )
    )
    if gone:
        logger.info("relay %s copy not blanked (%s)", relay.id, gone)


def _blank_copies(client: WebClient, d: Deps, relay_ids: list[int]) -> None:
    """These copies lose their words and their records go (those whose copy was already
    forgotten are left: their words wait for the case's next holder)."""
    for relay_id in relay_ids:
        with d.db.read() as session:
            found = cases.get_relay(session, relay_id=relay_id)
            case_id = found.case_id if found is not None else None
        if case_id is None:
            continue
        with d.db.session() as session:
            case = cases.get_case(session, case_id=case_id, lock=True)
            relay = cases.get_relay(session, relay_id=relay_id, lock=True)
            if relay is None or not (relay.copy_channel and relay.copy_ts):
                continue
            text = f"{case.handle}: message text deleted (this case's messages are no longer kept)."
            _blank_copy(client, relay, text)
            cases.drop_relay(session, relay_id=relay_id)


def on_relays_purge_due(deps: Deps, client: WebClient, item: Any) -> None:
    """Copies blanked and their records deleted: every copy of a purged case (payload
    case_id), or those sent to a volunteer who was forgotten (payload relay_ids)."""
    payload = getattr(item, "payload", None) or {}
    if payload.get("relay_ids") is not None:
        relay_ids = [int(r) for r in payload["relay_ids"]]
    else:
        with deps.db.read() as session:
            relay_ids = cases.relays_of(session, case_id=int(payload["case_id"]))
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


def on_case_released_due(deps: Deps, client: WebClient, item: Any) -> None:
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
        payload = dict(item.payload or {})
    case_id = int(payload["case_id"])
    redraw_or_gone(lambda: refresh_card(client, d, case_id))
    ask_id = payload.get("ask_id")
    if ask_id is not None:
        redraw_or_gone(lambda: request_surface.refresh_card(client, d, int(ask_id)))
        redraw_or_gone(
            lambda: request_surface.refresh_escalation(client, d, request_id=int(ask_id))
        )

    def tell_channel(session: Session) -> str:
        handle = cases.get_case(session, case_id=case_id).handle
        text = _RELEASED_CHANNEL.format(handle=handle)
        answer = client.chat_postMessage(
            channel=d.settings.volunteers_channel, text=text, blocks=_notice(text)
        )
        return str(answer["ts"])

    def tell_requester(session: Session) -> None:
        case = cases.get_case(session, case_id=case_id)
        text = _RELEASED_REQUESTER.format(handle=case.handle)
        _post_to_requester(client, d, session, case, text=text, blocks=_notice(text))

    jobs.run_once(d.db, key=key, name="channel", send=tell_channel)
    jobs.run_once(d.db, key=key, name="requester", send=tell_requester)
    _retire(d, key)


def relay_to_requester(
    client: WebClient,
    deps: Deps,
    *,
    request_id: int,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
) -> None:
    """Send a message to an anonymous requester's DM thread for their case (never exposing them).

    `request_id` is the ask a volunteer posted for the case in the allies channel (the request
    whose match feedback is about).
    """
    with deps.db.session() as session:
        case = anonymous_store.case_for_request(session, request_id=request_id)
        if case is None:
            logger.info("request %s is not an anonymous case's ask; nothing relayed", request_id)
            return
        _post_to_requester(client, deps, session, case, text=text, blocks=blocks)


# 5. finding an ally for the case


def on_find_ally_button(
    ack: Ack, body: dict[str, Any], client: WebClient, d: Deps, roster: VolunteerRoster
) -> None:
    """Post an anonymised ask to the allies channel on behalf of the case; the volunteer chooses."""
    ack()

    user_id = _user(body)
    case_id = _case_id(body)
    _require_volunteer(client, roster, user_id)
    with d.db.session() as session:
        case = cases.get_case(session, case_id=case_id, lock=True)
        case = cases.holder_case(session, case_id=case_id, volunteer_id=user_id)
        handle = case.handle
        if case.ask_request_id is not None:
            ask = request_store.get_request(session, request_id=case.ask_request_id)
            if ask is None or ask.card_ts:
                raise Conflict(f"An ask for {handle} is already in the allies channel.")
            # The ask exists but its card never reached the allies channel: post it now.
            request_id = case.ask_request_id
        else:
            request_id = _new_ask(session, case, chooser_id=user_id)
    if not request_surface.post_card(client, d, request_id):
        raise Conflict(f"An ask for {handle} is already in the allies channel.")
    refresh_card(client, d, case_id)
    text = (
        f"An ask for {handle} is in the allies channel. Offers come to you by DM; the ally you "
        "choose is introduced to you, never to the person who asked."
    )
    client.chat_postMessage(channel=user_id, text=text, blocks=_notice(text))


def _new_ask(session: Session, case: AnonymousCase, *, chooser_id: str) -> int:
    """Create the case's ask (on behalf of its handle) and link it to the case, once."""

    case_id = case.id
    assert case_id is not None
    request = request_rules.create_request(
        session,
        kind=request_rules.ANONYMOUS,
        category=case.category,
        details=case.details or "",
        timing=case.timing,
        requester_id=None,
        chooser_id=chooser_id,
        on_behalf_of=case.handle,
        submission_key=f"case:{case_id}",
    )
    assert request.id is not None
    if not cases.attach_ask(session, case_id=case_id, request_id=request.id):
        raise Conflict(f"An ask for {case.handle} is already in the allies channel.")
    return request.id


def after_case_match(client: WebClient, deps: Deps, *, match_id: int) -> None:
    """Called by handlers.requests after a volunteer chose an ally for a case's ask."""
    with deps.db.session() as session:
        match = session.get(Match, match_id)
        if match is None:
            return
        case = anonymous_store.case_for_request(session, request_id=match.request_id)
        if case is None or case.id is None:
            return
        # Marked and told in one unit of work: a failed send rolls the mark back.
        if not cases.mark_ally_found(session, case_id=case.id):
            return
        session.refresh(case)
        _post_to_requester(
            client,
            deps,
            session,
            case,
            text=f"An ally has been found for {case.handle}.",
            blocks=render_blocks(
                "anonymous/ally_found.json.j2", handle=case.handle, case_id=case.id
            ),
        )


def on_reveal_button(ack: Ack, body: dict[str, Any], client: WebClient, context: Any) -> None:
    """The requester (only) confirmed "Reveal me to my ally": introduce them once, recorded.

    The reveal is recorded first, with its due introduction (cases.REVEAL), and committed;
    the introduction is sent after, once, by this click or else by the sweep. A second click
    finds the reveal recorded and introduces nobody again.
    """
    ack()
    d = deps(context)
    p = privacy(d.settings)
    user_id = _user(body)
    case_id = _case_id(body)
    with d.db.session() as session:
        case = cases.reveal(session, p, case_id=case_id, user_id=user_id)
        _ally_for_reveal(session, case)  # no ally to introduce: the reveal is rolled back
        handle = case.handle
    logger.info("case %s: the requester chose to reveal themselves to the ally", case_id)
    key = cases.reveal_key(case_id)
    try:
        introduce_revealed(client, d, key=key)
        text = f"You revealed yourself to your ally for {handle}."
    except (SlackClientError, OSError) as error:
        logger.info("case %s introduction not sent yet (%s)", case_id, type(error).__name__)
        text = (
            f"You chose to reveal yourself to your ally for {handle}. The introduction could "
            "not be sent just now; it will follow shortly, once."
        )
    container = body.get("container") or {}
    if container.get("type") == "message" and container.get("message_ts"):
        client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            text=text,
            blocks=_notice(text),
        )


def _ally_for_reveal(session: Session, case: AnonymousCase) -> str:
    """The ally the requester is to be introduced to; Conflict if there is none (any more)."""
    match = (
        request_store.match_for(session, request_id=case.ask_request_id)
        if case.ask_request_id is not None
        else None
    )
    if match is None:
        raise Conflict("No ally has been found for this case yet.")
    if match.ally_user_id == FORGOTTEN:
        raise Conflict("Your ally has since left the programme, so nobody can be told.")
    return match.ally_user_id


def on_reveal_due(deps: Deps, client: WebClient, item: Any) -> None:
    """The safety net of an introduction the requester chose (sent once, whoever sends it)."""
    introduce_revealed(client, deps, key=str(item.key))


# The step of a reveal's item that introduces; it records the introduction's ts if one was sent.
_INTRODUCED = "introduction"


def introduce_revealed(client: WebClient, d: Deps, *, key: str) -> None:
    """Introduce the requester to the ally, then tell the volunteer; each step once.

    The volunteer is told only if the introduction was sent (not if the ally left the
    programme, or the case was purged, before it could be).
    """
    with d.db.read() as session:
        item = jobs.find(session, key=key)
        if item is None or item.status in (jobs.DONE, jobs.CANCELLED):
            return
        case_id = int((item.payload or {})["case_id"])

    def introduce(session: Session) -> str | None:
        case = cases.get_case(session, case_id=case_id)
        if case.requester_sealed is None:
            return None  # purged (or forgotten) since: nobody to introduce
        try:
            ally = _ally_for_reveal(session, case)
        except Conflict:
            return None  # the ally left the programme since
        # The one place the requester's ID is shown to someone else: by their own choice.
        requester = cases.requester_of(privacy(d.settings), case)
        conversation = client.conversations_open(users=f"{requester},{ally}")
        answer = client.chat_postMessage(
            channel=conversation["channel"]["id"],
            text="An introduction from the allyship programme.",
            blocks=render_blocks(
                "anonymous/reveal_intro.json.j2",
                requester=requester,
                ally=ally,
                handle=case.handle,
            ),
        )
        return str(answer["ts"])

    def tell_volunteer(session: Session) -> None:
        item = jobs.find(session, key=key)
        if item is None or not isinstance((item.sent or {}).get(_INTRODUCED), str):
            return  # nobody was introduced (the ally left, or the case was purged, since)
        case = cases.get_case(session, case_id=case_id)
        if case.volunteer_id and case.volunteer_id != FORGOTTEN:
            text = f"The person behind {case.handle} chose to introduce themselves to the ally."
            client.chat_postMessage(channel=case.volunteer_id, text=text, blocks=_notice(text))

    jobs.run_once(d.db, key=key, name=_INTRODUCED, send=introduce)
    jobs.run_once(d.db, key=key, name="volunteer", send=tell_volunteer)
    _retire(d, key)


# 6. closing and the purge


def on_close_case_button(
    ack: Ack, body: dict[str, Any], client: WebClient, d: Deps, roster: VolunteerRoster
) -> None:
    """The holding volunteer opens the close modal (outcome, and a pause for misuse)."""
    _open_case_modal(ack, body, client, d, roster, "anonymous/close_modal.json.j2")


def _selected(values: dict[str, Any], block_id: str) -> list[str]:
    element = (values.get(block_id) or {}).get(block_id) or {}
    if element.get("selected_option"):
        return [str(element["selected_option"].get("value"))]
    return [str(o.get("value")) for o in element.get("selected_options") or []]


def on_close_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, d: Deps, roster: VolunteerRoster
) -> None:
    """Close the case once; the requester is told; misuse may pause them (by marker only)."""
    answer: dict[str, Any] = {}
    try:  # whatever fails before the ack, the submission is answered
        view = body["view"]
        values = view.get("state", {}).get("values", {})
        outcome = next(iter(_selected(values, Ids.OUTCOME.value)), "")
        pause = "pause" in _selected(values, Ids.PAUSE.value)
        if outcome not in cases.OUTCOMES:
            answer = {
                "response_action": "errors",
                "errors": {Ids.OUTCOME.value: "Choose how the case ended."},
            }
            return
        if pause and outcome != cases.MISUSE:
            answer = {
                "response_action": "errors",
                "errors": {Ids.PAUSE.value: "Pausing is only for cases closed as misuse."},
            }
            return
    finally:
        ack(**answer)
    case_id = Metadata.parse(view).case
    if case_id is None:
        raise NotFound("This form no longer works.")
    user_id = _user(body)
    _require_volunteer(client, roster, user_id)
    with d.db.session() as session:
        case = cases.close_case(
            session,
            case_id=case_id,
            volunteer_id=user_id,
            outcome=outcome,
            pause=pause,
            retention_days=d.settings.retention_days,
        )
        handle = case.handle
    logger.info("case %s closed (%s)", case_id, outcome)
    refresh_card(client, d, case_id)
    with d.db.session() as session:
        case = cases.get_case(session, case_id=case_id)
        text = f"{handle} was closed by your volunteer. Thank you for reaching out."
        _post_to_requester(client, d, session, case, text=text, blocks=_notice(text))
    done = f"You closed {handle} ({cases.OUTCOMES[outcome]})." + (
        " The person who asked can no longer send anonymous requests." if pause else ""
    )
    client.chat_postMessage(channel=user_id, text=done, blocks=_notice(done))


def on_purge_due(deps: Deps, client: WebClient, item: Any) -> None:
    """Retention: delete the case's text and its link to the requester; counts and outcome stay."""
    payload = getattr(item, "payload", None) or {}
    case_id = int(payload.get("case_id") or str(item.key).rpartition(":")[2])

    with deps.db.session() as session:
        purged = cases.purge_case(session, case_id=case_id)
        ask_id = cases.get_case(session, case_id=case_id).ask_request_id if purged else None
    if not purged:
        return
    logger.info("case %s purged", case_id)
    # The cards in Slack showed the text too: both are redrawn without it. A failure other
    # than a card that is gone raises, so the item is retried (the purge itself is idempotent).
    _redraw_after_purge(case_id, "case card", lambda: refresh_card(client, deps, case_id))
    if ask_id is not None:
        _redraw_after_purge(
            case_id, "ask card", lambda: request_surface.refresh_card(client, deps, ask_id)
        )
        _redraw_after_purge(
            case_id,
            "introduction",
            lambda: request_surface.refresh_intro(client, deps, request_id=ask_id),
        )
    # The requester's replies in the volunteer's DM are blanked by the due item the purge
    # scheduled (cases.RELAYS_PURGE), which retries until they are.


# Slack errors that retrying cannot fix: the message or its channel is gone or closed to us.
_CARD_GONE = frozenset(
    {
        "message_not_found",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "cant_update_message",
        "edit_window_closed",
    }
)


def redraw_or_gone(redraw: Callable[[], object]) -> str | None:
    """Run a card redraw; a card that is gone is not an error (its Slack error is returned)."""
    try:
        redraw()
    except SlackApiError as error:
        if error.response.get("error") not in _CARD_GONE:
            raise
        return str(error.response.get("error"))
    return None


def _redraw_after_purge(case_id: int, what: str, redraw: Callable[[], None]) -> None:
    gone = redraw_or_gone(redraw)
    if gone:
        logger.info("case %s %s not updated after purge (%s)", case_id, what, gone)
