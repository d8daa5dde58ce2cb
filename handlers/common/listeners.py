"""The registrar: every listener is registered here, with its permission, deps and payload.

    on = Listeners(app)
    on.action(Ids.TAKE, allow=volunteers())(on_take_case_button)

Each registration says who may use the listener (handlers.common.permissions; `ANYONE` is a
declaration too, and `allow` has no default). What the listener gets, by name as Bolt does:
- whatever Bolt injects (`ack`, `client`, `respond`, `event`...), and `deps`, which the app's
  middleware put in Bolt's context (Bolt injects context entries by name);
- `payload`: the request's body read through handlers.common.payload.Payload (in place of
  Bolt's raw `payload`), so listeners never index the body by hand.

Around each listener is the guard: an exception (a rule's refusal or a bug) never reaches
Bolt's runner, which on an exception raised after ack() resets the ack it may not have sent
yet (it polls every 10 ms), so Slack would see no answer. The guard acks if the listener did
not, then tells the person: a refusal as it is, anything else with a reference to the log.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_bolt import App
from slack_sdk import WebClient

from bot.rules.errors import UserFacingError
from handlers.common.payload import Payload
from handlers.common.permissions import Asking, Permission, Refusal
from handlers.common.replies import tell_privately

logger = logging.getLogger(__name__)

Listener = TypeVar("Listener", bound=Callable[..., Any])
# What the registrar itself asks Bolt for, on top of what the listener asks for.
_OWN_ARGS = ("ack", "body", "client", "deps")


@dataclass(frozen=True)
class Registration:
    """One listener as registered: for the contract tests and for people reading."""

    kind: str
    constraint: str
    permission: Permission
    listener: str


class Listeners:
    """Registers listeners on a Bolt app, each with a declared permission and the guard."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.registered: list[Registration] = []

    def action(self, constraints: Any, *, allow: Permission, **kwargs: Any) -> Callable[..., Any]:
        """A button, select or other block action."""
        return self._register("action", constraints, allow, kwargs)

    def view(self, constraints: Any, *, allow: Permission, **kwargs: Any) -> Callable[..., Any]:
        """A modal's submission."""
        return self._register("view", constraints, allow, kwargs)

    def view_closed(
        self, constraints: Any, *, allow: Permission, **kwargs: Any
    ) -> Callable[..., Any]:
        """A modal closed with its X."""
        return self._register("view_closed", constraints, allow, kwargs)

    def shortcut(self, constraints: Any, *, allow: Permission, **kwargs: Any) -> Callable[..., Any]:
        """A global or message shortcut."""
        return self._register("shortcut", constraints, allow, kwargs)

    def command(self, command: str, *, allow: Permission, **kwargs: Any) -> Callable[..., Any]:
        """A slash command."""
        return self._register("command", command, allow, kwargs)

    def event(self, event: Any, *, allow: Permission, **kwargs: Any) -> Callable[..., Any]:
        """An Events API event (Bolt acks events itself)."""
        return self._register("event", event, allow, kwargs)

    def _register(
        self, kind: str, constraints: Any, allow: Permission, kwargs: dict[str, Any]
    ) -> Callable[[Listener], Listener]:
        register = getattr(self.app, kind)
        key = str(constraints) if isinstance(constraints, str) else constraints

        def decorate(listener: Listener) -> Listener:
            self.registered.append(
                Registration(kind, str(key), allow, getattr(listener, "__name__", "listener"))
            )
            register(key, **kwargs)(_guarded(listener, allow))
            return listener

        return decorate


class Refused(Exception):
    """A permission checked at the listener's ack refused: the listener stops there.

    Not a UserFacingError, so that no listener's `except UserFacingError` can swallow it.
    """

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.text)
        self.refusal = refusal


