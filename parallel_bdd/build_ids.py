"""The build id and worker name of a ``--queue`` run, from the options or the CI's variables.

Called by ``cli.py`` for ``pbdd --queue`` and ``pbdd report``. Every machine of one CI run
must find the same build id, and each a worker name of its own; a rerun of the CI run
needs a new build id (its queue is drained). Imports only ``errors``: no Redis.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

from .errors import UsageError

# (the build id's prefix, the variables whose values make the build id, the variable
# naming the machine): GitHub Actions, GitLab CI, Buildkite, CircleCI
CI_VARIABLES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("gh", ("GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT"), ""),
    ("gl", ("CI_PIPELINE_ID",), "CI_NODE_INDEX"),
    ("bk", ("BUILDKITE_BUILD_ID", "BUILDKITE_RETRY_COUNT"), "BUILDKITE_PARALLEL_JOB"),
    ("cc", ("CIRCLE_WORKFLOW_ID", "CIRCLE_BUILD_NUM"), "CIRCLE_NODE_INDEX"),
)


def build_id(given: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """``--build`` / ``PBDD_BUILD_ID``, else the CI run's id (its attempt included)."""
    if given:
        return given
    for prefix, names, _ in CI_VARIABLES:
        if environ.get(names[0]):
            return "-".join([prefix, *(environ[name] for name in names if environ.get(name))])
    raise UsageError(
        "--queue needs a build id shared by every machine of the build: pass --build ID or "
        "set PBDD_BUILD_ID",
        hint="Found none of the CI variables pbdd reads it from: "
        + ", ".join(names[0] for _, names, _ in CI_VARIABLES)
        + ".",
    )


def worker_name(given: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """``--worker`` / ``PBDD_WORKER_ID``, else the CI's node index, else host and pid."""
    if given:
        return given
    for _, names, node in CI_VARIABLES:
        if environ.get(names[0]) and node and environ.get(node):
            return f"node-{environ[node]}"
    return f"{socket.gethostname()}-{os.getpid()}"
