"""Tables of the awareness surveys, programme figures and the misuse review (SPEC 3)."""

from __future__ import annotations
