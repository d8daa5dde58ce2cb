"""Values shared by tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet

if TYPE_CHECKING:
    from bot.devkit.sandbox import Sandbox

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
SECRET_KEY = Fernet.generate_key().decode()
ALLIES = "C0ALLIES"
VOLUNTEERS = "G0VOLUNTEERS"
ANNOUNCEMENTS = "C0ANNOUNCE"
ADMIN = "U0ADMIN"


def base_env(**overrides: str) -> dict[str, str]:
    """A complete, valid environment as SPEC section 5 names it."""
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "ALLYBOT_ALLIES_CHANNEL": ALLIES,
        "ALLYBOT_VOLUNTEERS_CHANNEL": VOLUNTEERS,
        "ALLYBOT_ANNOUNCEMENTS_CHANNEL": ANNOUNCEMENTS,
        "ALLYBOT_ADMINS": ADMIN,
        "ALLYBOT_SECRET_KEY": SECRET_KEY,
        "ALLYBOT_BUSINESS_UNITS": "Engineering,Sales,People",
    }
    env.update(overrides)
    return env


def settle(box: Sandbox) -> None:
    """Let every listener the app has started finish (the work after each ack).

    For checks that something did *not* happen, or happened once, and for counts taken
    before a step: made after this, they cannot pass or fail merely because earlier work
    has not run yet. The app keeps serving afterwards.
    """
    box.idle()


def until(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Wait for the app's post-ack work to reach a state (not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, "the expected state was not reached"
            return value
        time.sleep(0.02)
