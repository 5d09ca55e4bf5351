"""The Redis keys of one build: ``pbdd:{BUILD}:<name>``, all in one Cluster slot.

Used by ``redis_queue.py`` (which passes them to the Lua scripts of ``scripts.py``, in the
order each script names them: ``named``) and by ``report.py``. The build id sits inside
``{...}``, Redis Cluster's hash tag, so every key of a build hashes to the same slot: a
script may only touch keys of one slot. Two builds never share a key. Every key expires
``ttl`` seconds after its last write (``--redis-ttl``).

Imports only the standard library.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

# a build id goes inside {...}: a brace in it would end the hash tag early
_BUILD_ID = re.compile(r"^[^{}\s]{1,200}$")


def check_build_id(build: str) -> str:
    """``build`` if it can name a build's keys; ``ValueError`` saying why not."""
    if not _BUILD_ID.match(build):
        raise ValueError(f"build id {build!r} must be 1-200 characters without spaces or braces")
    return build


@dataclass(frozen=True)
class BuildKeys:
    """Every key of one build (see the module docstring for the namespace)."""

    build: str

    def key(self, name: str) -> str:
        return f"pbdd:{{{self.build}}}:{name}"

    @property
    def status(self) -> str:
        """``setup:<worker>`` while the first machine fills the queue, then ``ready``."""
        return self.key("status")

    @property
    def meta(self) -> str:
        """Hash: the selection's digest, scenario and entry counts, pbdd version, when."""
        return self.key("meta")

    @property
    def queue(self) -> str:
        """List of entry ids, the next one on the left."""
        return self.key("queue")

    @property
    def entries(self) -> str:
        """Hash: entry id -> JSON list of its scenario ids, in run order."""
        return self.key("entries")

    @property
    def running(self) -> str:
        """Sorted set: reserved entry id -> its last heartbeat (server time, ms)."""
        return self.key("running")

    @property
    def leases(self) -> str:
        """Hash: reserved entry id -> the lease number of its reservation."""
        return self.key("leases")

    @property
    def owners(self) -> str:
        """Hash: reserved entry id -> the worker (machine) holding it."""
        return self.key("owners")

    @property
    def lease_counter(self) -> str:
        return self.key("lease-counter")

    @property
    def done(self) -> str:
        """Set of entry ids whose every scenario has its final result."""
        return self.key("done")

    @property
    def results(self) -> str:
        """Hash: scenario id -> its final result, JSON (the first one recorded wins)."""
        return self.key("results")

    @property
    def attempts(self) -> str:
        """Hash: ``<scenario id>\\n<n>`` -> the n-th attempt's result, JSON (n from 1)."""
        return self.key("attempts")

    @property
    def attempt_counts(self) -> str:
        return self.key("attempt-counts")

    @property
    def failures(self) -> str:
        """Set of scenario ids with an attempt that failed before the final one."""
        return self.key("failures")

    @property
    def flaky(self) -> str:
        """Set of scenario ids whose final pass came after a failed attempt."""
        return self.key("flaky")

    @property
    def items(self) -> str:
        """Hash: scenario id -> what the reports need of it (a ``WorkItem``, JSON)."""
        return self.key("items")

    @property
    def selection(self) -> str:
        """List of the selection's scenario ids in file order (the report's order)."""
        return self.key("selection")

    @property
    def workers(self) -> str:
        """Hash: worker name -> its last reserve/heartbeat/ack (server time, ms)."""
        return self.key("workers")

    @property
    def reclaimed(self) -> str:
        """List of ``<entry id> <from worker> <to worker>``: reservations taken over."""
        return self.key("reclaimed")

    @property
    def finished(self) -> str:
        """Set (server time, ms) by the ack that gave the last scenario its result."""
        return self.key("finished")

    def named(self, names: Iterable[str]) -> list[str]:
        """The keys of these attribute names, in their order (a script's ``KEYS``)."""
        return [getattr(self, name) for name in names]

    def all(self) -> tuple[str, ...]:
        """Every key a build may have (to expire them, or to list them in a test)."""
        names = (
            "status meta queue entries running leases owners lease_counter done results "
            "attempts attempt_counts failures flaky items selection workers reclaimed finished"
        )
        return tuple(self.named(names.split()))


def selection_digest(scenario_ids: Iterable[str]) -> str:
    """A digest of the selected scenario ids, whatever their order: machines with other
    histories order and chunk the same selection differently."""
    digest = hashlib.sha256()
    for scenario_id in sorted(set(scenario_ids)):
        digest.update(scenario_id.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()
