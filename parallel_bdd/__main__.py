"""Entry point of ``pbdd`` and ``python -m parallel_bdd``.

``pbdd --version`` answers before the command-line machinery is imported, so scripts
that probe for pbdd stay fast; everything else goes to ``cli.main``, with the pool's
first processes already starting when the command line asks for one (``warmup.py``).
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        print(f"pbdd, version {__version__}")
        return
    from .pool_request import requested_pool

    # before the command line's own imports: a pool's first processes start meanwhile
    requested = requested_pool(sys.argv[1:])
    warmup = None
    if requested is not None:
        from .warmup import PoolWarmup

        processes, start_method = requested
        warmup = PoolWarmup(start_method, processes)
    try:
        if warmup is not None:
            warmup.start()
        from .cli import main as cli_main

        cli_main(warmup=warmup)
    except KeyboardInterrupt:  # before the command line's own Ctrl-C handling took over
        from .errors import EXIT_INTERRUPTED

        print("Interrupted: nothing more was run.", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if warmup is not None:
            warmup.close()


if __name__ == "__main__":
    main()
