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
    try:
        from .cli import main as cli_main

        cli_main()
    except KeyboardInterrupt:  # before the command line's own Ctrl-C handling took over
        from .errors import EXIT_INTERRUPTED

        print("Interrupted: nothing more was run.", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
