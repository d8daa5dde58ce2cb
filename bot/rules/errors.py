"""Exceptions the programme's rules raise; one handler turns them into words for people."""

from __future__ import annotations


class UserFacingError(Exception):
    """A refusal the person should read as it is (not a bug)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(UserFacingError):
    """The person may not do this."""


class NotFound(UserFacingError):
    """The thing asked about does not exist (any more)."""


class Conflict(UserFacingError):
    """Someone else got there first, or the thing is no longer in a state that allows this."""


class InvalidInput(UserFacingError):
    """The input cannot be used; `block_id` says which modal field, if any."""

    def __init__(self, message: str, block_id: str | None = None) -> None:
        super().__init__(message)
        self.block_id = block_id
