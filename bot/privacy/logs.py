"""Quiet logs: Slack and SQL payloads (logged at DEBUG by slack_bolt, slack_sdk and SQLAlchemy)
are kept out of every log."""

from __future__ import annotations

import logging

_PAYLOAD_LOGGERS = ("slack_bolt", "slack_sdk", "allybot.bolt", "sqlalchemy", "urllib3")


class PayloadLogFilter(logging.Filter):
    """Drops DEBUG records of libraries that log Slack payloads and SQL rows verbatim."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record unless it is a library's DEBUG line (which may carry a payload)."""
        if record.levelno >= logging.INFO:
            return True
        name = record.name
        return not any(
            name == p or name.startswith(p + ".") or name.startswith(p + ":")
            for p in _PAYLOAD_LOGGERS
        )


_FILTER = PayloadLogFilter()


def install_log_filter() -> None:
    """Keep request/response bodies out of the logs, whatever level a handler or test sets.

    The libraries' loggers are raised to INFO (so the records are not even made) and every one
    of them that exists gets the filter (so a level lowered later still logs no payload). Bolt
    copies the filters and level of the logger given to App() onto the loggers it creates.
    """
    manager = logging.Logger.manager
    for prefix in _PAYLOAD_LOGGERS:
        root = logging.getLogger(prefix)
        if root.level == logging.NOTSET or root.level < logging.INFO:
            root.setLevel(logging.INFO)
    for name in list(manager.loggerDict):
        if any(name == p or name.startswith((p + ".", p + ":")) for p in _PAYLOAD_LOGGERS):
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
