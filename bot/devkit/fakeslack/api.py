"""Web API methods of the fake Slack: Slack's arguments, response shapes and errors."""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Callable
from typing import Any

from bot.devkit.fakeslack.state import (
    RESPONSE_URL_MAX_POSTS,
    RESPONSE_URL_TTL,
    Channel,
    UploadedFile,
    Workspace,
)
from bot.devkit.fakeslack.validation import (
    MAX_MESSAGE_TEXT,
    ApiError,
    check_message_blocks,
    check_view,
    decode_json_arg,
    fill_generated_ids,
    parse_blocks,
)

Args = dict[str, Any]
Method = Callable[[Workspace, Args], dict[str, Any]]

METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Method], Method]:
    """Register a function as the fake's implementation of one Web API method."""

    def register(func: Method) -> Method:
        METHODS[name] = func
        return func

    return register


# argument helpers


def required(args: Args, *names: str) -> None:
    """Fail with invalid_arguments when a required argument is missing or empty."""
    missing = [n for n in names if args.get(n) in (None, "")]
    if missing:
        raise ApiError(
            "invalid_arguments", [f"[ERROR] missing required field: {n}" for n in missing]
        )


def as_bool(value: Any) -> bool:
    """Read a boolean argument the way Slack does (true, 1)."""
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def as_list(value: Any) -> list[str]:
    """Read a list argument given as a JSON array, a list or a comma-separated string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        if value.startswith("["):
            decoded = decode_json_arg(value, error="invalid_arguments")
            return [str(v) for v in decoded]
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return [str(v) for v in value]
    raise ApiError("invalid_arguments", ["[ERROR] expected a list"])


def paginate(items: list[Any], args: Args) -> tuple[list[Any], str]:
    """Return one page of items and the next cursor, honouring limit and cursor."""
    offset = 0
    cursor = args.get("cursor")
    if cursor:
        try:
            kind, _, number = base64.b64decode(str(cursor)).decode().partition(":")
            offset = int(number)
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise ApiError("invalid_cursor") from exc
        if kind != "offset" or offset < 0:
            raise ApiError("invalid_cursor")
    limit_arg = args.get("limit")
    try:
        limit = int(limit_arg) if limit_arg not in (None, "", 0, "0") else len(items)
    except (TypeError, ValueError) as exc:
        raise ApiError("invalid_limit") from exc
    limit = max(1, min(limit, 1000))
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    next_cursor = base64.b64encode(f"offset:{offset + limit}".encode()).decode() if more else ""
    return page, next_cursor


def message_content(
    args: Args, *, require: bool = True, needs_fallback: bool = False
) -> dict[str, Any]:
    """Read and validate text, blocks and attachments of a message.

    With `needs_fallback` (chat.postMessage, chat.postEphemeral, chat.update), blocks
    without a non-empty `text` are refused: Slack only warns, allybot never omits it.
    """
    content: dict[str, Any] = {}
    text = args.get("text")
    if text is not None:
        content["text"] = str(text)
        if len(content["text"]) > MAX_MESSAGE_TEXT:
            raise ApiError("msg_too_long")
    if args.get("blocks") not in (None, ""):
        blocks = parse_blocks(args["blocks"])
        check_message_blocks(blocks, text=text, needs_fallback=needs_fallback)
        content["blocks"] = fill_generated_ids(blocks)
    if args.get("attachments") not in (None, ""):
        attachments = decode_json_arg(args["attachments"], error="invalid_attachments")
        if not isinstance(attachments, list):
            raise ApiError("invalid_attachments")
        content["attachments"] = attachments
    if require and not (content.get("text") or content.get("blocks") or content.get("attachments")):
        raise ApiError("no_text")
    return content


def view_arg(args: Args, *, allowed_types: tuple[str, ...]) -> dict[str, Any]:
    """Read and validate the view argument."""
    required(args, "view")
    view = decode_json_arg(args["view"], error="invalid_arguments")
    if not isinstance(view, dict):
        raise ApiError("invalid_arguments", ["[ERROR] view must be an object"])
    check_view(view, allowed_types=allowed_types)
    return view


def _message_out(message: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(message)
    out.pop("channel", None)
    return out


# auth


@method("auth.test")
def auth_test(ws: Workspace, args: Args) -> dict[str, Any]:
    """Describe the token's identity."""
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": "Allybot Demo",
        "user": ws.users[ws.bot_user_id].name if ws.bot_user_id in ws.users else "allybot",
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


