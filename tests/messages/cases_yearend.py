"""Template-matrix cases for messages/yearend/ (merged into test_template_matrix.CASES)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from messages.content import Content

CASES: dict[str, Callable[[Content], list[dict[str, Any]]]] = {}
