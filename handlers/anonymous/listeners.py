"""Registration of every anonymous-request listener and due-item handler."""

from __future__ import annotations

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
from handlers.anonymous.inputs import case_in_button, case_in_view
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
from handlers.common.listeners import Listeners
from handlers.common.permissions import (
    ANYONE,
    case_holder,
    case_requester,
    volunteers,
)


def register(on: Listeners, routes: Routes) -> None:
    """Register the preview, case buttons, relay, reveal, close and the purge."""
    # The draft's own requester: its token is checked against them by the rules.
    on.view(Ids.PREVIEW, allow=ANYONE)(on_preview_submitted)
    on.view_closed(Ids.PREVIEW, allow=ANYONE)(on_preview_closed)
    on.action(Ids.EDIT, allow=ANYONE)(on_edit_button)
    on.action(Ids.SEND_AGAIN, allow=ANYONE)(on_send_again_button)
    # The case card, in the volunteers channel.
    on.action(Ids.TAKE, allow=volunteers())(on_take_case_button)
    holder_opens = case_holder(case_in_button, before_ack=True)  # nobody sees a form not theirs
    on.action(Ids.MESSAGE, allow=holder_opens)(on_message_requester_button)
    on.action(Ids.CLOSE, allow=holder_opens)(on_close_case_button)
    on.view(Ids.RELAY_VIEW, allow=case_holder(case_in_view))(on_relay_submitted)
    on.view(Ids.CLOSE_VIEW, allow=case_holder(case_in_view))(on_close_submitted)
    on.action(Ids.FIND_ALLY, allow=case_holder(case_in_button))(on_find_ally_button)
    # The requester's DM thread.
    on.action(Ids.REVEAL, allow=case_requester(case_in_button))(on_reveal_button)
    on.event("message", allow=ANYONE, matchers=[is_requester_message])(on_requester_message)
    on.event("message", allow=ANYONE, matchers=[is_requester_edit])(on_requester_edit)
    routes.due[cases.PURGE] = on_purge_due
    routes.due[cases.CARD] = on_case_card_due
    routes.due[relays.RELAY] = on_relay_due
    routes.due[relays.RELAYS_PURGE] = on_relays_purge_due
    routes.due[cases.RELEASED] = on_case_released_due
    routes.due[cases.REVEAL] = on_reveal_due
    routes.due[drafts.DRAFT_EXPIRY] = on_draft_expiry_due