@method("api.test")
def api_test(ws: Workspace, args: Args) -> dict[str, Any]:
    """Echo the arguments."""
    return {"args": {k: v for k, v in args.items() if k != "token"}}


# chat


@method("chat.postMessage")
def chat_post_message(ws: Workspace, args: Args) -> dict[str, Any]:
    """Post a message to a conversation or, given a user id, to their DM."""
    if args.get("channel") in (None, ""):
        raise ApiError("channel_not_found")
    channel = ws.post_target(args["channel"])
    content = message_content(args, needs_fallback=True)
    thread_ts = args.get("thread_ts")
    if thread_ts:
        content["thread_ts"] = str(thread_ts)
        parent = next((m for m in ws.messages.get(channel.id, []) if m["ts"] == thread_ts), None)
        if parent is not None:
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent.setdefault("thread_ts", parent["ts"])
    if args.get("metadata") not in (None, ""):
        content["metadata"] = decode_json_arg(args["metadata"], error="invalid_metadata_format")
    message = ws.bot_message(channel, content)
    return {"channel": channel.id, "ts": message["ts"], "message": _message_out(message)}


@method("chat.update")
def chat_update(ws: Workspace, args: Args) -> dict[str, Any]:
    """Replace a bot message's text and blocks; blocks not given are kept, as Slack does."""
    required(args, "ts")
    channel = ws.channel(args.get("channel"))
    message = ws.find_message(channel.id, args["ts"])
    if message.get("bot_id") != ws.bot_id:
        raise ApiError("cant_update_message")
    content = message_content(args, require=False, needs_fallback=True)
    if not (content or "text" in args):
        raise ApiError("no_text")
    message.update(content)
    if "blocks" in content and not content["blocks"]:
        message.pop("blocks", None)
    message["edited"] = {"user": ws.bot_user_id, "ts": ws.next_ts()}
    return {
        "channel": channel.id,
        "ts": message["ts"],
        "text": message.get("text", ""),
        "message": _message_out(message),
    }


@method("chat.delete")
def chat_delete(ws: Workspace, args: Args) -> dict[str, Any]:
    """Delete a bot message."""
    required(args, "ts")
    channel = ws.channel(args.get("channel"))
    message = ws.find_message(channel.id, args["ts"])
    if message.get("bot_id") != ws.bot_id:
        raise ApiError("cant_delete_message")
    ws.delete_message(channel.id, message["ts"])
    return {"channel": channel.id, "ts": message["ts"]}


@method("chat.postEphemeral")
def chat_post_ephemeral(ws: Workspace, args: Args) -> dict[str, Any]:
    """Show a message to one member of a conversation."""
    channel = ws.channel(args.get("channel"))
    user = ws.user(args.get("user"))
    if user.id not in channel.members:
        raise ApiError("user_not_in_channel")
    content = message_content(args, needs_fallback=True)
    message_ts = ws.next_ts()
    if args.get("thread_ts"):
        content["thread_ts"] = str(args["thread_ts"])
    ws.ephemerals.append(
        {"type": "message", "channel": channel.id, "user": user.id, "message_ts": message_ts}
        | content
    )
    return {"message_ts": message_ts}


# views


@method("views.open")
def views_open(ws: Workspace, args: Args) -> dict[str, Any]:
    """Open a modal for the person a trigger_id belongs to."""
    required(args, "trigger_id")
    view = view_arg(args, allowed_types=("modal",))
    trigger = ws.use_trigger(args["trigger_id"])
    return {"view": copy.deepcopy(ws.open_stack(trigger.user_id, view))}


