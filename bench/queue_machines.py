"""Many machines, one Redis queue: ``pbdd --queue`` against ``--shard I/N`` on the ``tail`` suite.

Called by ``make bench`` after ``run.py`` (and usable on its own)::

    python bench/queue_machines.py --repeat 3 --out bench/RESULTS.md

Each "machine" is a ``pbdd -p 1`` process of its own, started here; all of them and the
``pbdd report`` share one ``redis-server`` started here on a free 127.0.0.1 port (no
persistence) and stopped at the end. Two measurements:

* **warm**: four machines start together with a true history; the makespan runs from their
  start to the end of ``pbdd report`` (which starts with them and waits). Efficiency =
  LB / makespan, LB = max(longest scenario, total work / 4).
* **stale and late**: a third of the scenarios (a seeded random pick) recorded with
  another one's duration, and the fourth machine starting 5 s after the others:
  the queue's makespan (to the end of ``report``) against ``--shard I/4``'s (to the end of
  the last shard), each machine with the same stale history.

Plus the Redis commands per scenario that the machines send (``MONITOR``, commands run
inside the Lua scripts not counted; a pipeline's commands counted one by one).

The section "Many machines, one queue" of ``--out`` is replaced (or added). Imports the
standard library, redis-py and ``generate``; pbdd runs as ``python -m parallel_bdd``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import generate
import redis

BENCH_DIR = Path(__file__).resolve().parent
MACHINES = 4
LATE_START = 5.0
SECTION = "## Many machines, one queue"
TARGET_EFFICIENCY = 0.93
TARGET_SPEEDUP = 1.3
STALE_SEED = 7  # the stale history the machines run with
IDEAL_SEEDS = range(100, 130)  # other stale histories, simulated only


@dataclass
class Timing:
    makespan: float
    exit_codes: list[int]
    first_start: float | None = None  # queue: median over machines of their first scenario's start


class RedisServer:
    """A throw-away ``redis-server`` on a free port."""

    def __init__(self, directory: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(directory),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # the server is starting
        client.close()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def pbdd(suite: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "parallel_bdd", *args],
        cwd=suite,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def machine_args(history: Path, *more: str) -> list[str]:
    return ["features", "-p", "1", "-v", "0", "--no-color", "--history", str(history), *more]


def started_late(index: int, late: bool) -> bool:
    return late and index == MACHINES - 1


def start_machines(
    suite: Path, histories: list[Path], command, late: bool
) -> tuple[float, list[subprocess.Popen[bytes]]]:
    """Start the machines (the last one ``LATE_START`` s late when ``late``)."""
    start = time.monotonic()
    processes: list[subprocess.Popen[bytes]] = []
    for index in range(MACHINES):
        if started_late(index, late):
            time.sleep(max(0.0, start + LATE_START - time.monotonic()))  # the late machine
        processes.append(pbdd(suite, *command(index, histories[index])))
    return start, processes


def queue_run(suite: Path, url: str, build: str, histories: list[Path], late: bool) -> Timing:
    """The makespan ends with ``pbdd report``'s end (the machines may still be exiting)."""
    report = pbdd(suite, "report", "--queue", url, "--build", build, "--timeout", "600")

    def command(index: int, history: Path) -> list[str]:
        return machine_args(history, "--queue", url, "--build", build, "--worker", f"m{index}")

    wall_start = time.time()
    start, processes = start_machines(suite, histories, command, late)
    code = report.wait(timeout=600)
    makespan = time.monotonic() - start
    codes = [process.wait(timeout=600) for process in processes] + [code]
    return Timing(makespan, codes, first_start(url, build, wall_start, late))


def machine_firsts(url: str, build: str, wall_start: float) -> dict[str, float]:
    """Each machine's first scenario start, in seconds after ``wall_start`` (``time.time()``),
    read from the build's results (their ``started_at`` is ``time.time()`` too)."""
    client = redis.Redis.from_url(url, decode_responses=True)
    firsts: dict[str, float] = {}
    for text in client.hvals(f"pbdd:{{{build}}}:results"):
        record = json.loads(text)
        started = record["started_at"] - wall_start
        firsts[record["machine"]] = min(started, firsts.get(record["machine"], started))
    client.close()
    return firsts


