"""Fixtures of the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.lake import Lake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """An empty landing folder and state, loaded by the real loader in this process."""
    return Lake(tmp_path)
