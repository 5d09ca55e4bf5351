"""Benchmark driver: pbdd against behave, behavex and pytest-bdd + pytest-xdist.

Invoked by ``make bench`` (``python bench/run.py``); see bench/README.md. In one invocation,
so that ratios are fair on a noisy machine, it:

1. creates ``bench/.venv`` (``python -m venv``), installs the peers from
   ``bench/requirements.txt`` and pbdd itself (a regular ``pip install`` of the repository,
   compiled to bytecode at install as a user's install from an index is: an editable
   install would compile pbdd at every start where bytecode is not written);
2. generates each profile's suite with ``bench/generate.py`` under ``bench/work/``;
3. runs every runner ``--repeat`` times (runners interleaved within each round), each run
   time-bounded, its executed-scenario count checked from its JUnit XML;
4. writes ``--out`` (default ``bench/RESULTS.md``) and ``bench/work/results.json``.

Only the standard library is used here, so the driver needs no venv of its own; the runners
under test run from the venv. It never imports parallel_bdd: pbdd is measured as a user runs it.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
import generate  # noqa: E402  (bench/ is not a package; generate.py sits beside this file)

VENV = BENCH_DIR / ".venv"
REQUIREMENTS = BENCH_DIR / "requirements.txt"
PEER_PACKAGES = ("behave", "behavex", "pytest", "pytest-bdd", "pytest-xdist")
PBDD_DISTS = ("pbdd", "parallel-bdd", "parallel_bdd")
INSTALL_TIMEOUT = 1200.0
STARTUP_SAMPLES = 5

# Target checks reported in RESULTS.md (never asserted): the issue's aims for pbdd.
SKEWED_EFFICIENCY = 0.97
TAIL_EFFICIENCY = 0.95
TAIL_SPEEDUP = 1.3
TINY_P2_SECONDS = 1.0
HTML_EXTRA = 0.05  # what --html may add to tiny -p 2
CPU_EFFICIENCY = 0.92
HUGE_RSS_MB = 300.0


def log(message: str) -> None:
    print(message, flush=True)


def rel(path: Path | str) -> str:
    """A path as shown in the report: relative to the repository when inside it."""
    text = str(path)
    root = str(REPO_ROOT)
    if text == root:
        return "."
    if text.startswith(root + os.sep):
        return text[len(root) + 1 :]
    return text


def show_command(argv: list[str], cwd: Path) -> str:
    """The command as one can paste it at the repository root (paths relative to its cwd)."""

    def local(arg: str) -> str:
        if os.path.isabs(arg) and arg.startswith(str(REPO_ROOT) + os.sep):
            return os.path.relpath(arg, cwd)
        return arg

    shown = " ".join(shlex.quote(local(a)) for a in argv)
    return f"(cd {shlex.quote(rel(cwd))} && {shown})"


# --------------------------------------------------------------------------- processes


def _read_stat(pid: int) -> tuple[int, int, str] | None:
    """(ppid, start time, state) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = data[data.rfind(")") + 2 :].split()
    return int(fields[1]), int(fields[19]), fields[0]


def _status_kb(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _alive(pid: int, start: int) -> bool:
    stat = _read_stat(pid)
    return stat is not None and stat[1] == start and stat[2] not in ("Z", "X")


class TreeWatcher(threading.Thread):
    """Samples a run's process tree: the parent's peak RSS, the tree's RSS, every descendant.

    Descendants are remembered (pid + start time) so that any left running after the parent
    exits can be reported and killed; that covers workers that moved to their own session.
    """

    RSS_EVERY = 0.1
    TREE_EVERY = 0.5

    def __init__(self, root_pid: int) -> None:
        super().__init__(daemon=True)
        self.root = root_pid
        self.seen: dict[int, tuple[int, str]] = {}
        self.parent_peak_kb = 0
        self.tree_peak_kb = 0
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._has_proc = os.path.isdir("/proc")

    def run(self) -> None:
        if not self._has_proc:
            return
        # The first tree sample waits: at exec time the tree is one bare interpreter.
        last_tree = time.monotonic()
        while not self._halt.is_set():
            self.sample_parent()
            now = time.monotonic()
            if now - last_tree >= self.TREE_EVERY:
                last_tree = now
                self.sample_tree()
            self._halt.wait(self.RSS_EVERY)

    def sample_parent(self) -> None:
        hwm = _status_kb(self.root, "VmHWM")
        if hwm:
            self.parent_peak_kb = max(self.parent_peak_kb, hwm)

    def sample_tree(self) -> None:
        children: dict[int, list[int]] = {}
        starts: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            stat = _read_stat(int(entry))
            if stat is None:
                continue
            children.setdefault(stat[0], []).append(int(entry))
            starts[int(entry)] = stat[1]
        tree, stack = [], [self.root]
        with self._lock:
            stack.extend(pid for pid in self.seen if pid in starts)
            while stack:
                pid = stack.pop()
                if pid in tree:
                    continue
                tree.append(pid)
                stack.extend(children.get(pid, []))
            for pid in tree:
                if pid != self.root and pid in starts and pid not in self.seen:
                    self.seen[pid] = (starts[pid], _comm(pid))
        total = sum(_status_kb(pid, "VmRSS") or 0 for pid in tree)
        self.tree_peak_kb = max(self.tree_peak_kb, total)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    def live_descendants(self) -> list[tuple[int, str]]:
        with self._lock:
            return [(pid, name) for pid, (start, name) in self.seen.items() if _alive(pid, start)]

    def kill_all(self) -> None:
        with self._lock:
            items = list(self.seen.items())
        for pid, (start, _name) in items:
            if _alive(pid, start):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            parts = fh.read().split(b"\0")
        return " ".join(p.decode("utf-8", "replace") for p in parts[:3] if p)[:120]
    except OSError:
        return "?"


@dataclass
class Measured:
    exit_code: int | None
    wall_s: float
    timed_out: bool
    parent_peak_kb: int
    tree_peak_kb: int
    leftovers: list[str]


_current: dict[str, object] = {}


def run_measured(
    argv: list[str], cwd: Path, env: dict[str, str], timeout: float, logs: Path
) -> Measured:
    """Run argv to completion or timeout; wall time, memory and leftover processes."""
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "stdout.log", "wb") as out, open(logs / "stderr.log", "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group: a timeout kills all of it
        )
        watcher = TreeWatcher(proc.pid)
        watcher.start()
        timed_out = threading.Event()

        def on_deadline() -> None:
            timed_out.set()
            watcher.sample_tree()
            _kill_group(proc.pid)
            watcher.kill_all()

        timer = threading.Timer(timeout, on_deadline)
        timer.daemon = True
        timer.start()
        _current.update(proc=proc, watcher=watcher)
        # A blocking wait (not a polling one) so that the exit is timed to the microsecond.
        exit_code = proc.wait()
        wall = time.perf_counter() - start
        timer.cancel()
        _current.clear()
    watcher.stop()
    watcher.sample_tree()
    leftovers = _reap_leftovers(proc.pid, watcher)
    return Measured(
        None if timed_out.is_set() else exit_code,
        wall,
        timed_out.is_set(),
        watcher.parent_peak_kb,
        watcher.tree_peak_kb,
        leftovers,
    )


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def _reap_leftovers(pgid: int, watcher: TreeWatcher, grace: float = 3.0) -> list[str]:
    """Processes of the run still alive `grace` seconds after it ended: reported, then killed."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and watcher.live_descendants():
        time.sleep(0.1)
    left = watcher.live_descendants()
    if left:
        _kill_group(pgid)
        watcher.kill_all()
    return [f"{pid} {name}" for pid, name in left]


def kill_current_run() -> None:
    proc, watcher = _current.get("proc"), _current.get("watcher")
    if isinstance(proc, subprocess.Popen):
        _kill_group(proc.pid)
    if isinstance(watcher, TreeWatcher):
        watcher.kill_all()


def quick_run(argv: list[str], timeout: float, env: dict[str, str] | None = None, cwd=None):
    """Run a short command; (exit code or None on timeout/OSError, output text, seconds)."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        text = (exc.output or b"").decode("utf-8", "replace")
        return None, text + f"\n(timed out after {timeout:.0f} s)", time.perf_counter() - start
    except OSError as exc:
        return None, str(exc), time.perf_counter() - start
    return done.returncode, done.stdout.decode("utf-8", "replace"), time.perf_counter() - start


