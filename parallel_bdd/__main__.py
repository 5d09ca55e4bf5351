"""Entry point of ``pbdd`` and ``python -m parallel_bdd``.

``pbdd --version`` answers before the command-line machinery is imported, so scripts
that probe for pbdd stay fast; everything else goes to ``cli.main``.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        print(f"pbdd, version {__version__}")
        return
    from .cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
