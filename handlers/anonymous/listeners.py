"""Registration of every anonymous-request listener and due-item handler."""

from __future__ import annotations

from slack_bolt import App

from bot.rules.anonymous import cases, drafts, relays
from handlers.anonymous.asking import (
    on_case_card_due,
    on_draft_expiry_due,
    on_edit_button,
    on_preview_closed,
    on_preview_submitted,
    on_send_again_button,
)
from handlers.anonymous.cases import (
    on_close_case_button,
    on_close_submitted,
    on_find_ally_button,
    on_purge_due,
    on_reveal_button,
    on_reveal_due,
    on_take_case_button,
)
from handlers.anonymous.ids import Ids
from handlers.anonymous.relay import (
    is_requester_edit,
    is_requester_message,
    on_message_requester_button,
    on_relay_submitted,
    on_requester_edit,
    on_requester_message,
)
from handlers.anonymous.relay_sync import on_case_released_due, on_relay_due, on_relays_purge_due
from handlers.common.commands import Routes
from handlers.common.deps import with_deps


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
    routes.due[relays.RELAY] = on_relay_due
    routes.due[relays.RELAYS_PURGE] = on_relays_purge_due
    routes.due[cases.RELEASED] = on_case_released_due
    routes.due[cases.REVEAL] = on_reveal_due
    routes.due[drafts.DRAFT_EXPIRY] = on_draft_expiry_due