@method("views.push")
def views_push(ws: Workspace, args: Args) -> dict[str, Any]:
    """Push a modal onto the open stack of the trigger's person."""
    required(args, "trigger_id")
    view = view_arg(args, allowed_types=("modal",))
    trigger = ws.use_trigger(args["trigger_id"])
    return {"view": copy.deepcopy(ws.push_stack(trigger.user_id, view))}


@method("views.update")
def views_update(ws: Workspace, args: Args) -> dict[str, Any]:
    """Replace an existing view, by view_id or external_id, checking hash when given."""
    if args.get("view_id") in (None, "") and args.get("external_id") in (None, ""):
        raise ApiError("invalid_arguments", ["[ERROR] view_id or external_id is required"])
    existing = ws.find_view(args.get("view_id"), args.get("external_id"))
    view = view_arg(args, allowed_types=(existing["type"],))
    if args.get("hash") not in (None, "") and args["hash"] != existing["hash"]:
        raise ApiError("hash_conflict")
    owner = ws.view_owner.get(existing["id"])
    return {"view": copy.deepcopy(ws.store_view(view, owner, view_id=existing["id"]))}


@method("views.publish")
def views_publish(ws: Workspace, args: Args) -> dict[str, Any]:
    """Publish a person's App Home tab."""
    required(args, "user_id")
    user = ws.user(args["user_id"])
    view = view_arg(args, allowed_types=("home",))
    existing_id = ws.home_views.get(user.id)
    if (
        existing_id is not None
        and args.get("hash") not in (None, "")
        and args["hash"] != ws.views[existing_id]["hash"]
    ):
        raise ApiError("hash_conflict")
    stored = ws.store_view(view, user.id, view_id=existing_id)
    ws.home_views[user.id] = stored["id"]
    return {"view": copy.deepcopy(stored)}


# conversations


@method("conversations.open")
def conversations_open(ws: Workspace, args: Args) -> dict[str, Any]:
    """Open (or find) an IM with one user or a multi-person IM with several."""
    users = as_list(args.get("users"))
    if args.get("channel") not in (None, ""):
        channel = ws.channel(args["channel"])
    elif not users:
        raise ApiError("users_list_not_supplied")
    elif len(users) > 8:
        raise ApiError("too_many_users")
    elif len(users) == 1:
        channel = ws.open_im(users[0])
    else:
        channel = ws.open_mpim(users)
    if as_bool(args.get("return_im")):
        return {"channel": channel.to_api(ws.bot_user_id)}
    return {"channel": {"id": channel.id}}


@method("conversations.info")
def conversations_info(ws: Workspace, args: Args) -> dict[str, Any]:
    """Describe one conversation."""
    channel = ws.channel(args.get("channel"))
    return {"channel": channel.to_api(ws.bot_user_id)}


@method("conversations.members")
def conversations_members(ws: Workspace, args: Args) -> dict[str, Any]:
    """List a conversation's members, paginated."""
    channel = ws.channel(args.get("channel"))
    page, next_cursor = paginate(list(channel.members), args)
    return {"members": page, "response_metadata": {"next_cursor": next_cursor}}


# users


@method("users.info")
def users_info(ws: Workspace, args: Args) -> dict[str, Any]:
    """Describe one user."""
    return {"user": ws.user(args.get("user")).to_api()}


@method("users.list")
def users_list(ws: Workspace, args: Args) -> dict[str, Any]:
    """List the workspace's users, paginated."""
    page, next_cursor = paginate([u.to_api() for u in ws.users.values()], args)
    return {"members": page, "cache_ts": 0, "response_metadata": {"next_cursor": next_cursor}}


@method("users.lookupByEmail")
def users_lookup_by_email(ws: Workspace, args: Args) -> dict[str, Any]:
    """Find a user by email address."""
    required(args, "email")
    email = str(args["email"]).lower()
    for user in ws.users.values():
        if user.email is not None and user.email.lower() == email:
            return {"user": user.to_api()}
    raise ApiError("users_not_found")


