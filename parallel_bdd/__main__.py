"""``python -m parallel_bdd`` works like ``pbdd``."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    main()
