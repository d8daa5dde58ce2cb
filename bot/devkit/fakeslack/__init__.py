"""A local stand-in for Slack: a Web API fake and a client sending Slack-signed requests."""

from bot.devkit.fakeslack.client import Response, SignedClient
from bot.devkit.fakeslack.server import Call, FakeSlack

__all__ = ["Call", "FakeSlack", "Response", "SignedClient"]
