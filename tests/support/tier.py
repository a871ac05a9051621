"""How many examples a property test draws: `make test-fast` (RETENTION_TEST_TIER=fast) draws a quarter
of them, for iterating, not for CI."""

from __future__ import annotations

import os

FAST_TIER = os.environ.get("RETENTION_TEST_TIER") == "fast"


def examples(n: int) -> int:
    """How many examples a property test draws in this tier."""
    return max(10, n // 4) if FAST_TIER else n
