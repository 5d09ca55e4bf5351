from __future__ import annotations

import pytest
from suite_helpers import Suite


@pytest.fixture
def suite(tmp_path) -> Suite:
    """An empty suite directory; write features/steps, then ``suite.run(...)``."""
    return Suite(tmp_path / "suite")