def first_start(url: str, build: str, wall_start: float, late: bool) -> float:
    """The median over the machines that started together of their first scenario's start."""
    firsts = machine_firsts(url, build, wall_start)
    if late:
        firsts.pop(f"m{MACHINES - 1}", None)
    return statistics.median(firsts.values())


def shard_run(suite: Path, histories: list[Path], late: bool) -> Timing:
    """The makespan ends with the last shard's end."""

    def command(index: int, history: Path) -> list[str]:
        return machine_args(history, "--shard", f"{index + 1}/{MACHINES}")

    start, processes = start_machines(suite, histories, command, late)
    codes = [process.wait(timeout=600) for process in processes]
    return Timing(time.monotonic() - start, codes)


def stale(history: dict, seed: int = STALE_SEED) -> dict:
    """A third of the scenarios (a seeded random pick) recorded with the duration of
    another scenario of that third."""
    entries = history["scenarios"]
    rng = random.Random(seed)
    chosen = rng.sample(sorted(entries), len(entries) // 3)
    durations = [entries[key]["duration"] for key in chosen]
    rng.shuffle(durations)
    changed = {key: {**entries[key], "duration": value} for key, value in zip(chosen, durations)}
    return {**history, "scenarios": {**entries, **changed}}


def ideal(true: dict, old: dict, late: float = LATE_START) -> tuple[float, float]:
    """Makespans without any overhead for the stale history ``old``: the queue as a list
    scheduler handing out the scenarios longest first by ``old`` (the machines free at 0,
    the last one at ``late``), and ``--shard``'s greedy split by ``old`` (each scenario to
    the least loaded shard, then the one with fewest scenarios), each machine running its
    share for the durations of ``true``."""
    actual = {key: entry["duration"] for key, entry in true["scenarios"].items()}
    estimate = {key: entry["duration"] for key, entry in old["scenarios"].items()}
    order = sorted(actual, key=lambda key: (-estimate[key], key))
    free = [0.0] * (MACHINES - 1) + [late]
    for key in order:
        first = free.index(min(free))
        free[first] += actual[key]
    loads, counts, work = [0.0] * MACHINES, [0] * MACHINES, [0.0] * MACHINES
    for key in order:
        target = min(range(MACHINES), key=lambda n: (loads[n], counts[n], n))
        loads[target] += estimate[key]
        counts[target] += 1
        work[target] += actual[key]
    work[-1] += late
    return max(free), max(work)


def understated(true: dict, old: dict) -> str:
    """The longest scenario that ``old`` records as shorter than it is, in words."""
    shorter = [
        (entry["duration"], old["scenarios"][key]["duration"])
        for key, entry in true["scenarios"].items()
        if old["scenarios"][key]["duration"] < entry["duration"]
    ]
    if not shorter:
        return "none"
    took, recorded = max(shorter)
    return f"{took:.2f} s recorded as {recorded:.2f} s"


def ideal_ratios(true: dict, seeds: range) -> list[float]:
    """``ideal``'s shard / queue ratio for the stale histories of ``seeds``."""
    ratios = []
    for seed in seeds:
        queue, shard = ideal(true, stale(true, seed))
        ratios.append(shard / queue)
    return ratios


def copies(history: dict, directory: Path, label: str) -> list[Path]:
    paths = []
    for index in range(MACHINES):
        path = directory / f"{label}-{index}.json"
        path.write_text(json.dumps(history))
        paths.append(path)
    return paths


class CommandCounter(threading.Thread):
    """``MONITOR``: counts the commands clients send (not those run inside scripts)."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.client = redis.Redis(port=port)
        self.count = 0
        self.stopping = False

    def run(self) -> None:
        try:
            self.listen()
        except redis.exceptions.ConnectionError:
            pass  # the server stopped at the end of the bench

    def listen(self) -> None:
        with self.client.monitor() as monitor:
            for command in monitor.listen():
                if self.stopping:
                    return
                if command.get("client_type") != "lua" and "lua" not in str(
                    command.get("client_address", "")
                ):
                    self.count += 1


def alone(suite: Path, url: str, history: dict, work: Path) -> float:
    """How soon one machine on its own starts its first scenario: the others join the build
    once it has reserved its first entry (so they finish it), the report waits for all."""
    build = "alone"
    report = pbdd(suite, "report", "--queue", url, "--build", build, "--timeout", "600")
    paths = copies(history, work, "a")

    def machine(index: int) -> subprocess.Popen[bytes]:
        args = ("--queue", url, "--build", build, "--worker", f"m{index}")
        return pbdd(suite, *machine_args(paths[index], *args))

    wall_start = time.time()
    first = machine(0)
    client = redis.Redis.from_url(url)
    while not client.zcard(f"pbdd:{{{build}}}:running") and first.poll() is None:
        time.sleep(0.05)  # the lone machine is starting
    client.close()
    processes = [first, *(machine(index) for index in range(1, MACHINES)), report]
    for process in processes:
        process.wait(timeout=600)
    return machine_firsts(url, build, wall_start)["m0"]


def counted_run(suite: Path, server: RedisServer, true: dict, work: Path) -> tuple[int, Timing]:
    """The commands the machines of a warm run send (the report runs after them, uncounted)."""
    counter = CommandCounter(server.port)
    counter.start()
    time.sleep(0.5)  # MONITOR is listening before the machines start
    build, paths = "counted", copies(true, work, "t")

    def command(index: int, history: Path) -> list[str]:
        args = ("--queue", server.url, "--build", build, "--worker", f"m{index}")
        return machine_args(history, *args)

    start, processes = start_machines(suite, paths, command, False)
    codes = [process.wait(timeout=600) for process in processes]
    makespan = time.monotonic() - start
    counter.stopping = True
    report = pbdd(suite, "report", "--queue", server.url, "--build", build, "--timeout", "60")
    codes.append(report.wait(timeout=600))
    return counter.count, Timing(makespan, codes)


def measure(args: argparse.Namespace, work: Path) -> dict:
    info = generate.generate("tail", args.scale, work / "suite")
    suite = work / "suite" / "pbdd"
    lower_bound = max(info["longest_s"], info["total_work_s"] / MACHINES)
    warm = subprocess.run(
        [
            sys.executable,
            "-m",
            "parallel_bdd",
            "features",
            "-p",
            "4",
            "-v",
            "0",
            "--history",
            str(work / "true.json"),
        ],
        cwd=suite,
        capture_output=True,
        check=False,
    )
    if warm.returncode:
        raise SystemExit(f"the warm-up run failed:\n{warm.stdout.decode()}{warm.stderr.decode()}")
    true = json.loads((work / "true.json").read_text())
    old = stale(true)
    server = RedisServer(work)
    results: dict = {
        "ideal": ideal(true, old),
        "ideal_ratios": ideal_ratios(true, IDEAL_SEEDS),
        "understated": understated(true, old),
        "lb": lower_bound,
        "scenarios": info["scenarios"],
        "warm": [],
        "queue": [],
        "shard": [],
    }
    try:
        for round_ in range(args.repeat):
            results["warm"].append(
                queue_run(suite, server.url, f"warm-{round_}", copies(true, work, "t"), False)
            )
            results["queue"].append(
                queue_run(suite, server.url, f"late-{round_}", copies(old, work, "s"), True)
            )
            results["shard"].append(shard_run(suite, copies(old, work, "s"), True))
            print(
                f"round {round_ + 1}: warm {results['warm'][-1].makespan:.2f} s, queue "
                f"{results['queue'][-1].makespan:.2f} s, shard {results['shard'][-1].makespan:.2f} s",
                flush=True,
            )
        results["alone"] = alone(suite, server.url, true, work)
        results["commands"], results["counted"] = counted_run(suite, server, true, work)
    finally:
        server.stop()
    return results


def section(results: dict, args: argparse.Namespace) -> str:
    def median(kind: str) -> float:
        return statistics.median(t.makespan for t in results[kind])

    def valid(kind: str) -> bool:
        return all(code == 0 for t in results[kind] for code in t.exit_codes)

    lb = results["lb"]
    warm, queue, shard = median("warm"), median("queue"), median("shard")
    efficiency, speedup = lb / warm, shard / queue
    lines = [
        SECTION,
        "",
        f"`python bench/queue_machines.py --repeat {args.repeat} --scale {args.scale:g}` — "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Profile `tail` "
        f"({results['scenarios']} scenarios), {MACHINES} machines × `pbdd -p 1 --queue`, each "
        "a process of its own on this one host, one local `redis-server`. Makespan: from the "
        "machines' start to the end of `pbdd report` (queue) or of the last shard (`--shard`). "
        f"LB = {lb:.2f} s. Medians of {args.repeat} runs; every run exited 0: "
        f"{'yes' if all(valid(k) for k in ('warm', 'queue', 'shard')) else '**no**'}.",
        "",
        "| target | measured | met? |",
        "| --- | --- | --- |",
        f"| warm history, machines start together: efficiency ≥ {TARGET_EFFICIENCY} | "
        f"{efficiency:.3f} (LB {lb:.2f} s / median {warm:.2f} s) | "
        f"{'yes' if efficiency >= TARGET_EFFICIENCY else '**no**'} |",
        f"| stale history, one machine {LATE_START:g} s late: queue ≥ {TARGET_SPEEDUP}x faster "
        f"than `--shard I/{MACHINES}` | {speedup:.2f}x ({queue:.2f} s vs {shard:.2f} s) | "
        f"{'yes' if speedup >= TARGET_SPEEDUP else '**no**'} |",
        "",
        "| run | makespans (s) |",
        "| --- | --- |",
    ]
    for kind, label in (
        ("warm", "queue, warm history"),
        ("queue", "queue, stale history, one late"),
        ("shard", "--shard, stale history, one late"),
    ):
        lines.append(f"| {label} | {', '.join(f'{t.makespan:.2f}' for t in results[kind])} |")
    ideal_queue, ideal_shard = results["ideal"]
    ratios = results["ideal_ratios"]
    lines += [
        "",
        f"Without any overhead, for this stale history (seed {STALE_SEED}; simulated with the "
        f"durations of the warm-up run): the queue {ideal_queue:.2f} s, `--shard` "
        f"{ideal_shard:.2f} s, ratio {ideal_shard / ideal_queue:.2f}x; its longest scenario "
        f"recorded shorter than it is: {results['understated']}. Over "
        f"{len(ratios)} other seeded stale histories the ratio without overhead has median "
        f"{statistics.median(ratios):.2f}x (min {min(ratios):.2f}x, max {max(ratios):.2f}x): "
        f"{sum(r >= TARGET_SPEEDUP for r in ratios)} of them reach {TARGET_SPEEDUP}x. "
        f"With {MACHINES} machines of 15 s and one {LATE_START:g} s late, the late machine "
        f"costs a balanced shard {LATE_START:g} s and a perfect queue {LATE_START:g}/{MACHINES} "
        f"s: (15 + {LATE_START:g}) / (15 + {LATE_START / MACHINES:g}) = "
        f"{(15 + LATE_START) / (15 + LATE_START / MACHINES):.2f}x, and more only when the stale "
        "history unbalances the shards more than it delays the queue's long scenarios.",
    ]
    per = results["commands"] / results["scenarios"]
    firsts = [t.first_start for kind in ("warm", "queue") for t in results[kind]]
    lines += [
        "",
        f"A machine's first scenario started {statistics.median(firsts):.2f} s after the "
        f"machines' start (median over the runs above); one machine alone on this host: "
        f"{results['alone']:.2f} s. The four machines and `pbdd report` share this host's "
        f"{os.cpu_count()} cores, so their start-ups (a `-p 1` machine is one process) "
        "overlap; on machines of their own they would not.",
        "",
        f"Redis commands sent by the machines: {results['commands']} for "
        f"{results['scenarios']} scenarios, {per:.1f} per scenario (a separate warm run under "
        "`MONITOR`, with `pbdd report` started after the machines ended; a pipeline's "
        "commands counted one by one, the Lua scripts' own calls not; idle machines look for "
        "work every 0.5 s while others still run). That run exited 0: "
        f"{'yes' if all(code == 0 for code in results['counted'].exit_codes) else '**no**'}.",
        "",
    ]
    return "\n".join(lines)


def replace_section(path: Path, text: str) -> None:
    old = path.read_text() if path.exists() else ""
    if SECTION in old:
        start = old.index(SECTION)
        rest = old[start + len(SECTION) :]
        end = rest.find("\n## ")
        old = old[:start] + (rest[end + 1 :] if end >= 0 else "")
    path.write_text(old.rstrip("\n") + "\n\n" + text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "RESULTS.md")
    args = parser.parse_args(argv)
    if shutil.which("redis-server") is None:
        print("redis-server is not installed (apt-get install redis-server): skipped")
        return 0
    with tempfile.TemporaryDirectory(prefix="pbdd-queue-bench-") as directory:
        results = measure(args, Path(directory))
    text = section(results, args)
    replace_section(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
