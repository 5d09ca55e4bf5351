from __future__ import annotations

import os
from pathlib import Path

import pytest
from suite_helpers import Suite

# Where pbdd would keep its parse cache without the redirection below: the user's own.
_REAL_CACHE_HOME = Path(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
)


@pytest.fixture(autouse=True)
def parse_cache_in_a_temp_dir(tmp_path_factory, monkeypatch) -> Path:
    """Every test, and every pbdd it starts (they inherit the environment), keeps its parse
    cache in a fresh temporary directory instead of the user's ``~/.cache``."""
    cache_home = tmp_path_factory.mktemp("cache-home")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.delenv("PBDD_CACHE_DIR", raising=False)
    return cache_home


@pytest.fixture
def real_cache_home() -> Path:
    """The cache directory of the user running the tests, which no test may write to."""
    return _REAL_CACHE_HOME


@pytest.fixture
def suite(tmp_path) -> Suite:
    """An empty suite directory; write features/steps, then ``suite.run(...)``."""
    return Suite(tmp_path / "suite")