# reactions


def _reaction_target(ws: Workspace, args: Args) -> tuple[Channel, dict[str, Any]]:
    required(args, "timestamp")
    channel = ws.channel(args.get("channel"))
    return channel, ws.find_message(channel.id, args["timestamp"])


def add_reaction(message: dict[str, Any], name: str, user_id: str) -> bool:
    """Add one person's reaction to a stored message; False if it was already there."""
    reactions = message.setdefault("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is None:
        entry = {"name": name, "users": [], "count": 0}
        reactions.append(entry)
    if user_id in entry["users"]:
        return False
    entry["users"].append(user_id)
    entry["count"] = len(entry["users"])
    return True


def remove_reaction(message: dict[str, Any], name: str, user_id: str) -> bool:
    """Remove one person's reaction from a stored message; False if it was not there."""
    reactions = message.get("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is None or user_id not in entry["users"]:
        return False
    entry["users"].remove(user_id)
    entry["count"] = len(entry["users"])
    if not entry["users"]:
        reactions.remove(entry)
    if not reactions:
        message.pop("reactions", None)
    return True


@method("reactions.add")
def reactions_add(ws: Workspace, args: Args) -> dict[str, Any]:
    """Add the bot's reaction to a message."""
    required(args, "name")
    _, message = _reaction_target(ws, args)
    if not add_reaction(message, str(args["name"]), ws.bot_user_id):
        raise ApiError("already_reacted")
    return {}


@method("reactions.remove")
def reactions_remove(ws: Workspace, args: Args) -> dict[str, Any]:
    """Remove the bot's reaction from a message."""
    required(args, "name")
    _, message = _reaction_target(ws, args)
    if not remove_reaction(message, str(args["name"]), ws.bot_user_id):
        raise ApiError("no_reaction")
    return {}


@method("reactions.get")
def reactions_get(ws: Workspace, args: Args) -> dict[str, Any]:
    """Return a message with its reactions."""
    channel, message = _reaction_target(ws, args)
    return {"type": "message", "channel": channel.id, "message": _message_out(message)}


# files


@method("files.upload")
def files_upload(ws: Workspace, args: Args) -> dict[str, Any]:
    """Refuse the legacy upload method, closed to new apps."""
    raise ApiError("method_deprecated")


@method("files.getUploadURLExternal")
def files_get_upload_url_external(ws: Workspace, args: Args) -> dict[str, Any]:
    """Announce a file and return where to upload its bytes."""
    required(args, "filename", "length")
    try:
        length = int(args["length"])
    except (TypeError, ValueError) as exc:
        raise ApiError("invalid_arguments", ["[ERROR] length must be an integer"]) from exc
    file_id = ws.next_id("F")
    ws.files[file_id] = UploadedFile(id=file_id, filename=str(args["filename"]), length=length)
    return {"upload_url": f"{ws.public_url}upload/{file_id}", "file_id": file_id}


@method("files.completeUploadExternal")
def files_complete_upload_external(ws: Workspace, args: Args) -> dict[str, Any]:
    """Finish uploads and optionally share them in a conversation with a comment."""
    required(args, "files")
    entries = decode_json_arg(args["files"], error="invalid_arguments")
    if not isinstance(entries, list) or not entries:
        raise ApiError("invalid_arguments", ["[ERROR] files must be a non-empty array"])
    uploaded: list[UploadedFile] = []
    for entry in entries:
        file = ws.files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
        if file is None or file.content is None:
            raise ApiError("file_not_found")
        if entry.get("title"):
            file.title = str(entry["title"])
        uploaded.append(file)
    blocks = None
    if args.get("blocks") not in (None, ""):
        blocks = parse_blocks(args["blocks"])
        check_message_blocks(blocks)
    targets = as_list(args.get("channels"))
    if args.get("channel_id") not in (None, ""):
        targets.insert(0, str(args["channel_id"]))
    channels = [ws.channel(t) for t in targets]
    for channel in channels:
        for file in uploaded:
            file.channels.append(channel.id)
        content: dict[str, Any] = {
            "text": str(args.get("initial_comment") or ""),
            "files": [f.to_api() for f in uploaded],
            "upload": True,
        }
        if blocks:
            content["blocks"] = fill_generated_ids(blocks)
        if args.get("thread_ts"):
            content["thread_ts"] = str(args["thread_ts"])
        ws.bot_message(channel, content)
    return {"files": [f.to_api() for f in uploaded]}


# posts to response_url and answers to view submissions


def respond(ws: Workspace, url_id: str, body: Any) -> dict[str, Any]:
    """Apply a post to a response_url as Slack does; raise ApiError(status=...) on refusal."""
    target = ws.response_urls.get(url_id)
    if target is None:
        raise ApiError("no_service", status=404)
    if ws.clock() - target.issued_at > RESPONSE_URL_TTL:
        raise ApiError("expired_url", status=404)
    if target.posts >= RESPONSE_URL_MAX_POSTS:
        raise ApiError("used_url", status=404)
    if not isinstance(body, dict):
        raise ApiError("invalid_payload", status=400)
    target.posts += 1
    if as_bool(body.get("delete_original")):
        if target.channel_id is None or target.message_ts is None:
            raise ApiError("cannot_delete_message", status=404)
        holder, message = ws.find_original(target.channel_id, target.message_ts)
        holder.remove(message)
        return {"ok": True}
    try:
        content = message_content(body)
    except ApiError as exc:
        exc.status = 400
        raise
    if as_bool(body.get("replace_original")) and target.message_ts is not None:
        assert target.channel_id is not None
        _, message = ws.find_original(target.channel_id, target.message_ts)
        message.update(content)
        if "blocks" not in content:
            message.pop("blocks", None)
        return {"ok": True}
    if target.channel_id is None:
        raise ApiError("channel_not_found", status=404)
    # Ephemeral answers work wherever the command was typed, even where the bot is not.
    if body.get("response_type") == "in_channel":
        channel = ws.channels.get(target.channel_id)
        if channel is None:
            raise ApiError("channel_not_found", status=404)
        extra = {"thread_ts": body["thread_ts"]} if body.get("thread_ts") else {}
        ws.bot_message(channel, {**content, **extra})
    else:
        if body.get("thread_ts"):
            content["thread_ts"] = str(body["thread_ts"])
        ws.ephemerals.append(
            {
                "type": "message",
                "channel": target.channel_id,
                "user": target.user_id,
                "message_ts": ws.next_ts(),
                "via_response_url": True,
            }
            | content
        )
    return {"ok": True}


def apply_view_response(
    ws: Workspace, user_id: str, view_id: str, response: dict[str, Any] | None
) -> dict[str, Any]:
    """Apply an app's answer to a view submission (close, update, push, clear or errors)."""
    action = (response or {}).get("response_action")
    if response is None or action is None:
        ws.pop_view(user_id, view_id)
        return {"response_action": "close"}
    if action == "clear":
        ws.pop_view(user_id, view_id, clear=True)
        return {"response_action": "clear"}
    if action == "errors":
        errors = response.get("errors")
        if not isinstance(errors, dict) or not errors:
            raise ApiError("invalid_arguments", ["[ERROR] errors must be a non-empty object"])
        block_ids = {b.get("block_id") for b in ws.views[view_id]["blocks"]}
        unknown = [k for k in errors if k not in block_ids]
        if unknown:
            raise ApiError(
                "invalid_arguments", [f"[ERROR] unknown block_id {k!r}" for k in unknown]
            )
        return {"response_action": "errors", "errors": errors}
    if action in ("update", "push"):
        view = view_arg(response, allowed_types=("modal",))
        if action == "update":
            stored = ws.store_view(view, user_id, view_id=view_id)
        else:
            stored = ws.push_stack(user_id, view)
        return {"response_action": action, "view": copy.deepcopy(stored)}
    raise ApiError("invalid_arguments", [f"[ERROR] unknown response_action {action!r}"])