def tail(text: str, lines: int = 6) -> str:
    """The last lines of a command's output, without pip's noise about index locations."""
    kept = [line for line in text.strip().splitlines() if not line.startswith("WARNING: Loc")]
    return "\n".join(kept[-lines:])


# --------------------------------------------------------------------------- environment


@dataclass
class Toolchain:
    """The venv and what in it can be run; a missing tool carries the reason."""

    python: Path
    env: dict[str, str]
    install_notes: list[str] = field(default_factory=list)
    pbdd: list[str] | None = None
    pbdd_env: dict[str, str] | None = None
    pbdd_how: str = ""
    missing: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def bin(self, name: str) -> Path:
        return self.python.parent / name


def _stamp_ok(stamp: Path, digest: str) -> bool:
    return stamp.exists() and stamp.read_text().strip() == digest


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        if p.exists():
            name = str(p.relative_to(REPO_ROOT)) if p.is_relative_to(REPO_ROOT) else p.name
            h.update(name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _base_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONSTARTUP"):
        env.pop(var, None)
    bindir = str(VENV / "bin")
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(VENV)
    env["NO_COLOR"] = "1"
    return env


def prepare_toolchain(install: bool) -> Toolchain:
    """Create/refresh bench/.venv; never raises: failures become notes and missing tools."""
    python = VENV / "bin" / "python"
    chain = Toolchain(python=python, env=_base_env())
    notes = chain.install_notes
    if install and not python.exists():
        log(f"creating {rel(VENV)} ...")
        code, out, _ = quick_run([sys.executable, "-m", "venv", str(VENV)], INSTALL_TIMEOUT)
        if code != 0:
            notes.append(f"`python -m venv {rel(VENV)}` failed: {tail(out, 3)}")
    if not python.exists():
        notes.append(f"no venv at {rel(VENV)}: every runner is unavailable")
        for tool in ("pbdd", "behave", "behavex", "pytest-bdd"):
            chain.missing[tool] = "no venv"
        return chain

    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    pip += ["--root-user-action=ignore"]
    if install:
        stamp = VENV / ".bench-requirements.sha256"
        digest = _digest([REQUIREMENTS])
        if not _stamp_ok(stamp, digest):
            log(f"installing peers from {rel(REQUIREMENTS)} into {rel(VENV)} ...")
            code, out, secs = quick_run(pip + ["-r", str(REQUIREMENTS)], INSTALL_TIMEOUT)
            if code == 0:
                stamp.write_text(digest)
                log(f"  done in {secs:.0f} s")
            else:
                # One broken peer must not take the others down: install them one by one.
                log("  failed as a whole; installing the requirements one by one")
                for requirement in _requirements():
                    code, out, _ = quick_run(pip + [requirement], INSTALL_TIMEOUT)
                    if code != 0:
                        notes.append(f"`pip install {requirement}` failed: {tail(out, 4)}")
                        log(f"  {requirement}: FAILED (see RESULTS.md)")
        project_files = [REPO_ROOT / n for n in ("setup.py", "setup.cfg", "pyproject.toml")]
        if any(p.exists() for p in project_files):
            stamp = VENV / ".bench-pbdd.sha256"
            sources = sorted((REPO_ROOT / "parallel_bdd").rglob("*.py"))
            digest = _digest([p for p in project_files if p.exists()] + sources)
            if not _stamp_ok(stamp, digest):
                # the code under test changes between runs: always a fresh copy of it
                log(f"installing pbdd (pip install {rel(REPO_ROOT)}) into {rel(VENV)} ...")
                code, out, secs = quick_run(pip + [str(REPO_ROOT)], INSTALL_TIMEOUT)
                if code == 0:
                    refresh = ["--no-deps", "--force-reinstall", str(REPO_ROOT)]
                    code, out, more = quick_run(pip + refresh, INSTALL_TIMEOUT)
                    secs += more
                if code == 0:
                    stamp.write_text(digest)
                    log(f"  done in {secs:.0f} s")
                else:
                    notes.append(f"`pip install .` of pbdd failed: {tail(out, 4)}")
                    log("  FAILED (see RESULTS.md)")
        else:
            notes.append("the repository has no setup.py/pyproject.toml: pbdd not pip-installed")
        code, out, _ = quick_run([str(python), "-m", "pip", "check"], 120)
        if code != 0:
            notes.append(f"`pip check` in {rel(VENV)} reports: {tail(out, 4)}")

    _locate_pbdd(chain)
    _locate_peers(chain)
    chain.versions = _versions(chain)
    return chain


def _requirements() -> list[str]:
    lines = REQUIREMENTS.read_text().splitlines() if REQUIREMENTS.exists() else []
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def _locate_pbdd(chain: Toolchain) -> None:
    script = chain.bin("pbdd")
    if script.exists():
        chain.pbdd, chain.pbdd_env = [str(script)], chain.env
        chain.pbdd_how = f"`{rel(script)}` (pbdd pip-installed into the venv)"
    else:
        # Not installed: run the repository's package with the venv's interpreter.
        env = dict(chain.env, PYTHONPATH=str(REPO_ROOT))
        chain.pbdd, chain.pbdd_env = [str(chain.python), "-m", "parallel_bdd"], env
        chain.pbdd_how = (
            f"`{rel(chain.python)} -m parallel_bdd` with PYTHONPATH set to the repository "
            "(pbdd is not installed in the venv)"
        )
    code, out, _ = quick_run(chain.pbdd + ["--version"], 60, env=chain.pbdd_env)
    if code != 0:
        chain.missing["pbdd"] = f"`pbdd --version` failed: {tail(out, 3)}"
        chain.pbdd = None


def _locate_peers(chain: Toolchain) -> None:
    for tool in ("behave", "behavex"):
        if not chain.bin(tool).exists():
            chain.missing[tool] = f"{rel(chain.bin(tool))} not found (install failed?)"
    code, out, _ = quick_run(
        [str(chain.python), "-c", "import pytest, pytest_bdd, xdist"], 60, env=chain.env
    )
    if code != 0:
        chain.missing["pytest-bdd"] = (
            f"pytest / pytest-bdd / pytest-xdist not importable: {tail(out, 2)}"
        )


def _versions(chain: Toolchain) -> dict[str, str]:
    names = list(PEER_PACKAGES) + ["gherkin-official", "psutil"]
    code = (
        "import importlib.metadata as m, json, platform\n"
        f"names = {names!r}\n"
        "out = {'python (venv)': platform.python_version()}\n"
        "for n in names:\n"
        "    try:\n"
        "        out[n] = m.version(n)\n"
        "    except Exception:\n"
        "        pass\n"
        f"for n in {list(PBDD_DISTS)!r}:\n"
        "    try:\n"
        "        out['pbdd (' + n + ')'] = m.version(n)\n"
        "        break\n"
        "    except Exception:\n"
        "        pass\n"
        "print(json.dumps(out))\n"
    )
    status, out, _ = quick_run([str(chain.python), "-c", code], 60, env=chain.env)
    try:
        return json.loads(out.strip().splitlines()[-1]) if status == 0 else {}
    except (ValueError, IndexError):
        return {}


# --------------------------------------------------------------------------- runners


@dataclass(frozen=True)
class RunnerSpec:
    key: str
    label: str
    tool: str  # "pbdd" | "behave" | "behavex" | "pytest-bdd" | "floor"
    procs: int
    history: str | None = None  # pbdd only: "cold" (no history file yet) | "warm"
    dist: str | None = None  # pytest-xdist only
    start_method: str | None = None  # pbdd only: --start-method, when not the default
    queues: str | None = None  # floor only: "manager" keeps its queues in a SyncManager
    html: bool = False  # pbdd only: also writes --html
    profiles: tuple[str, ...] = ()  # run on these profiles only (empty: on every profile)

    @property
    def is_peer(self) -> bool:
        return self.tool not in ("pbdd", "floor")


def runner_specs(procs: list[int], peer_procs: int) -> list[RunnerSpec]:
    specs = []
    for p in procs:
        specs.append(RunnerSpec(f"pbdd-p{p}-cold", f"pbdd -p {p} (no history)", "pbdd", p, "cold"))
        specs.append(RunnerSpec(f"pbdd-p{p}-warm", f"pbdd -p {p} (history)", "pbdd", p, "warm"))
    if 4 in procs:
        specs.append(
            RunnerSpec(
                "pbdd-p4-forkserver",
                "pbdd -p 4 --start-method forkserver (history)",
                "pbdd",
                4,
                "warm",
                start_method="forkserver",
            )
        )
    if 2 in procs:  # what writing the HTML report costs, on the profile where it shows most
        label = "pbdd -p 2 --html (history)"
        specs.append(
            RunnerSpec("pbdd-p2-html", label, "pbdd", 2, "warm", html=True, profiles=("tiny",))
        )
    for p in procs:
        if p > 1:  # the best a runner starting fresh processes (spawn) can do: bench/floor.py
            specs.append(
                RunnerSpec(f"floor-p{p}", f"floor: ideal spawn pool, {p} processes", "floor", p)
            )
            # the same with its queues in a SyncManager, as pbdd's design asks
            label = f"floor: ideal spawn pool with SyncManager queues, {p} processes"
            specs.append(RunnerSpec(f"floor-manager-p{p}", label, "floor", p, queues="manager"))
    n = peer_procs
    specs += [
        RunnerSpec("behave", "behave (serial)", "behave", 1),
        RunnerSpec("behavex", f"behavex {n} processes, scenario scheme", "behavex", n),
        RunnerSpec(
            "pytest-load", f"pytest-bdd + xdist -n {n} --dist load", "pytest-bdd", n, dist="load"
        ),
        RunnerSpec(
            "pytest-worksteal",
            f"pytest-bdd + xdist -n {n} --dist worksteal",
            "pytest-bdd",
            n,
            dist="worksteal",
        ),
    ]
    return specs


def build_command(
    spec: RunnerSpec, chain: Toolchain, suite: Path, run_dir: Path
) -> tuple[list[str], Path, dict[str, str], list[Path]]:
    """(argv, cwd, env, JUnit XML files/dirs to count) for one run of a runner."""
    if spec.tool == "pbdd":
        history = suite / "history" / f"p{spec.procs}.json"
        junit = run_dir / "junit.xml"
        argv = chain.pbdd + [
            "features",
            "-p",
            str(spec.procs),
            "-v",
            "0",
            "--history",
            str(history),
            "--junit-xml",
            str(junit),
        ]
        if spec.start_method:
            argv += ["--start-method", spec.start_method]
        if spec.html:
            argv += ["--html", str(run_dir / "report.html")]
        env = dict(chain.pbdd_env or chain.env)
        # pbdd's parse cache lives with the suite: a "no history" run starts with it empty
        # (a first run), a "history" run finds it filled (every later run of a project)
        env["PBDD_CACHE_DIR"] = str(suite / "history" / f"cache-p{spec.procs}")
        return argv, suite / "pbdd", env, [junit]
    if spec.tool == "floor":
        junit = run_dir / "junit.xml"
        argv = [str(chain.python), str(BENCH_DIR / "floor.py"), str(suite), "-p", str(spec.procs)]
        argv += ["--junit-xml", str(junit), "--queues", spec.queues or "pipe"]
        return argv, REPO_ROOT, chain.env, [junit]
    if spec.tool == "behave":
        junit = run_dir / "junit"
        argv = [str(chain.bin("behave")), "features", "--format", "null", "--no-color"]
        argv += ["--junit", "--junit-directory", str(junit)]
        return argv, suite / "behave", chain.env, [junit]
    if spec.tool == "behavex":
        output = run_dir / "behavex"
        argv = [str(chain.bin("behavex")), "features", "--parallel-processes", str(spec.procs)]
        argv += ["--parallel-scheme", "scenario", "--no-color", "-o", str(output)]
        return argv, suite / "behave", chain.env, [output / "behave"]
    junit = run_dir / "junit.xml"
    argv = [str(chain.python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    argv += ["-n", str(spec.procs), "--dist", spec.dist or "load", "--junitxml", str(junit)]
    return argv, suite / "pytest_bdd", chain.env, [junit]


@dataclass
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    source: str = ""

    @property
    def executed(self) -> int:
        return self.passed + self.failed


def junit_counts(targets: list[Path]) -> Counts | None:
    files: list[Path] = []
    for t in targets:
        if t.is_dir():
            files += sorted(t.glob("*.xml"))
        elif t.exists():
            files.append(t)
    if not files:
        return None
    counts = Counts(source="junit")
    for f in files:
        try:
            root = ET.parse(f).getroot()
        except ET.ParseError:
            return None
        for case in root.iter("testcase"):
            tags = {child.tag for child in case}
            if tags & {"failure", "error"}:
                counts.failed += 1
            elif "skipped" in tags:
                counts.skipped += 1
            else:
                counts.passed += 1
    return counts


_SUMMARY = re.compile(r"^\s*(\d+) scenarios? \(([^)]*)\)", re.MULTILINE)


def summary_counts(stdout: str) -> Counts | None:
    """pbdd's lettuce-style line `N scenarios (N passed, N failed)` when there is no JUnit."""
    found = _SUMMARY.findall(stdout)
    if not found:
        return None
    total, detail = found[-1]
    counts = Counts(source="summary line")
    for number, word in re.findall(r"(\d+) (\w+)", detail):
        if word == "passed":
            counts.passed = int(number)
        elif word == "skipped":
            counts.skipped = int(number)
        else:
            counts.failed += int(number)
    if counts.passed + counts.failed + counts.skipped < int(total):
        counts.failed += int(total) - counts.passed - counts.failed - counts.skipped
    return counts


@dataclass
class Outcome:
    profile: str
    runner: str
    round: int
    status: str  # ok | invalid | failed | timeout | unavailable | skipped
    wall_s: float | None = None
    exit_code: int | None = None
    passed: int | None = None
    executed: int | None = None
    expected: int = 0
    counted_from: str = ""
    parent_peak_mb: float | None = None
    tree_peak_mb: float | None = None
    leftovers: list[str] = field(default_factory=list)
    detail: str = ""
    command: str = ""


def run_one(
    spec: RunnerSpec,
    chain: Toolchain,
    suite: Path,
    run_dir: Path,
    expected: int,
    timeout: float,
    profile: str,
    rnd: int,
) -> Outcome:
    outcome = Outcome(profile, spec.key, rnd, "unavailable", expected=expected)
    if spec.tool in chain.missing:
        outcome.detail = chain.missing[spec.tool]
        return outcome
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    argv, cwd, env, reports = build_command(spec, chain, suite, run_dir)
    outcome.command = show_command(argv, cwd)
    if spec.history == "cold":
        history = suite / "history" / f"p{spec.procs}.json"
        history.parent.mkdir(exist_ok=True)
        history.unlink(missing_ok=True)
        shutil.rmtree(suite / "history" / f"cache-p{spec.procs}", ignore_errors=True)
    try:
        m = run_measured(argv, cwd, env, timeout, run_dir)
    except OSError as exc:
        outcome.status, outcome.detail = "failed", f"could not start: {exc}"
        return outcome
    outcome.wall_s = m.wall_s
    outcome.exit_code = m.exit_code
    outcome.parent_peak_mb = round(m.parent_peak_kb / 1024, 1) if m.parent_peak_kb else None
    outcome.tree_peak_mb = round(m.tree_peak_kb / 1024, 1) if m.tree_peak_kb else None
    outcome.leftovers = m.leftovers
    stdout = (run_dir / "stdout.log").read_text(errors="replace")
    stderr = (run_dir / "stderr.log").read_text(errors="replace")
    counts = junit_counts(reports)
    if counts is None and spec.tool == "pbdd":
        counts = summary_counts(stdout)
    if counts is not None:
        outcome.passed, outcome.executed = counts.passed, counts.executed
        outcome.counted_from = counts.source
    if m.timed_out:
        outcome.status = "timeout"
        outcome.detail = f"killed after {timeout:g} s"
    elif m.exit_code != 0:
        outcome.status = "failed"
        outcome.detail = f"exit code {m.exit_code}: {tail(stderr or stdout, 4)}"
    elif counts is None:
        outcome.status = "invalid"
        outcome.detail = "no JUnit XML and no summary line to count executed scenarios"
    elif counts.passed != expected or counts.failed:
        outcome.status = "invalid"
        outcome.detail = (
            f"executed {counts.executed}/{expected} ({counts.passed} passed, "
            f"{counts.failed} failed, {counts.skipped} skipped)"
        )
    else:
        outcome.status = "ok"
    if m.leftovers:
        note = f"{len(m.leftovers)} process(es) still running 3 s after exit, killed"
        outcome.detail = "; ".join(filter(None, [outcome.detail, note]))
    return outcome


def default_timeout(info: dict) -> float:
    """Generous per-run bound: serial work three times over, plus per-scenario overhead."""
    return 60.0 + 3.0 * info["total_work_s"] + 0.1 * info["scenarios"]


# --------------------------------------------------------------------------- statistics


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def lower_bound(info: dict, procs: int) -> float:
    """LB = max(longest scenario, total work / P); CPU work cannot use more than the cores."""
    p = min(procs, cores()) if "cpu" in info["kind"] else procs
    return max(info["longest_s"], info["total_work_s"] / max(1, p))


@dataclass
class Row:
    spec: RunnerSpec
    outcomes: list[Outcome]
    lb: float

    @property
    def times(self) -> list[float]:
        return [o.wall_s for o in self.outcomes if o.status == "ok" and o.wall_s is not None]

    @property
    def min(self) -> float | None:
        return min(self.times) if self.times else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    def efficiency(self, wall: float | None) -> float | None:
        if wall is None or self.lb <= 0:
            return None
        return self.lb / wall

    @property
    def parent_peak_mb(self) -> float | None:
        values = [o.parent_peak_mb for o in self.outcomes if o.parent_peak_mb]
        return max(values) if values else None

    @property
    def tree_peak_mb(self) -> float | None:
        values = [o.tree_peak_mb for o in self.outcomes if o.tree_peak_mb]
        return max(values) if values else None

    @property
    def status(self) -> str:
        ran = [o for o in self.outcomes if o.status != "skipped"]
        bad = [o for o in ran if o.status != "ok"]
        if not bad:
            skipped = [o.detail for o in self.outcomes if o.status == "skipped"]
            return f"ok; {skipped[0]}" if skipped else "ok"
        first = bad[0]
        return f"{first.status}: {first.detail}" if first.detail else first.status


def best_peer(rows: list[Row]) -> Row | None:
    peers = [r for r in rows if r.spec.is_peer and r.median is not None]
    return min(peers, key=lambda r: r.median) if peers else None


# --------------------------------------------------------------------------- report


def fmt(value: float | None, spec: str = ".2f", unit: str = "") -> str:
    return "–" if value is None else f"{value:{spec}}{unit}"


def machine_info() -> dict[str, str]:
    info = {
        "cores (usable / total)": f"{cores()} / {os.cpu_count()}",
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Python (driver)": platform.python_version(),
    }
    try:
        with open("/proc/meminfo") as fh:
            kb = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
        info["memory"] = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    try:
        with open("/proc/cpuinfo") as fh:
            model = next(line for line in fh if line.startswith("model name"))
        info["CPU"] = model.split(":", 1)[1].strip()
    except (OSError, StopIteration):
        pass
    try:
        info["load average at start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        pass
    return info


def target_rows(results: dict[str, list[Row]], scale: float) -> list[tuple[str, str, str]]:
    """(target, measured, met?) for the issue's aims; medians of valid runs throughout."""

    def row(profile: str, key: str) -> Row | None:
        return next((r for r in results.get(profile, []) if r.spec.key == key), None)

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("yes" if ok else "**no**")

    out = []
    for profile, key, aim in (
        ("skewed", "pbdd-p4-warm", SKEWED_EFFICIENCY),
        ("tail", "pbdd-p4-warm", TAIL_EFFICIENCY),
        ("cpu", "pbdd-p2-warm", CPU_EFFICIENCY),
    ):
        r = row(profile, key)
        name = f"{profile}: {r.spec.label if r else key}"
        eff = r.efficiency(r.median) if r else None
        shown = "–" if eff is None else f"{eff:.3f} (LB {r.lb:.2f} s / median {r.median:.2f} s)"
        procs = r.spec.procs if r else 0
        shown += _floor_note(row(profile, f"floor-p{procs}"))
        shown += _floor_note(row(profile, f"floor-manager-p{procs}"), "with SyncManager")
        out.append(
            (f"{name} efficiency ≥ {aim}", shown, verdict(None if eff is None else eff >= aim))
        )
        if profile not in ("skewed", "tail"):
            continue
        best = best_peer(results.get(profile, []))
        ratio = best.median / r.median if (best and r and r.median) else None
        shown = "–"
        if ratio is not None:
            shown = f"{ratio:.2f}x ({r.median:.2f} s vs {best.spec.label} {best.median:.2f} s)"
        if profile == "skewed":
            ok = None if ratio is None else ratio > 1.0
            out.append((f"{name} faster than every peer", shown, verdict(ok)))
        else:
            ok = None if ratio is None else ratio >= TAIL_SPEEDUP
            label = f"{name} ≥ {TAIL_SPEEDUP}x faster than the fastest peer"
            out.append((label, shown, verdict(ok)))

    p1, behave = row("tiny", "pbdd-p1-warm"), row("tiny", "behave")
    ok, shown = None, "–"
    if p1 and behave and p1.median and behave.median:
        ok = p1.median <= behave.median
        shown = f"{p1.median:.2f} s vs behave {behave.median:.2f} s"
    out.append(("tiny: pbdd -p 1 (history) no slower than behave (serial)", shown, verdict(ok)))
    p2 = row("tiny", "pbdd-p2-warm")
    ok = None if not (p2 and p2.median) else p2.median < TINY_P2_SECONDS
    shown = f"{p2.median:.2f} s" if p2 and p2.median else "–"
    for key, name in (("floor-p2", "floor"), ("floor-manager-p2", "floor with SyncManager")):
        floor = row("tiny", key)
        if floor and floor.median:
            shown += f"; {name} {floor.median:.2f} s"
    out.append((f"tiny: pbdd -p 2 (history) under {TINY_P2_SECONDS:g} s", shown, verdict(ok)))
    html = row("tiny", "pbdd-p2-html")
    ok, shown = None, "–"
    if html and html.median and p2 and p2.median:
        extra = html.median / p2.median - 1
        ok = extra < HTML_EXTRA
        shown = f"{extra:+.1%} ({html.median:.2f} s vs {p2.median:.2f} s)"
    label = f"tiny: --html adds under {HTML_EXTRA:.0%} to pbdd -p 2 (history)"
    out.append((label, shown, verdict(ok)))
    peaks = [r.parent_peak_mb for r in results.get("huge", []) if r.spec.tool == "pbdd"]
    peaks = [p for p in peaks if p]
    ok = None if not peaks else max(peaks) < HUGE_RSS_MB
    shown = f"{max(peaks):.0f} MB (largest over all pbdd runs)" if peaks else "–"
    out.append((f"huge: pbdd parent peak RSS < {HUGE_RSS_MB:.0f} MB", shown, verdict(ok)))
    if scale != 1.0:
        out = [(t, m, f"{v} (scale {scale:g})") for t, m, v in out]
    return out


def _floor_note(floor: Row | None, kind: str = "") -> str:
    """The floor's efficiency beside pbdd's: the most any spawn-started runner reaches here
    (``kind`` names a variant: "with SyncManager" for the floor that keeps its queues in a
    manager process, as pbdd's design does)."""
    eff = floor.efficiency(floor.median) if floor else None
    name = f"floor {kind}" if kind else "floor"
    return "" if eff is None else f"; {name} {eff:.3f} (median {floor.median:.2f} s)"


def write_report(
    path: Path,
    args: argparse.Namespace,
    chain: Toolchain,
    infos: dict[str, dict],
    results: dict[str, list[Row]],
    startup: list[tuple[str, list[float], str]],
    started: datetime.datetime,
    elapsed: float,
    interrupted: bool,
) -> None:
    lines: list[str] = ["# pbdd benchmark results", ""]
    argv = " ".join(shlex.quote(rel(a)) for a in sys.argv[1:])
    lines.append(
        f"`python bench/run.py {argv}` — started {started:%Y-%m-%d %H:%M} UTC, "
        f"took {elapsed / 60:.1f} min, {args.repeat} run(s) per runner"
        + (" — **interrupted: partial results**" if interrupted else "")
        + "."
    )
    lines += [
        "",
        "Wall time is the runner's whole process, start-up included. Efficiency = LB / wall "
        "time, LB = max(longest scenario, total work / P) (for `cpu`, P = min(P, cores)). "
        '"best peer / this" > 1 means faster than the best peer. A run counts only if it '
        "exited 0 and its JUnit XML shows every scenario passed; the others are listed as "
        "invalid, never as fast. Targets use the median.",
        "",
    ]
    if args.scale != 1.0:
        lines += [
            f"**Scale {args.scale:g}**: suites are scaled down (see bench/README.md); the "
            "targets are defined for scale 1 and are indicative only here.",
            "",
        ]
    lines += ["## Targets", "", "| target | measured | met? |", "| --- | --- | --- |"]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in target_rows(results, args.scale)]

    lines += ["", "## Machine", "", "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in machine_info().items()]
    lines += ["", "## Versions", "", "| package | version |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in sorted(chain.versions.items())]
    lines += ["", f"pbdd runs as {chain.pbdd_how}; the peers run from `{rel(VENV)}`."]
    if chain.install_notes or chain.missing:
        lines += ["", "### Install problems", ""]
        lines += [f"- {n}" for n in chain.install_notes]
        lines += [f"- {tool}: {why}" for tool, why in chain.missing.items()]

    if startup:
        lines += [""] + startup_lines(startup)

    for profile, rows in results.items():
        info = infos[profile]
        best = best_peer(rows)
        lines += [
            "",
            f"## Profile `{profile}`",
            "",
            f"{info['scenarios']} scenarios in {info['features']} feature files, "
            f"{info['steps']} steps; total work {info['total_work_s']:.2f} s "
            f"({'/'.join(info['kind'])}), longest scenario {info['longest_s']:.2f} s; "
            f"per-run timeout {_timeout_of(args, info):.0f} s.",
            "",
            "| runner | P | ok runs | min s | median s | LB s | eff (median) | eff (min) "
            "| best peer / this | parent peak RSS MB | tree peak RSS MB | status |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in rows:
            ratio = best.median / r.median if best and r.median else None
            ran = [o for o in r.outcomes if o.status != "skipped"]
            lines.append(
                f"| {r.spec.label} | {r.spec.procs} | {len(r.times)}/{len(ran)} "
                f"| {fmt(r.min)} | {fmt(r.median)} | {fmt(r.lb if r.lb > 0 else None)} "
                f"| {fmt(r.efficiency(r.median), '.3f')} | {fmt(r.efficiency(r.min), '.3f')} "
                f"| {fmt(ratio, '.2f', 'x')} | {fmt(r.parent_peak_mb, '.0f')} "
                f"| {fmt(r.tree_peak_mb, '.0f')} | {_cell(r.status)} |"
            )
    commands: dict[str, str] = {}
    for profile, rows in results.items():
        for r in rows:
            command = next((o.command for o in r.outcomes if o.command), "")
            if command and r.spec.label not in commands:
                commands[r.spec.label] = _generic(command, profile)
    if commands:
        lines += [
            "",
            "## Commands",
            "",
            "Run from the repository root; `PROFILE` is the profile's name, `N` the round. "
            "Each suite is generated under `bench/work/PROFILE/` (`python bench/generate.py "
            "PROFILE --scale S --out bench/work/PROFILE`).",
            "",
        ]
        lines += [f"- {label}: `{command}`" for label, command in commands.items()]
    lines += [
        "",
        "## How these numbers were made",
        "",
        "Suites come from `bench/generate.py` (deterministic); every runner executes the same "
        "scenarios and step bodies. Within a round every runner runs once, in the order of the "
        f"tables, with a pause of {args.settle:g} s (after syncing written files) between runs; "
        'pbdd\'s "no history" run starts from a deleted history file and an empty parse '
        "cache and writes both, "
        'the "history" run that follows reads them. Peak RSS is the kernel\'s high-water mark '
        "(VmHWM) of the runner's own process, sampled every 0.1 s; tree RSS sums all its "
        "processes every 0.5 s. Raw data: `bench/work/results.json`, logs: `bench/work/`.",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scrub("\n".join(lines)))


def scrub(text: str) -> str:
    """Keep this machine's absolute paths (in tracebacks, say) out of the report."""
    text = text.replace(str(REPO_ROOT) + os.sep, "")
    for prefix, shown in ((sys.base_prefix, "<python>"), (str(Path.home()), "~")):
        if len(prefix) > 1:
            text = text.replace(prefix, shown)
    return text


def _timeout_of(args: argparse.Namespace, info: dict) -> float:
    return args.timeout or default_timeout(info)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:300]


def _generic(command: str, profile: str) -> str:
    """A run's command with its profile and round replaced by PROFILE and N."""
    command = command.replace(f"bench/work/{profile}/", "bench/work/PROFILE/")
    return re.sub(r"/runs/([\w.-]+)-r\d+/", r"/runs/\1-rN/", command)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="pbdd against behave, behavex and pytest-bdd/xdist (see bench/README.md)"
    )
    parser.add_argument(
        "--profiles",
        default=",".join(generate.PROFILES),
        help=f"comma-separated, from {','.join(generate.PROFILES)} (default: all)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per runner (default 3)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="work multiplier; 0.05 for a quick try"
    )
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument(
        "--work-dir", type=Path, default=BENCH_DIR / "work", help="suites, logs, raw results"
    )
    parser.add_argument("--procs", default="1,2,4", help="pbdd -p values (default 1,2,4)")
    parser.add_argument("--peer-procs", type=int, default=4, help="processes for parallel peers")
    parser.add_argument(
        "--runners",
        default="",
        help="only these runners: comma-separated keys or tools "
        "(pbdd, behave, behavex, pytest-bdd, pbdd-p4-warm, pytest-load, ...)",
    )
    parser.add_argument(
        "--timeout", type=float, default=0.0, help="seconds per run (default: from the profile)"
    )
    parser.add_argument(
        "--slow-cap",
        type=float,
        default=120.0,
        help="a runner whose run took longer gets no further rounds (0: always repeat; "
        "default 120 s)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=1.0,
        help="after each run, flush written files to disk (sync) and wait this many seconds, "
        "so one run's reports and exiting processes do not slow the next (default 1 s)",
    )
    parser.add_argument(
        "--no-install", action="store_true", help="use bench/.venv as it is (no pip)"
    )
    parser.add_argument(
        "--startup-only",
        action="store_true",
        help="only measure start-up and replace that table in --out",
    )
    args = parser.parse_args(argv)
    args.profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    unknown = [p for p in args.profiles if p not in generate.PROFILES]
    if unknown:
        parser.error(f"unknown profile(s) {unknown}; choose from {generate.PROFILES}")
    args.procs = [int(p) for p in args.procs.split(",") if p.strip()]
    if args.startup_only and not args.out.exists():
        parser.error(f"--startup-only updates the start-up table of {args.out}, which is missing")
    if args.repeat < 1 or args.scale <= 0:
        parser.error("--repeat must be >= 1 and --scale > 0")
    return args


def startup_lines(startup: list[tuple[str, list[float], str]]) -> list[str]:
    lines = [
        "## Start-up",
        "",
        "| command | runs | min s | median s |",
        "| --- | --- | --- | --- |",
    ]
    for label, times, note in startup:
        if times:
            lines.append(
                f"| `{label}` | {len(times)} | {min(times):.3f} | {statistics.median(times):.3f} |"
            )
        else:
            lines.append(f"| `{label}` | 0 | – | {note} |")
    return lines


def replace_startup_section(path: Path, startup: list[tuple[str, list[float], str]]) -> None:
    """``--startup-only``: measure start-up again and replace that table in a report."""
    text = path.read_text()
    section = "\n".join(startup_lines(startup)) + "\n"
    start = text.find("## Start-up\n")
    if start < 0:
        path.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    end = text.find("\n## ", start + 1)
    rest = text[end + 1 :] if end >= 0 else ""
    path.write_text(text[:start] + section + ("\n" + rest if rest else ""))


def measure_startup(chain: Toolchain) -> list[tuple[str, list[float], str]]:
    commands = []
    if chain.pbdd:
        commands.append(("pbdd --version", chain.pbdd + ["--version"], chain.pbdd_env))
    if "behave" not in chain.missing:
        commands.append(("behave --version", [str(chain.bin("behave")), "--version"], chain.env))
    if "pytest-bdd" not in chain.missing:
        commands.append(
            (
                "python -m pytest --version",
                [str(chain.python), "-m", "pytest", "--version"],
                chain.env,
            )
        )
    cwd_of: dict[str, Path] = {}
    if chain.pbdd:
        # A pool's fixed cost: four no-op scenarios on four workers, the whole run timed.
        suite = Path(tempfile.mkdtemp(prefix="pbdd-bench-pool-"))
        (suite / "features").mkdir()
        (suite / "features" / "pool.feature").write_text(
            "Feature: Pool\n"
            + "".join(f"  Scenario: s{i}\n    Given a no-op step\n" for i in range(4))
        )
        (suite / "features" / "steps.py").write_text(
            "from parallel_bdd import step\n\n\n@step('a no-op step')\ndef noop(step):\n    pass\n"
        )
        for method in ("spawn", "forkserver"):
            label = f"pbdd -p 4 on 4 no-op scenarios (--start-method {method})"
            argv = chain.pbdd + ["features", "-p", "4", "-v", "0", "--no-history"]
            commands.append((label, argv + ["--start-method", method], chain.pbdd_env))
            cwd_of[label] = suite
    out = []
    for label, argv, env in commands:
        times, note = [], ""
        for _ in range(STARTUP_SAMPLES):
            code, text, secs = quick_run(argv, 60, env=env, cwd=cwd_of.get(label))
            if code != 0:
                note = f"failed: {tail(text, 2)}"
                break
            times.append(secs)
        out.append((label, times, note))
        if times:
            log(
                f"start-up {label}: min {min(times):.3f} s, median {statistics.median(times):.3f} s"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.datetime.now(datetime.UTC)
    clock = time.perf_counter()
    work_dir = args.work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)

    chain = prepare_toolchain(install=not args.no_install)
    for tool, why in chain.missing.items():
        log(f"unavailable: {tool}: {why}")
    startup = measure_startup(chain)
    if args.startup_only:
        replace_startup_section(args.out, startup)
        log(f"updated the start-up table of {rel(args.out.resolve())}")
        return 0

    specs = runner_specs(args.procs, args.peer_procs)
    if args.runners:
        wanted = {w.strip() for w in args.runners.split(",") if w.strip()}
        specs = [s for s in specs if s.key in wanted or s.tool in wanted]

    infos: dict[str, dict] = {}
    results: dict[str, list[Row]] = {}
    raw: list[dict] = []
    interrupted = False
    try:
        for profile in args.profiles:
            suite = work_dir / profile
            info = generate.generate(profile, args.scale, suite)
            infos[profile] = info
            timeout = _timeout_of(args, info)
            log(
                f"== {profile}: {info['scenarios']} scenarios in {info['features']} files, "
                f"work {info['total_work_s']:.2f} s, longest {info['longest_s']:.2f} s, "
                f"timeout {timeout:.0f} s per run"
            )
            rows = [
                Row(s, [], lower_bound(info, s.procs))
                for s in specs
                if not s.profiles or profile in s.profiles
            ]
            results[profile] = rows
            total = args.repeat * len(rows)
            done = 0
            for rnd in range(1, args.repeat + 1):
                for row in rows:
                    done += 1
                    skip = _skip_reason(row, args.slow_cap)
                    if skip:
                        outcome = Outcome(profile, row.spec.key, rnd, "skipped", detail=skip)
                    else:
                        run_dir = suite / "runs" / f"{row.spec.key}-r{rnd}"
                        outcome = run_one(
                            row.spec,
                            chain,
                            suite,
                            run_dir,
                            info["scenarios"],
                            timeout,
                            profile,
                            rnd,
                        )
                        settle(args.settle)
                    row.outcomes.append(outcome)
                    raw.append(asdict(outcome))
                    log(_progress(profile, done, total, rnd, args.repeat, row, outcome))
    except KeyboardInterrupt:
        interrupted = True
        kill_current_run()
        log("interrupted: writing partial results")

    elapsed = time.perf_counter() - clock
    (work_dir / "results.json").write_text(
        json.dumps(
            {
                "args": {k: str(v) for k, v in vars(args).items()},
                "manifests": {
                    p: {k: v for k, v in i.items() if k != "scenario_list"}
                    for p, i in infos.items()
                },
                "runs": raw,
            },
            indent=1,
        )
        + "\n"
    )
    write_report(args.out, args, chain, infos, results, startup, started, elapsed, interrupted)
    log(
        f"wrote {rel(args.out.resolve())} and {rel(work_dir / 'results.json')} "
        f"after {elapsed / 60:.1f} min"
    )
    for target, measured, verdict in target_rows(results, args.scale):
        log(f"  [{verdict.replace('*', '')}] {target}: {measured}")
    return 130 if interrupted else 0


def settle(seconds: float) -> None:
    """Between runs: write back what the last run wrote (behavex's HTML reports, say) and
    let its exiting processes go, instead of letting that work land on the next run."""
    if seconds <= 0:
        return
    if hasattr(os, "sync"):
        os.sync()
    time.sleep(seconds)


def _skip_reason(row: Row, slow_cap: float) -> str:
    """Why a runner gets no further round: it failed, or one run already took very long."""
    failed = [o for o in row.outcomes if o.status not in ("ok", "skipped")]
    if failed:
        return f"not repeated: round {failed[0].round} was {failed[0].status}"
    slow = [o for o in row.outcomes if o.status == "ok" and (o.wall_s or 0) > slow_cap > 0]
    if slow:
        return (
            f"not repeated: round {slow[0].round} took {slow[0].wall_s:.0f} s "
            f"(> --slow-cap {slow_cap:g} s)"
        )
    return ""


def _progress(profile, done, total, rnd, repeat, row: Row, o: Outcome) -> str:
    head = f"[{profile} {done}/{total} round {rnd}/{repeat}] {row.spec.label:<44}"
    if o.status == "ok":
        eff = row.efficiency(o.wall_s)
        extra = f" eff {eff:.3f}" if eff else ""
        rss = f" rss {o.parent_peak_mb:.0f} MB" if o.parent_peak_mb else ""
        return f"{head} {o.wall_s:8.2f} s ok ({o.passed}/{o.expected}){extra}{rss}"
    wall = f"{o.wall_s:8.2f} s " if o.wall_s is not None else ""
    detail = " | ".join(line.strip() for line in o.detail.splitlines())
    return f"{head} {wall}{o.status.upper()}: {detail[:240]}"


if __name__ == "__main__":
    raise SystemExit(main())
