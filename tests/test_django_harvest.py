"""``python manage.py harvest`` end to end, on a temporary copy of ``examples/django_shop``.

Each test runs harvest as a user does (a subprocess in the project directory) and checks
what it left: scenarios passed, each worker on its own database, port and browser, the
harvest hooks fired once in the command's process, nothing left behind after a passing
run, a failing run and Ctrl-C, one clear error for bad input.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import postgres_fixture  # noqa: F401  (the fixture "postgres")

from parallel_bdd.contrib.selenium import BrowserNotInstalled, find_executables

pytest.importorskip("django")

try:
    find_executables()
    HAVE_CHROMIUM = True
except BrowserNotInstalled:
    HAVE_CHROMIUM = False
needs_chromium = pytest.mark.skipif(not HAVE_CHROMIUM, reason="chromium/chromedriver not installed")

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "django_shop"

PROBE_FEATURE = """
@probe
Feature: Probe
  Scenario Outline: A worker's rows stay in its database
    Given I have products in the database:
      | name   | price | stock |
      | <name> | 1.00  | 1     |
    When every worker has started a probe
    Then I record what this worker sees as "<name>"

    Examples:
      | name  |
      | Alpha |
      | Beta  |
"""

PROBE_STEPS = '''
import json, os, time
from pathlib import Path
from urllib.request import urlopen

from django.db import connection
from lettuce import step, world
from lettuce.django import django_url

from catalog.models import Product

PROBES = Path(os.environ["PROBE_DIR"])


def wait_for(condition, what):
    """Until condition() holds (another worker's file appears); fails after a minute."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.02)


@step(r"every worker has started a probe")
def barrier(step):
    (PROBES / f"started-{os.getpid()}").write_text("")
    if os.environ.get("PROBE_BLOCK"):
        wait_for(lambda: (PROBES / "release").exists(), "the release file")
    workers = int(os.environ.get("PROBE_WORKERS", "1"))
    wait_for(lambda: len(list(PROBES.glob("started-*"))) >= workers, "the other worker")


@step(r'I record what this worker sees as "([^"]*)"')
def record(step, name):
    try:
        with urlopen(django_url("/products/"), timeout=30) as response:
            page = response.read().decode()
    except OSError as error:
        page = f"no server: {error}"
    seen = {
        "worker": getattr(world, "worker_id", None),
        "port": world.port_number,
        "server": f"{os.environ.get('SERVER_NAME')}:{os.environ.get('SERVER_PORT')}",
        "url": django_url("/products/"),
        "database": str(connection.settings_dict["NAME"]),
        "rows": sorted(Product.objects.values_list("name", flat=True)),
        "page": page,
    }
    (PROBES / f"{name}.json").write_text(json.dumps(seen))
'''


def free_base_port(count: int = 3) -> int:
    """A port P with P..P+count free on 127.0.0.1 (the serial port and the workers')."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count < 65000 and all(_free(base + i) for i in range(count + 1)):
            return base
    raise RuntimeError("no free range of ports")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Shop:
    """A copy of the example project with the probe feature, and how to run harvest in it."""

    def __init__(self, root: Path) -> None:
        shutil.copytree(
            EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", "db.sqlite3", ".scenarios")
        )
        self.root = root
        self.probes = root.parent / "probes"
        self.probes.mkdir()
        self.tmp = root.parent / "tmp"
        self.tmp.mkdir()
        self.port = free_base_port()
        self.extra_env: dict[str, str] = {}

    def add_probe(self, keep_rows: bool = True) -> None:
        features = self.root / "catalog" / "features"
        (features / "probe.feature").write_text(textwrap.dedent(PROBE_FEATURE).lstrip())
        (features / "probe_steps.py").write_text(PROBE_STEPS.lstrip())
        if keep_rows:  # no flush between scenarios: a row that leaked would be seen
            (self.root / "terrain.py").write_text('"""No shared set-up."""\n')

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env["PROBE_DIR"] = str(self.probes)
        env["TMPDIR"] = str(self.tmp)
        env.pop("NO_COLOR", None)
        env.update(self.extra_env)
        return env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "manage.py", "harvest", "--no-history", "-P", str(self.port), *args]

    def harvest(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )

    def seen(self) -> dict[str, dict]:
        return {path.stem: json.loads(path.read_text()) for path in self.probes.glob("*.json")}

    def leftovers(self) -> list[str]:
        """Test database files or directories harvest made and did not remove."""
        return [p.name for p in self.tmp.iterdir()] + [p.name for p in self.root.rglob("*.sqlite3")]

    def ports_free(self, processes: int) -> bool:
        ports = [self.port] if processes == 1 else [self.port + 1 + i for i in range(processes)]
        return all(_free(port) for port in ports)


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return Shop(tmp_path / "shop")


def output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


# -- the example passes, serial and in parallel -----------------------------------------
@pytest.mark.parametrize("processes", ["1", "2"])
def test_example_scenarios_without_a_browser_pass_serial_and_parallel(
    shop: Shop, processes: str
) -> None:
    done = shop.harvest("-p", processes, "-v", "2", "--tag=-browser")
    assert done.returncode == 0, output(done)
    assert "4 scenarios (4 passed)" in done.stdout
    assert "Chromium" not in output(done)
    assert shop.leftovers() == []
    assert shop.ports_free(int(processes))


RUN_MARKER = "PBDD_DJANGO_SHOP_RUN"


def processes_with_marker(token: str) -> list[int]:
    """Live processes whose environment carries ``RUN_MARKER=token`` (Chromium and
    chromedriver inherit it from the worker that started them)."""
    wanted = f"{RUN_MARKER}={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if b"Z" in (entry / "stat").read_bytes().rsplit(b")", 1)[1][:3]:
                continue  # a zombie: already dead, waiting for its parent
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temporary directory with a short path. Chromium's profile lock is a Unix socket
    under $TMPDIR, whose path may not exceed 107 bytes: under pytest's deep directories
    Chromium exits at once ("session not created: Chrome instance exited")."""
    path = Path(tempfile.mkdtemp(prefix="shop-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@needs_chromium
@pytest.mark.browser
@pytest.mark.parametrize("processes", ["1", "2"])
def test_the_whole_example_passes_with_its_browser_page_serial_and_parallel(
    shop: Shop, short_tmp: Path, processes: str
) -> None:
    shop.tmp = short_tmp  # harvest's and Chromium's temporary files, checked below
    token = uuid.uuid4().hex
    shop.extra_env[RUN_MARKER] = token
    done = shop.harvest("-p", processes, "-v", "2")
    assert done.returncode == 0, output(done)
    assert "A message reaches the shop by e-mail ... OK" in done.stdout
    assert "The form asks for an address to answer to ... OK" in done.stdout
    assert "6 scenarios (6 passed)" in done.stdout
    assert "3 apps (3 passed)" in done.stdout
    assert "  contact: 1 feature (1 passed), 2 scenarios (2 passed)" in done.stdout
    assert shop.leftovers() == [] and shop.ports_free(int(processes))
    if Path("/proc/self/environ").exists():  # each worker closed its browser
        assert processes_with_marker(token) == []


# -- before.harvest / after.harvest and the Test Suite Summary --------------------------------
HARVEST_HOOKS_TERRAIN = """
import json, os
from pathlib import Path

from lettuce import after, before
from lettuce.django.steps.models import clean_db

before.each_scenario(clean_db)
LOG = Path(os.environ["PROBE_DIR"]) / "harvest.jsonl"
FAIL = os.environ.get("FAIL_HARVEST_HOOK", "")


def log(**entry):
    with LOG.open("a") as file:
        file.write(json.dumps(dict(entry, pid=os.getpid(), ppid=os.getppid())) + "\\n")


@before.harvest
def began(variables):
    log(
        hook="before",
        paths=variables["paths"],
        processes=variables["processes"],
        apps_to_run=list(variables["apps_to_run"]),
        options=variables["options"]["processes"],
    )
    if FAIL == "before":
        raise RuntimeError("before.harvest broke")


@after.harvest
def ended(results):
    log(
        hook="after",
        count=len(results),
        apps=[[r.app, r.path, r.scenarios_ran, r.scenarios_passed, r.steps] for r in results],
        scenarios=results.scenarios_ran,
        steps=results.steps,
        features=results.features_ran_overall,
    )
    if FAIL == "after":
        raise RuntimeError("after.harvest broke")
"""

TWO_APPS_SUMMARY = """
Test Suite Summary:
2 apps (2 passed)
2 features (2 passed)
4 scenarios (4 passed)
19 steps (19 passed)
  catalog: 1 feature (1 passed), 2 scenarios (2 passed), 8 steps (8 passed)
  orders: 1 feature (1 passed), 2 scenarios (2 passed), 11 steps (11 passed)
"""


def harvest_log(shop: Shop) -> list[dict]:
    path = shop.probes / "harvest.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def hooked_shop(shop: Shop) -> Shop:
    (shop.root / "terrain.py").write_text(HARVEST_HOOKS_TERRAIN.lstrip())
    return shop


@pytest.mark.parametrize("processes", ["1", "2"])
def test_harvest_hooks_fire_once_in_the_command_with_each_apps_results(
    hooked_shop: Shop, processes: str
) -> None:
    done = hooked_shop.harvest("-p", processes, "-a", "catalog,orders")
    assert done.returncode == 0, output(done)
    before, after = harvest_log(hooked_shop)  # once each, not once per worker
    assert before["pid"] == after["pid"] and before["ppid"] == os.getpid()
    assert before["hook"] == "before" and after["hook"] == "after"
    assert before["paths"] == ["catalog/features", "orders/features"]
    assert before["processes"] == before["options"] == int(processes)
    assert before["apps_to_run"] == ["catalog", "orders"]
    assert after["count"] == 2
    assert after["apps"] == [
        ["catalog", "catalog/features", 2, 2, 8],
        ["orders", "orders/features", 2, 2, 11],
    ]
    assert (after["scenarios"], after["steps"], after["features"]) == (4, 19, 2)
    summary = done.stdout.index(TWO_APPS_SUMMARY)
    assert summary > done.stdout.index("Ran 4 scenarios")  # after pbdd's own summary


EACH_APP_TERRAIN = """
import json, os
from pathlib import Path

from lettuce import after, before, world
from lettuce.django.steps.models import clean_db

before.each_scenario(clean_db)
LOG = Path(os.environ["PROBE_DIR"]) / "apps.jsonl"


def log(**entry):
    with LOG.open("a") as file:
        file.write(json.dumps(dict(entry, pid=os.getpid())) + "\\n")


@before.each_app
def set_app_name(app):
    world.app_name = app.__name__
    log(hook="before", app=app.__name__)


@after.each_app
def app_done(app, result):
    log(hook="after", app=app.__name__, ran=result.scenarios_ran, ok=result.scenarios_passed)


@before.each_scenario
def which_app(scenario):
    log(hook="scenario", app=world.app_name, file=scenario.feature.described_at.file)
"""


def app_log(shop: Shop) -> list[dict]:
    return [json.loads(line) for line in (shop.probes / "apps.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("processes", ["1", "2"])
def test_each_app_hooks_bracket_each_apps_scenarios_in_the_process_that_runs_them(
    shop: Shop, processes: str
) -> None:
    (shop.root / "terrain.py").write_text(EACH_APP_TERRAIN.lstrip())
    done = shop.harvest("-p", processes, "-a", "catalog,orders")
    assert done.returncode == 0, output(done)
    entries = app_log(shop)
    scenarios = [entry for entry in entries if entry["hook"] == "scenario"]
    assert len(scenarios) == 4
    for entry in scenarios:  # world.app_name, set by before.each_app, is the feature's app
        assert entry["file"].startswith(f"{entry['app']}/features/"), entry
    by_process: dict[int, list[dict]] = {}
    for entry in entries:
        by_process.setdefault(entry["pid"], []).append(entry)
    ran = {"catalog": 0, "orders": 0}
    for stream in by_process.values():  # in each process: before, its scenarios, after
        current = None
        for entry in stream:
            if entry["hook"] == "before":
                assert current is None, stream
                current, count = entry["app"], 0
            elif entry["hook"] == "scenario":
                assert entry["app"] == current, stream
                count += 1
            else:
                assert (entry["app"], entry["ran"], entry["ok"]) == (current, count, count)
                ran[current] += count
                current = None
        assert current is None, stream  # the last stretch ended with the batch
    assert ran == {"catalog": 2, "orders": 2}
    if processes == "1":  # one process, the files' order: each app once, as in lettuce
        assert [(e["hook"], e["app"]) for e in entries if e["hook"] != "scenario"] == [
            ("before", "catalog"),
            ("after", "catalog"),
            ("before", "orders"),
            ("after", "orders"),
        ]


def test_a_path_belongs_to_no_app_and_fires_no_each_app_hook(shop: Shop) -> None:
    (shop.root / "terrain.py").write_text(
        EACH_APP_TERRAIN.replace(
            "app=world.app_name", "app=getattr(world, 'app_name', None)"
        ).lstrip()
    )
    done = shop.harvest("catalog/features")
    assert done.returncode == 0, output(done)
    assert {entry["hook"] for entry in app_log(shop)} == {"scenario"}  # as in lettuce


SEEDED_TERRAIN = """
from lettuce import before

from catalog.models import Product


@before.harvest
def seed_for_the_harvest(variables):
    Product.objects.create(name="from before.harvest", price=1)


@before.all
def seed_for_the_run():
    Product.objects.create(name="from before.all", price=2)
"""

SEEDED_FEATURE = """
Feature: Seeded
  Scenario: the hooks' rows
    Then the rows the hooks wrote are in this test database
  Scenario: the hooks' rows again
    Then the rows the hooks wrote are in this test database
"""

SEEDED_STEPS = """
from pathlib import Path

from django.db import connection
from lettuce import step

from catalog.models import Product


@step(r"the rows the hooks wrote are in this test database")
def seeded(step):
    names = sorted(Product.objects.values_list("name", flat=True))
    where = connection.settings_dict["NAME"]
    assert names == ["from before.all", "from before.harvest"], (names, where)
    assert Path(str(where)).name.startswith("test_"), where  # not the project's database
"""


@pytest.mark.parametrize("processes", ["1", "2"])
def test_with_T_what_the_hooks_write_is_in_every_test_database(shop: Shop, processes: str) -> None:
    # lettuce made the test database before before.harvest, and each run's before.all wrote
    # into it; with workers, each clone is made after the suite's before.all
    (shop.root / "terrain.py").write_text(SEEDED_TERRAIN.lstrip())
    features = shop.root / "catalog" / "features"
    (features / "seeded.feature").write_text(SEEDED_FEATURE.lstrip())
    (features / "seeded_steps.py").write_text(SEEDED_STEPS.lstrip())
    done = shop.harvest("-T", "-p", processes, "catalog/features/seeded.feature")
    assert done.returncode == 0, output(done)
    assert "2 scenarios (2 passed)" in done.stdout
    assert shop.leftovers() == []


def test_one_app_has_no_test_suite_summary_but_its_hooks(hooked_shop: Shop) -> None:
    done = hooked_shop.harvest("-a", "catalog")
    assert done.returncode == 0, output(done)
    assert "Test Suite Summary" not in done.stdout
    before, after = harvest_log(hooked_shop)
    assert before["paths"] == ["catalog/features"]
    assert after["apps"] == [["catalog", "catalog/features", 2, 2, 8]]


def test_paths_are_summed_up_one_line_each(hooked_shop: Shop) -> None:
    paths = ["catalog/features", "orders/features/ordering.feature"]
    done = hooked_shop.harvest(*paths)
    assert done.returncode == 0, output(done)
    assert "Test Suite Summary:\n2 paths (2 passed)\n" in done.stdout
    assert "  orders/features/ordering.feature: 1 feature (1 passed)" in done.stdout
    _, after = harvest_log(hooked_shop)
    assert [app[:2] for app in after["apps"]] == [[path, path] for path in paths]


def test_a_failing_before_harvest_runs_nothing(hooked_shop: Shop) -> None:
    hooked_shop.extra_env["FAIL_HARVEST_HOOK"] = "before"
    done = hooked_shop.harvest("-p", "2")
    assert done.returncode == 2, output(done)
    assert "HOOK FAILED: before.harvest: RuntimeError: before.harvest broke" in done.stdout
    assert 'terrain.py", line' in done.stdout  # the user's traceback
    assert "Error: before.harvest failed; nothing ran." in done.stderr
    assert "scenarios (" not in done.stdout
    assert [entry["hook"] for entry in harvest_log(hooked_shop)] == ["before"]
    assert hooked_shop.leftovers() == [] and hooked_shop.ports_free(2)


def test_a_failing_after_harvest_fails_the_run(hooked_shop: Shop) -> None:
    hooked_shop.extra_env["FAIL_HARVEST_HOOK"] = "after"
    done = hooked_shop.harvest("-a", "catalog")
    assert done.returncode == 1, output(done)
    assert "2 scenarios (2 passed)" in done.stdout
    assert "HOOK FAILED: after.harvest: RuntimeError: after.harvest broke" in done.stdout
    assert hooked_shop.leftovers() == []


# -- a database and a server per worker ---------------------------------------------------
def test_each_worker_has_its_own_database_and_server(shop: Shop) -> None:
    shop.add_probe()
    shop.extra_env["PROBE_WORKERS"] = "2"
    done = shop.harvest("-p", "2", "-a", "catalog", "-t", "probe")
    assert done.returncode == 0, output(done)
    seen = shop.seen()
    assert set(seen) == {"Alpha", "Beta"}
    assert {seen["Alpha"]["worker"], seen["Beta"]["worker"]} == {0, 1}
    for name, probe in seen.items():
        assert probe["rows"] == [name]  # the other scenario's row is in the other database
        assert f'<li class="product">{name}:' in probe["page"]  # the server: same database
        assert probe["port"] == shop.port + 1 + probe["worker"]
        assert probe["url"] == f"http://127.0.0.1:{probe['port']}/products/"
        assert probe["server"] == f"127.0.0.1:{probe['port']}"  # lettuce's environment
    assert seen["Alpha"]["database"] != seen["Beta"]["database"]
    assert shop.leftovers() == [] and shop.ports_free(2)


def test_serial_run_serves_on_the_port_given_by_P(shop: Shop) -> None:
    shop.add_probe(keep_rows=False)
    done = shop.harvest("-a", "catalog", "-t", "probe", "-n", "stay")
    assert done.returncode == 0, output(done)
    for probe in shop.seen().values():
        assert probe["port"] == shop.port
        assert probe["url"] == f"http://127.0.0.1:{shop.port}/products/"
        assert probe["server"] == f"127.0.0.1:{shop.port}"  # lettuce's environment


def test_no_server_with_S(shop: Shop) -> None:
    shop.add_probe(keep_rows=False)
    with socket.socket() as taken:  # -S must not even look at the port
        taken.bind(("127.0.0.1", shop.port))
        taken.listen()
        done = shop.harvest("-S", "-a", "catalog", "-t", "probe")
    assert done.returncode == 0, output(done)
    assert all(probe["page"].startswith("no server") for probe in shop.seen().values())


def test_test_database_only_with_T_or_the_setting(shop: Shop) -> None:
    shop.add_probe(keep_rows=False)
    shop.extra_env["SHOP_USE_TEST_DATABASE"] = "0"
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=shop.root,
        env=shop.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, output(migrate)
    done = shop.harvest("-a", "catalog", "-t", "probe")
    assert done.returncode == 0, output(done)
    assert {Path(p["database"]).name for p in shop.seen().values()} == {"db.sqlite3"}
    done = shop.harvest("-T", "-a", "catalog", "-t", "probe")
    assert done.returncode == 0, output(done)
    assert {Path(p["database"]).name for p in shop.seen().values()} == {"test_default.sqlite3"}
    assert [p.name for p in shop.tmp.iterdir()] == []


# -- which apps ------------------------------------------------------------------------------
def test_apps_and_avoid_apps_choose_the_features(shop: Shop) -> None:
    only = shop.harvest("-a", "catalog", "--dry-run")
    assert only.returncode == 0, output(only)
    assert "catalog/features/products.feature" in only.stdout
    assert "orders/features" not in only.stdout
    avoid = shop.harvest("-A", "catalog", "--dry-run")
    assert avoid.returncode == 0, output(avoid)
    assert "orders/features/ordering.feature" in avoid.stdout
    assert "catalog/features" not in avoid.stdout


# -- which scenarios -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "tag_options",
    [["-t", "-browser", "-t", "-slow"], ["--tag", "-browser", "--tag", "-slow"]],
    ids=["t", "tag"],
)
def test_t_followed_by_an_excluded_tag_leaves_its_scenarios_out_as_in_lettuce(
    shop: Shop, tag_options: list[str]
) -> None:
    # lettuce's optparse took the word after -t as its value; argparse alone reads it as an option
    feature = shop.root / "catalog" / "features" / "products.feature"
    feature.write_text(
        feature.read_text().replace(
            "  Scenario: Products in stock", "  @slow\n  Scenario: Products in stock"
        )
    )
    done = shop.harvest("-v", "2", *tag_options)
    assert done.returncode == 0, output(done)
    assert "3 scenarios (3 passed)" in done.stdout
    for ran in [
        "An empty shop says so",
        "An order is confirmed by e-mail",
        "The form refuses more than the stock",
    ]:
        assert f"{ran} ... OK" in done.stdout
    for left_out in [
        "Products in stock are listed",  # @slow
        "A message reaches the shop by e-mail",  # @browser, the feature's tag
        "The form asks for an address to answer to",
    ]:
        assert left_out not in done.stdout


# -- nothing left behind ---------------------------------------------------------------------
def test_failing_run_leaves_nothing(shop: Shop) -> None:
    feature = shop.root / "orders" / "features" / "ordering.feature"
    feature.write_text(feature.read_text().replace("I have sent 1 email", "I have sent 3 emails"))
    done = shop.harvest("-p", "2", "--tag=-browser")
    assert done.returncode == 1, output(done)
    assert "e-mails were sent, not 3" in done.stdout
    assert shop.leftovers() == [] and shop.ports_free(2)


def test_ctrl_c_leaves_nothing(shop: Shop) -> None:
    shop.add_probe()
    shop.extra_env.update(PROBE_WORKERS="1", PROBE_BLOCK="1")
    process = subprocess.Popen(
        shop.command("-p", "2", "-a", "catalog", "-t", "probe"),
        cwd=shop.root,
        env=shop.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(shop.probes.glob("started-*")):  # a step is running in a worker
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGINT)
        (shop.probes / "release").write_text("")
        out, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, out
    assert shop.leftovers() == [] and shop.ports_free(2)


# -- step files named like an app ---------------------------------------------------------
FIRST_FEATURE = """
Feature: An app whose step file has its name
  Scenario: Both the app and its step file load
    Given the step file named first has loaded
    Then "first" is the app
"""


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_step_file_named_like_its_app_loads_and_the_app_stays_the_app(
    shop: Shop, processes: str
) -> None:
    app = shop.root / "first"
    (app / "features").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "helpers.py").write_text('WHAT = "the first app"\n')
    (app / "features" / "first.feature").write_text(textwrap.dedent(FIRST_FEATURE).lstrip())
    (app / "features" / "first.py").write_text(
        "from lettuce import step\n\n"
        '@step(r"the step file named first has loaded")\n'
        "def loaded(step):\n    pass\n"
    )
    (app / "features" / "steps.py").write_text(
        "import importlib\n\nfrom lettuce import step\n\n"
        "@step(r'\"first\" is the app')\n"
        "def is_the_app(step):\n"
        '    first = importlib.import_module("first")\n'
        '    assert first.__file__.endswith("first/__init__.py"), first.__file__\n'
        '    assert importlib.import_module("first.helpers").WHAT == "the first app"\n'
    )
    settings = shop.root / "shop_site" / "settings.py"
    settings.write_text(
        settings.read_text().replace('    "orders",\n', '    "orders",\n    "first",\n')
    )
    done = shop.harvest("-p", processes, "-a", "first", "-v", "2")
    assert done.returncode == 0, output(done)
    assert "1 scenario (1 passed)" in done.stdout


# -- bad input: one clear error, exit 2 ------------------------------------------------------
def test_app_not_installed_is_an_error(shop: Shop) -> None:
    done = shop.harvest("-a", "nosuchapp")
    assert done.returncode == 2
    assert "app 'nosuchapp' is not in INSTALLED_APPS" in done.stderr
    assert "Traceback" not in output(done)


@pytest.mark.parametrize("arguments", [[], ["-p", "2", "features"]])
def test_django_admin_harvest_outside_a_project_is_djangos_own_error(
    tmp_path: Path, arguments: list[str]
) -> None:
    django_admin = Path(sys.executable).parent / "django-admin"
    command = [str(django_admin)] if django_admin.exists() else [sys.executable, "-m", "django"]
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [*command, "harvest", *arguments],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, output(done)
    assert "No Django settings specified." in done.stderr
    assert "Unknown command: 'harvest'" in done.stderr
    assert "Traceback" not in output(done)
    assert list(tmp_path.iterdir()) == []


def test_port_in_use_is_an_error(shop: Shop) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", shop.port + 1))
        taken.listen()
        done = shop.harvest("-p", "2")
    assert done.returncode == 2
    assert f"port {shop.port + 1} on 127.0.0.1 is in use" in done.stderr
    assert "Traceback" not in output(done)
    assert shop.leftovers() == []


@pytest.mark.parametrize("settings_module", ["", "shop_site.settings"])
def test_a_django_projects_features_run_without_harvest_is_one_error(
    shop: Shop, settings_module: str
) -> None:
    env = shop.env()
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if settings_module:  # settings, but nobody set Django up
        env["DJANGO_SETTINGS_MODULE"] = settings_module
    done = subprocess.run(
        [sys.executable, "-m", "parallel_bdd", "catalog/features", "--no-history"],
        cwd=shop.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, output(done)
    why = "Django's apps are not loaded" if settings_module else "DJANGO_SETTINGS_MODULE is not set"
    assert why in done.stderr
    assert "python manage.py harvest [PATHS]" in done.stderr
    assert "Traceback" not in output(done)


def test_postgresql_unreachable_is_one_error_with_the_password_masked(shop: Shop) -> None:
    with socket.socket() as probe:  # a port nothing listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    shop.extra_env.update(
        SHOP_PG_PORT=str(port), SHOP_PG_HOST="127.0.0.1", SHOP_PG_PASSWORD="pw-s3cret"
    )
    done = shop.harvest("-T", "-p", "2")
    assert done.returncode == 2, output(done)
    assert f"PostgreSQL at 127.0.0.1:{port} (database 'default'" in done.stderr
    assert f"postgres:***@127.0.0.1:{port}/shop" in done.stderr
    assert "pw-s3cret" not in output(done)
    assert "Traceback" not in output(done)
    assert "Warning" not in output(done)
    assert shop.leftovers() == [] and shop.ports_free(2)


# -- PostgreSQL --------------------------------------------------------------------------------
@pytest.mark.slow
def test_postgresql_clone_per_worker_and_nothing_left(shop: Shop, postgres) -> None:
    shop.add_probe()
    shop.extra_env.update(
        SHOP_PG_PORT=str(postgres.port), SHOP_PG_HOST=postgres.host, PROBE_WORKERS="2"
    )
    done = shop.harvest("-p", "2", "-a", "catalog", "-t", "probe")
    assert done.returncode == 0, output(done)
    seen = shop.seen()
    assert {seen["Alpha"]["worker"], seen["Beta"]["worker"]} == {0, 1}
    for name, probe in seen.items():
        assert probe["rows"] == [name]
        assert probe["database"].startswith("test_shop_w")
    assert postgres.databases("test_") == []
    shutil.copy(EXAMPLE / "terrain.py", shop.root / "terrain.py")  # tables flushed again
    full = shop.harvest("-p", "2", "--tag=-browser")
    assert full.returncode == 0, output(full)
    assert "6 scenarios (6 passed)" in full.stdout
    assert postgres.databases("test_") == []


EXPOSURE_FEATURE = """
@exposure
Feature: Exposure
  Scenario: The live server answers on the loopback address only
    Then the server answers on 127.0.0.1 but not on this host's other address
"""

EXPOSURE_STEPS = """
import os, socket
from urllib.parse import urlsplit

from lettuce import step
from lettuce.django import django_url


@step(r"the server answers on 127.0.0.1 but not on this host's other address")
def loopback_only(step):
    port = urlsplit(django_url("/")).port
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    other = os.environ["OTHER_ADDRESS"]
    try:
        socket.create_connection((other, port), timeout=5).close()
    except OSError:
        return  # refused (or unreachable): nothing outside this machine's loopback gets in
    raise AssertionError(f"the live server answers on {other}:{port}")
"""


def _other_address() -> str | None:
    """This host's address on its default route, if it has one besides the loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@pytest.mark.parametrize("processes", ["1", "2"])
def test_the_live_server_binds_the_loopback_address_only(shop: Shop, processes: str) -> None:
    other = _other_address()
    if other is None:
        pytest.skip("this machine has no address besides the loopback")
    features = shop.root / "catalog" / "features"
    (features / "exposure.feature").write_text(textwrap.dedent(EXPOSURE_FEATURE).lstrip())
    (features / "exposure_steps.py").write_text(EXPOSURE_STEPS.lstrip())
    shop.extra_env["OTHER_ADDRESS"] = other
    done = shop.harvest("-p", processes, "-a", "catalog", "-t", "exposure")
    assert done.returncode == 0, output(done)
    assert "1 scenario (1 passed)" in done.stdout


def test_lettuces_report_flags_on_harvest(shop: Shop) -> None:
    pytest.importorskip("subunit")
    done = shop.harvest("-a", "catalog", "--with-subunit")
    assert done.returncode == 0, output(done)
    assert (shop.root / "subunit.bin").stat().st_size > 0  # lettuce's default file
    refused = shop.harvest("-a", "catalog", "--with-jsonreport")
    assert refused.returncode == 2
    assert "lettuce's JSON report is not written by pbdd; use --cucumber-json" in output(refused)
    assert "Traceback" not in output(refused)