class _CheckedAck:
    """The listener's ack, which checks the permission just after acknowledging.

    An answer with form errors is not the go-ahead: the person stays in the modal, and the
    check waits for an ack that is.
    """

    def __init__(self, ack: Any, permission: Permission, asking: Asking) -> None:
        self._ack = ack
        self._permission = permission
        self._asking = asking
        self.checked = False

    @property
    def response(self) -> Any:
        return getattr(self._ack, "response", None)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        answer = self._ack(*args, **kwargs)
        if not self.checked and kwargs.get("response_action") != "errors":
            self.checked = True
            refusal = self._permission.refusal(self._asking)
            if refusal is not None:
                raise Refused(refusal)
        return answer


def _guarded(listener: Callable[..., Any], permission: Permission) -> Callable[..., Any]:
    wanted = list(inspect.signature(listener).parameters)
    name = getattr(listener, "__name__", "listener")
    if not permission.before_ack and "ack" not in wanted:
        raise TypeError(f"{name}: a permission checked at the ack needs a listener that acks")

    def guarded_listener(**kwargs: Any) -> Any:
        ack = kwargs.get("ack")
        payload = Payload.of(kwargs.get("body"))
        client: WebClient = kwargs["client"]
        asking = Asking(payload, kwargs["deps"], client)
        given = {**kwargs, "payload": payload}
        gate: _CheckedAck | None = None
        try:
            if permission.before_ack:
                refusal = permission.refusal(asking)
                if refusal is not None:
                    _refuse(ack, asking, refusal)
                    return None
            else:
                gate = given["ack"] = _CheckedAck(ack, permission, asking)
            result = listener(**{name: given[name] for name in wanted if name in given})
            if gate is not None and not gate.checked:
                # A listener declared with a permission checked at its ack must ack first.
                logger.error("%s never acked: its permission was not checked", name)
            return result
        except Refused as refused:
            _refuse(ack, asking, refused.refusal)
        except Exception as error:
            if ack is not None and getattr(ack, "response", None) is None:
                ack()
            report_error(error, payload, client)
        return None

    # Bolt injects arguments by name (it reads __signature__): the listener's, and ours.
    names = dict.fromkeys([*(n for n in wanted if n != "payload"), *_OWN_ARGS])
    guarded_listener.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    )
    guarded_listener.__name__ = name
    guarded_listener.__doc__ = listener.__doc__
    guarded_listener.permission = permission  # type: ignore[attr-defined]
    return guarded_listener


def _refuse(ack: Any, asking: Asking, refusal: Refusal) -> None:
    """Answer a refusal: in the modal (a submission with a field), else ack and tell privately."""
    payload = asking.payload
    if ack is not None and getattr(ack, "response", None) is None:
        if refusal.field and payload.kind == "view_submission":
            ack(response_action="errors", errors={refusal.field: refusal.text})
            return
        ack()
    user_id = payload.user_id_or_none
    if not user_id:
        return
    try:
        tell_privately(
            asking.client,
            user_id=user_id,
            text=refusal.text,
            blocks=refusal.blocks,
            channel_id=payload.channel_id,
            response_url=payload.response_url,
        )
    except Exception:  # the person could not be told; the log has the reason
        logger.exception("could not tell the user about a refusal")


def report_error(error: Exception, payload: Payload, client: WebClient) -> None:
    """Tell the person what went wrong: a refusal as it is, anything else with a reference."""
    if isinstance(error, UserFacingError):
        text = error.message
    else:
        reference = uuid.uuid4().hex[:8]
        # The exception only, never the payload: it may hold an anonymous request's text.
        logger.error(
            "unexpected error %s in %s", reference, payload.kind or "command", exc_info=error
        )
        text = f"Something went wrong on our side (reference `{reference}`). Please try again."
    user_id = payload.user_id_or_none
    if not user_id:
        return
    try:
        tell_privately(
            client,
            user_id=user_id,
            text=text,
            channel_id=payload.channel_id,
            response_url=payload.response_url,
        )
    except Exception:  # the person could not be told; the log has the reason
        logger.exception("could not tell the user about an error")
