"""Templates here are rendered without an app: they get their ids the way the app hands them."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _ids(template_ids: None) -> None:
    """Every template test renders with the app's ids."""
