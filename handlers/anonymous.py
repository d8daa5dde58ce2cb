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
  (conversations.members, cached at most 60 s), holding the case, being the requester.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlmodel import Session

from bot import cases
from bot.deps import Deps, deps, with_deps
from bot.errors import Conflict, NotAllowed, NotFound
from bot.privacy import Identity, identity_from_user, privacy, redact
from bot.slack import PRE_ACK_WAIT
from bot.volunteers import VolunteerRoster
from handlers.commands import Routes
from messages.render import render, render_blocks
from storage import requests as request_store
from storage.models.cases import AnonymousCase
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
    app.event("message", matchers=[is_requester_message])(on_requester_message)
    routes.due[cases.PURGE] = on_purge_due
    routes.due[cases.CARD] = on_case_card_due


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
    from bot.requests import ANONYMOUS, RequestForm
    from handlers.requests import request_modal

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
    client.views_update(view_id=view["id"], view=request_modal(d, prefill))
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
    that fails the sweep posts it (cases.CARD) and the requester is told it is queued.
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
    identity = _identity(client, user_id)
    with d.db.session() as session:
        draft = cases.take_draft(session, p, token=token, user_id=user_id)
        if draft is None:
            return  # a second submission of the same preview
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
        case = cases.take_case(session, case_id=case_id, volunteer_id=user_id)
        handle = case.handle
    logger.info("case %s taken", case_id)
    refresh_card(client, d, case_id)
    with d.db.session() as session:
        case = cases.get_case(session, case_id=case_id)
        text = f"A volunteer has taken {handle}. They will write to you in this thread."
        _post_to_requester(client, d, session, case, text=text, blocks=_notice(text))


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


def is_requester_message(body: dict[str, Any], context: Any) -> bool:
    """A person's own message in their DM with the bot, about (or near) an anonymous case."""
    event = body.get("event") or {}
    if event.get("type") != "message" or event.get("channel_type") != "im":
        return False
    if event.get("bot_id") or event.get("subtype") not in (None, "file_share"):
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

    The event is claimed in the unit of work that sends: it commits only after the sends
    succeeded, so Slack's retry redoes a failed relay and never repeats a successful one.
    """
    d = deps(context)
    p = privacy(d.settings)
    user_id, channel = str(event["user"]), str(event["channel"])
    thread_ts = event.get("thread_ts")
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
            text = (
                "To talk to the volunteer about your anonymous request, reply in the thread "
                f"under the message about {', '.join(handles[:3])}."
            )
            client.chat_postMessage(channel=channel, text=text, blocks=_notice(text))
            return
        files = bool(event.get("files"))
        if files:
            text = (
                "Files and images are never passed on in an anonymous case: they can carry your "
                "name or other details about you. Please describe what matters in words."
            )
            _post_to_requester(client, d, session, case, text=text, blocks=_notice(text))
        if case.status == cases.OPEN:
            text = (
                "No volunteer has taken your case yet, so nobody can read this. We will tell "
                "you here as soon as one does; please write again then."
            )
            _post_to_requester(client, d, session, case, text=text, blocks=_notice(text))
            return
        if case.status == cases.CLOSED:
            text = f"{case.handle} is closed. To ask again, use `/ally`."
            _post_to_requester(client, d, session, case, text=text, blocks=_notice(text))
            return
        words = str(event.get("text") or "").strip()
        if not words:
            return
        handle, volunteer, case_id = case.handle, case.volunteer_id, case.id
        shown = redact(words, _identity(client, user_id))
        assert volunteer is not None
        client.chat_postMessage(
            channel=volunteer,
            text=f"{handle} replied.",
            blocks=render_blocks(
                "anonymous/to_volunteer.json.j2",
                handle=handle,
                text=shown,
                files_dropped=files,
                case_id=case_id,
            ),
        )


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
        case = cases.case_for_request(session, request_id=request_id)
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
    from handlers.requests import post_card

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
    if not post_card(client, d, request_id):
        raise Conflict(f"An ask for {handle} is already in the allies channel.")
    refresh_card(client, d, case_id)
    text = (
        f"An ask for {handle} is in the allies channel. Offers come to you by DM; the ally you "
        "choose is introduced to you, never to the person who asked."
    )
    client.chat_postMessage(channel=user_id, text=text, blocks=_notice(text))


def _new_ask(session: Session, case: AnonymousCase, *, chooser_id: str) -> int:
    """Create the case's ask (on behalf of its handle) and link it to the case, once."""
    from bot import requests as request_rules

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
        case = cases.case_for_request(session, request_id=match.request_id)
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
    """The requester (only) confirmed "Reveal me to my ally": introduce them once, recorded."""
    ack()
    d = deps(context)
    p = privacy(d.settings)
    user_id = _user(body)
    case_id = _case_id(body)
    with d.db.session() as session:
        # The reveal is recorded in the unit of work that sends it: it happens once, or not.
        case = cases.reveal(session, p, case_id=case_id, user_id=user_id)
        match = (
            request_store.match_for(session, request_id=case.ask_request_id)
            if case.ask_request_id is not None
            else None
        )
        if match is None:
            raise Conflict("No ally has been found for this case yet.")
        if match.ally_user_id == FORGOTTEN:
            raise Conflict("Your ally has since left the programme, so nobody can be told.")
        conversation = client.conversations_open(users=f"{user_id},{match.ally_user_id}")
        client.chat_postMessage(
            channel=conversation["channel"]["id"],
            text="An introduction from the allyship programme.",
            blocks=render_blocks(
                "anonymous/reveal_intro.json.j2",
                requester=user_id,
                ally=match.ally_user_id,
                handle=case.handle,
            ),
        )
        handle, volunteer = case.handle, case.volunteer_id
    logger.info("case %s: the requester revealed themselves to the ally", case_id)
    container = body.get("container") or {}
    if container.get("type") == "message" and container.get("message_ts"):
        text = f"You revealed yourself to your ally for {handle}."
        client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            text=text,
            blocks=_notice(text),
        )
    if volunteer and volunteer != FORGOTTEN:
        text = f"The person behind {handle} chose to introduce themselves to the ally."
        client.chat_postMessage(channel=volunteer, text=text, blocks=_notice(text))


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
    from handlers.requests import refresh_card as refresh_ask_card
    from handlers.requests import refresh_intro

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
        _redraw_after_purge(case_id, "ask card", lambda: refresh_ask_card(client, deps, ask_id))
        _redraw_after_purge(
            case_id, "introduction", lambda: refresh_intro(client, deps, request_id=ask_id)
        )


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


def redraw_or_gone(redraw: Callable[[], None]) -> str | None:
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
