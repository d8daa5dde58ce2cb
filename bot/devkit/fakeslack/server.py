"""A local HTTP server that answers the Slack Web API the way Slack does."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from bot.devkit.fakeslack import api
from bot.devkit.fakeslack.state import Channel, RejectedPayload, User, Workspace
from bot.devkit.fakeslack.validation import ApiError

GENERAL_CHANNEL = "C_GENERAL"


@dataclass
class Call:
    """One request the fake received: Web API method (or "response_url"), arguments, outcome."""

    method: str
    args: dict[str, Any]
    ok: bool
    response: dict[str, Any]
    status: int = 200
    url: str = ""
    at: float = field(default_factory=time.monotonic)

    @property
    def error(self) -> str | None:
        """Return Slack's error code when the call failed."""
        return None if self.ok else str(self.response.get("error"))


@dataclass
class _Fault:
    status: int
    times: int
    retry_after: int
    error: str


@dataclass
class Gate:
    """Holds a method's calls until opened (FakeSlack.gate): `arrived` is set when the first
    call is waiting, so a test can act while a send is under way, on an event, not a delay."""

    method: str
    arrived: threading.Event = field(default_factory=threading.Event)
    _open: threading.Event = field(default_factory=threading.Event)

    def open(self) -> None:
        """Let every held and later call of the method through."""
        self._open.set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, fake: FakeSlack) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class FakeSlack:
    """A faithful, thread-safe fake of the Slack Web API for the real slack_sdk WebClient."""

    # Collectors that FakeSlack.track() installed: each new fake is added to all of them.
    _trackers: ClassVar[list[list[FakeSlack]]] = []

    def __init__(
        self,
        bot_token: str = "xoxb-test",  # noqa: S107 (the fake's own test token)
        team_id: str = "T0001",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        *,
        trigger_ttl: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._ws = Workspace(
            team_id=team_id,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            clock=clock,
            trigger_ttl=trigger_ttl,
        )
        self._calls: list[Call] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, float] = {}
        self._gates: dict[str, Gate] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.add_user(bot_user_id, "allybot", real_name="Allybot", is_bot=True)
        self._ws.users[bot_user_id].bot_id = bot_id
        self.add_channel(GENERAL_CHANNEL, "general", members=[bot_user_id])
        for tracker in FakeSlack._trackers:
            tracker.append(self)

    @classmethod
    @contextmanager
    def track(cls) -> Iterator[list[FakeSlack]]:
        """Collect every fake created inside the with block (for checks at test teardown)."""
        fakes: list[FakeSlack] = []
        cls._trackers.append(fakes)
        try:
            yield fakes
        finally:
            cls._trackers.remove(fakes)

    # refused payloads

    @property
    def rejected_payloads(self) -> list[RejectedPayload]:
        """Every Block Kit violation the fake refused so far, not yet acknowledged."""
        with self._lock:
            return list(self._ws.rejected)

    def acknowledge_rejected_payloads(self) -> list[RejectedPayload]:
        """Return and forget the refusals so far: for tests that send bad payloads on purpose."""
        with self._lock:
            rejected, self._ws.rejected = self._ws.rejected, []
            return rejected

    def assert_no_rejected_payloads(self) -> None:
        """Raise AssertionError naming each refused payload's method, path and limit."""
        rejected = self.rejected_payloads
        if rejected:
            lines = "\n".join(f"  {r}" for r in rejected)
            raise AssertionError(
                f"the fake Slack refused {len(rejected)} payload violation(s), as Slack "
                f"would:\n{lines}"
            )

    # lifecycle

    def start(self) -> FakeSlack:
        """Serve on 127.0.0.1 with a free port in a daemon thread."""
        if self._server is None:
            self._server = _Server(self)
            self._ws.public_url = self.url
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fakeslack",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
            self._thread = None

    def __enter__(self) -> FakeSlack:
        """Start on entering a with block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving a with block."""
        self.stop()

    @property
    def url(self) -> str:
        """Return the server's root URL, ending with a slash."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def api_url(self) -> str:
        """Return the Web API base URL to give WebClient(base_url=...)."""
        return self.url + "api/"

    # seeding the workspace

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        display_name: str | None = None,
        email: str | None = None,
        is_bot: bool = False,
        is_admin: bool = False,
        tz: str = "Europe/London",
    ) -> None:
        """Add a workspace member; people also join #general, as in Slack."""
        with self._lock:
            self._ws.users[user_id] = User(
                id=user_id,
                name=name,
                real_name=real_name if real_name is not None else name,
                display_name=display_name if display_name is not None else name,
                email=email,
                is_bot=is_bot,
                is_admin=is_admin,
                tz=tz,
                team_id=self.team_id,
            )
            general = self._ws.channels.get(GENERAL_CHANNEL)
            if general is not None and not is_bot and user_id not in general.members:
                general.members.append(user_id)

    def add_channel(
        self, channel_id: str, name: str, is_private: bool = False, members: Iterable[str] = ()
    ) -> None:
        """Add a channel; a private one is visible to the app only if the bot is a member."""
        with self._lock:
            self._ws.channels[channel_id] = Channel(
                id=channel_id, name=name, is_private=is_private, members=list(members)
            )

    def set_members(self, channel_id: str, members: Iterable[str]) -> None:
        """Replace a channel's member list."""
        with self._lock:
            self._ws.channels[channel_id].members = list(members)
            self._changed.notify_all()

    @property
    def team_domain(self) -> str:
        """Return the workspace's domain as payloads carry it."""
        return self._ws.team_domain

    def user_name(self, user_id: str) -> str | None:
        """Return a person's handle, or None if unknown."""
        with self._lock:
            user = self._ws.users.get(user_id)
            return user.name if user else None

    def channel_name(self, channel_id: str) -> str | None:
        """Return a conversation's name as payloads show it ("directmessage" for IMs)."""
        with self._lock:
            channel = self._ws.channels.get(channel_id)
            if channel is None:
                return None
            return "directmessage" if channel.is_im else channel.name

    def im_channel(self, user_id: str) -> str:
        """Return the id of the bot's IM with a user, opening it if needed."""
        with self._lock:
            return self._ws.open_im(user_id).id

    def add_user_message(
        self,
        channel: str,
        user_id: str,
        text: str,
        *,
        thread_ts: str | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Store a message a person wrote (as the events about it assume) and return it."""
        with self._lock:
            content: dict[str, Any] = {"user": user_id, "text": text, "team": self.team_id}
            if thread_ts is not None:
                content["thread_ts"] = thread_ts
            if files:
                content["files"] = files
            message = self._ws.store_message(self._ws.channels[channel], content)
            self._changed.notify_all()
            return copy.deepcopy(message)

    def add_reaction(self, channel: str, ts: str, name: str, user_id: str) -> None:
        """Record that a person reacted to a message."""
        with self._lock:
            api.add_reaction(self._ws.find_message(channel, ts), name, user_id)

    def remove_reaction(self, channel: str, ts: str, name: str, user_id: str) -> None:
        """Record that a person removed their reaction from a message."""
        with self._lock:
            api.remove_reaction(self._ws.find_message(channel, ts), name, user_id)

    # what the app did

    @property
    def calls(self) -> list[Call]:
        """Return every call received so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """Return the calls made to one method."""
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def reset_calls(self) -> None:
        """Forget the calls received so far (the workspace state stays)."""
        with self._lock:
            self._calls.clear()

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 15.0,
        predicate: Callable[[Call], bool] | None = None,
        *,
        ok: bool | None = True,
    ) -> list[Call]:
        """Block until `count` matching calls exist (successful ones unless ok=None/False)."""
        deadline = time.monotonic() + timeout

        def matching() -> list[Call]:
            return [
                c
                for c in self._calls
                if c.method == method
                and (ok is None or c.ok == ok)
                and (predicate is None or predicate(c))
            ]

        with self._changed:
            while True:
                found = matching()
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    break
                self._changed.wait(remaining)
            if len(found) >= count:
                return found
            listing = "\n".join(_describe(c) for c in self._calls) or "  (no calls)"
        raise AssertionError(
            f"expected {count} matching call(s) to {method} within {timeout}s, "
            f"found {len(found)}; calls received:\n{listing}"
        )

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Return the messages in a conversation (replies included), oldest first."""
        with self._lock:
            return copy.deepcopy(self._ws.messages.get(channel, []))

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """Return one stored message."""
        with self._lock:
            return copy.deepcopy(self._ws.find_message(channel, ts))

    def replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Return the replies in one thread, oldest first."""
        return [
            m
            for m in self.messages(channel)
            if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts
        ]

    def dm_messages(self, user_id: str) -> list[dict[str, Any]]:
        """Return the messages in the bot's IM with a person."""
        with self._lock:
            im = next(
                (c for c in self._ws.channels.values() if c.is_im and c.user == user_id), None
            )
            return copy.deepcopy(self._ws.messages.get(im.id, [])) if im else []

    def ephemerals(self, user_id: str) -> list[dict[str, Any]]:
        """Return the ephemeral messages a person was shown, oldest first."""
        with self._lock:
            return [copy.deepcopy(e) for e in self._ws.ephemerals if e["user"] == user_id]

    def view(self, view_id: str) -> dict[str, Any]:
        """Return a stored view by id."""
        with self._lock:
            return copy.deepcopy(self._ws.find_view(view_id, None))

    def open_views(self, user_id: str | None) -> list[dict[str, Any]]:
        """Return a person's open modal stack, bottom first."""
        with self._lock:
            return self._ws.open_views(user_id)

    def current_view(self, user_id: str | None) -> dict[str, Any] | None:
        """Return the modal on top of a person's stack, if any."""
        stack = self.open_views(user_id)
        return stack[-1] if stack else None

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """Return a person's published App Home view, if any."""
        with self._lock:
            view_id = self._ws.home_views.get(user_id)
            return copy.deepcopy(self._ws.views[view_id]) if view_id else None

    def uploaded_file(self, file_id: str) -> tuple[dict[str, Any], bytes | None]:
        """Return a file's Slack object and its uploaded bytes."""
        with self._lock:
            file = self._ws.files[file_id]
            return file.to_api(), file.content

    def uploaded_files(self) -> list[dict[str, Any]]:
        """Return every announced file's Slack object."""
        with self._lock:
            return [f.to_api() for f in self._ws.files.values()]

    # issuing what Slack gives the app in payloads

    def new_trigger_id(self, user_id: str | None = None, *, view_id: str | None = None) -> str:
        """Issue a trigger_id that views.open/views.push accept once within trigger_ttl."""
        with self._lock:
            return self._ws.issue_trigger(user_id, view_id)

    def new_response_url(
        self,
        *,
        user_id: str | None = None,
        channel_id: str | None = None,
        message_ts: str | None = None,
    ) -> str:
        """Issue a response_url that takes up to 5 posts within 30 minutes."""
        with self._lock:
            url_id = self._ws.issue_response_url(
                user_id=user_id, channel_id=channel_id, message_ts=message_ts
            )
        return f"{self.url}response/{url_id}"

    def apply_view_response(
        self, user_id: str, view_id: str, response: dict[str, Any] | None
    ) -> Call:
        """Apply an app's answer to a view submission and record it as "response_action"."""
        with self._lock:
            try:
                result = api.apply_view_response(self._ws, user_id, view_id, response)
                call = Call("response_action", response or {}, True, result)
            except ApiError as exc:
                self._ws.reject("response_action", exc)
                call = Call("response_action", response or {}, False, exc.body())
            self._record(call)
            return call

    # fault injection

    def fail_next(
        self,
        method: str,
        status: int = 429,
        times: int = 1,
        retry_after: int = 1,
        error: str = "ratelimited",
    ) -> None:
        """Queue a fault: the next `times` calls of a method fail with 429 (Retry-After) or 500."""
        with self._lock:
            self._faults.setdefault(method, []).append(_Fault(status, times, retry_after, error))

    def delay(self, method: str, seconds: float) -> None:
        """Make a method answer only after `seconds` (0 removes the delay)."""
        with self._lock:
            if seconds > 0:
                self._delays[method] = seconds
            else:
                self._delays.pop(method, None)

    def gate(self, method: str) -> Gate:
        """Hold the method's calls until the returned gate is opened (at most 30 s)."""
        with self._lock:
            self._gates[method] = Gate(method)
            return self._gates[method]

    # request handling (called from server threads)

    def _record(self, call: Call) -> None:
        self._calls.append(call)
        self._changed.notify_all()

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        return fault

    def _handle(
        self, kind: str, name: str, args: dict[str, Any], auth: str | None, url: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer one request: returns HTTP status, JSON body and extra headers."""
        label = name if kind == "api" else kind
        delay = self._delays.get(label, 0.0)
        if delay:
            time.sleep(delay)
        gate = self._gates.get(label)
        if gate is not None:
            gate.arrived.set()
            gate._open.wait(30)
        with self._lock:
            status, body, headers = self._answer(kind, name, args, auth)
            self._record(Call(label, args, bool(body.get("ok")), body, status=status, url=url))
            return status, body, headers

    def _answer(
        self, kind: str, name: str, args: dict[str, Any], auth: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        label = name if kind == "api" else kind
        if kind == "api" and name not in api.METHODS:
            return 404, {"ok": False, "error": "unknown_method"}, {}
        fault = self._take_fault(label)
        if fault is not None:
            if fault.status == 429:
                return (
                    429,
                    {"ok": False, "error": fault.error},
                    {"Retry-After": str(fault.retry_after)},
                )
            error = "internal_error" if fault.status >= 500 else fault.error
            return fault.status, {"ok": False, "error": error}, {}
        try:
            if kind == "response_url":
                return 200, api.respond(self._ws, name, args), {}
            token = auth or args.get("token")
            if not token:
                raise ApiError("not_authed")
            if token != self.bot_token:
                raise ApiError("invalid_auth")
            return 200, {"ok": True, **api.METHODS[name](self._ws, args)}, {}
        except ApiError as exc:
            self._ws.reject(label, exc)
            return exc.status, exc.body(), {}

    def _upload(self, file_id: str, data: bytes) -> tuple[int, str]:
        with self._lock:
            file = self._ws.files.get(file_id)
            if file is None:
                status, text = 404, "not_found"
            else:
                file.content = data
                status, text = 200, f"OK - {len(data)}"
            self._record(
                Call("upload", {"file_id": file_id, "size": len(data)}, status == 200, {}, status)
            )
            return status, text


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        """Answer GET calls with query-string arguments (Slack accepts them)."""
        self._dispatch(b"")

    def do_POST(self) -> None:
        """Answer POST calls with JSON or form bodies."""
        length = int(self.headers.get("Content-Length") or 0)
        self._dispatch(self.rfile.read(length) if length else b"")

    def _dispatch(self, raw: bytes) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        path = parts.path
        if path.startswith("/upload/") and self.command == "POST":
            status, text = fake._upload(path.removeprefix("/upload/"), raw)
            self._send(status, text.encode(), "text/plain; charset=utf-8")
            return
        if path.startswith("/api/"):
            kind, name = "api", path.removeprefix("/api/")
        elif path.startswith("/response/") and self.command == "POST":
            kind, name = "response_url", path.removeprefix("/response/")
        else:
            self._send(404, b"not found", "text/plain; charset=utf-8")
            return
        try:
            args = self._parse_args(raw, parts.query)
        except ValueError:
            self._send_json(400, {"ok": False, "error": "invalid_json"}, {})
            return
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        status, body, headers = fake._handle(kind, name, args, token, fake.url + path[1:])
        if kind == "response_url":
            text = "ok" if body.get("ok") else str(body.get("error"))
            self._send(status, text.encode(), "text/plain; charset=utf-8")
        else:
            self._send_json(status, body, headers)

    def _parse_args(self, raw: bytes, query: str) -> dict[str, Any]:
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        content_type = self.headers.get("Content-Type", "")
        text = raw.decode("utf-8")
        if "application/json" in content_type:
            decoded = json.loads(text) if text else {}
            if not isinstance(decoded, dict):
                raise ValueError("JSON body must be an object")
            args.update(decoded)
        elif text:
            args.update(parse_qsl(text, keep_blank_values=True))
        return args

    def _send_json(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

    def _send(
        self,
        status: int,
        payload: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)


def _describe(call: Call) -> str:
    outcome = "ok" if call.ok else f"FAILED {call.response.get('error')} ({call.status})"
    details = call.response.get("response_metadata", {}).get("messages")
    args = json.dumps(call.args, default=str)
    if len(args) > 300:
        args = args[:300] + "..."
    line = f"  {call.method} {outcome}: {args}"
    return line + (f"\n    {details}" if details else "")
