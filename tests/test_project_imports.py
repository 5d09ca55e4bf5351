"""Real lettuce projects: their own modules on sys.path, before.all's objects in workers."""

from __future__ import annotations

import pytest
from suite_helpers import Run, Suite

START_METHODS = ["spawn", "forkserver", "fork"]


def run_as_console_script(suite: Suite, *args: str) -> Run:
    script_suite = Suite(suite.root, console_script=True)
    return script_suite.run(*args)


def write_project(suite: Suite) -> None:
    """A project whose step file imports its code from the project root, as lettuce allowed."""
    suite.write("mylib.py", "def answer():\n    return 42\n")
    suite.write("myapp/__init__.py", "")
    suite.write(
        "myapp/controllers.py",
        """
        def greet(name):
            return "hello " + name
        """,
    )
    suite.feature(
        "project.feature",
        """
        Feature: The project's own code
          Scenario: A module beside features/
            Then mylib answers 42

          Scenario: A package beside features/
            Then the app greets "ann"
        """,
    )
    suite.steps(
        """
        import mylib
        from lettuce import step
        from myapp.controllers import greet

        @step(r'mylib answers (\\d+)')
        def answers(step, number):
            assert mylib.answer() == int(number)

        @step(r'the app greets "(.*)"')
        def greets(step, name):
            assert greet(name) == "hello " + name
        """
    )


@pytest.mark.parametrize("args", [(), ("-p", "2"), ("-p", "2", "--start-method", "forkserver")])
def test_step_files_import_the_projects_own_modules_under_the_console_script(
    suite: Suite, args: tuple[str, ...]
) -> None:
    write_project(suite)
    run = run_as_console_script(suite, "features", *args)
    assert run.returncode == 0, run.output
    assert "2 scenarios (2 passed)" in run.stdout
    assert "ModuleNotFoundError" not in run.output


def test_terrain_imports_the_projects_own_modules_under_the_console_script(suite: Suite) -> None:
    write_project(suite)
    suite.terrain(
        """
        from lettuce import before, world
        from myapp.controllers import greet

        @before.all
        def remember():
            world.greeting = greet("terrain")
        """
    )
    suite.write(
        "features/more_steps.py",
        """
        from lettuce import step, world

        @step(r'the terrain greeted')
        def greeted(step):
            assert world.greeting == "hello terrain", world.greeting
        """,
    )
    suite.feature(
        "terrain.feature",
        """
        Feature: terrain.py
          Scenario: before.all used the project's code
            Then the terrain greeted
        """,
    )
    run = run_as_console_script(suite, "features", "-p", "2")
    assert run.returncode == 0, run.output
    assert "3 scenarios (3 passed)" in run.stdout


BEFORE_ALL_OBJECTS = """
import os
import socket
import threading
import uuid

import requests
from flask import Flask
from lettuce import before, world

app = Flask(__name__)


@app.route("/")
def index():
    return "stock: 3"


def log(line):
    with open(os.path.join(os.path.dirname(__file__), "before_all.log"), "a") as file:
        file.write(line + "\\n")


@before.all
def plain_values():
    world.token = uuid.uuid4().hex
    log("plain %s %s" % (os.getpid(), world.token))


@before.all
def objects_that_do_not_pickle():
    world.client = app.test_client()
    world.http = requests.Session()
    world.sockets = socket.socketpair()
    world.lock = threading.Lock()
    log("objects %s" % os.getpid())
"""

BEFORE_ALL_STEPS = """
import os
from lettuce import step, world


@step(r'the shop answers "(.*)"')
def shop_answers(step, text):
    response = world.client.get("/")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == text


@step(r'the objects of before.all work')
def objects_work(step):
    with world.lock:
        world.sockets[0].sendall(b"ping")
        assert world.sockets[1].recv(4) == b"ping"
    assert world.http.headers["User-Agent"].startswith("python-requests")
    with open("seen.log", "a") as file:
        file.write("%s %s\\n" % (os.getpid(), world.token))
"""


def write_before_all_suite(suite: Suite) -> None:
    suite.terrain(BEFORE_ALL_OBJECTS)
    suite.steps(BEFORE_ALL_STEPS)
    scenarios = "\n".join(
        f"""
          Scenario: Shop {number}
            Then the shop answers "stock: 3"
            And the objects of before.all work
        """
        for number in range(4)
    )
    suite.feature("shop.feature", "Feature: Objects from before.all\n" + scenarios)


@pytest.mark.parametrize("start_method", START_METHODS)
def test_objects_that_do_not_pickle_from_before_all_reach_every_worker(
    suite: Suite, start_method: str
) -> None:
    write_before_all_suite(suite)
    run = suite.run("features", "-p", "2", "--start-method", start_method)
    assert run.returncode == 0, run.output
    assert "4 scenarios (4 passed)" in run.stdout
    assert "Warning" not in run.output

    log = (suite.root / "before_all.log").read_text().splitlines()
    plain = [line for line in log if line.startswith("plain")]
    objects = [line for line in log if line.startswith("objects")]
    # the hook whose values pickle ran once, in the parent; the other once more per worker
    assert len(plain) == 1
    assert len(objects) == 3
    parent_pid, token = plain[0].split()[1:]
    assert objects[0] == f"objects {parent_pid}"
    worker_pids = {line.split()[1] for line in objects[1:]}
    assert len(worker_pids) == 2 and parent_pid not in worker_pids
    # every worker saw the parent's values, not values of its own
    seen = (suite.root / "seen.log").read_text().splitlines()
    assert len(seen) == 4
    assert {line.split()[1] for line in seen} == {token}
    assert {line.split()[0] for line in seen} <= worker_pids


def test_a_serial_run_calls_before_all_once(suite: Suite) -> None:
    write_before_all_suite(suite)
    run = suite.run("features")
    assert run.returncode == 0, run.output
    log = (suite.root / "before_all.log").read_text().splitlines()
    assert [line.split()[0] for line in log] == ["plain", "objects"]


def test_a_before_all_hook_that_fails_again_in_a_worker_is_reported(suite: Suite) -> None:
    suite.terrain(
        """
        import threading
        from lettuce import before, world

        @before.all
        def start_server():
            if getattr(world, "worker_id", None) is not None:
                raise OSError("address already in use: port 8000")
            world.server = threading.Lock()
        """
    )
    suite.steps(
        """
        from lettuce import step

        @step(r'nothing')
        def nothing(step):
            pass
        """
    )
    suite.feature(
        "one.feature",
        """
        Feature: One
          Scenario: A
            Then nothing
          Scenario: B
            Then nothing
        """,
    )
    run = suite.run("features", "-p", "2")
    assert run.returncode == 2, run.output
    assert "before.all (run again to make world.server)" in run.output
    assert "address already in use: port 8000" in run.output
    assert "Traceback" not in run.stderr.split("HOOK FAILED")[0]


def test_the_project_directory_is_not_added_twice(suite: Suite) -> None:
    suite.steps(
        """
        import os, sys
        from lettuce import step

        @step(r'the path holds the project once')
        def once(step):
            here = os.getcwd()
            entries = [os.path.abspath(entry or os.curdir) for entry in sys.path]
            assert entries.count(here) == 1, sys.path
        """
    )
    suite.feature(
        "path.feature",
        """
        Feature: sys.path
          Scenario: Once
            Then the path holds the project once
        """,
    )
    for args in [(), ("-p", "2")]:
        run = suite.run("features", *args)
        assert run.returncode == 0, run.output
        run = run_as_console_script(suite, "features", *args)
        assert run.returncode == 0, run.output


def test_a_worker_knows_its_id_and_port_while_it_imports_the_suite(suite: Suite) -> None:
    suite.steps(
        """
        import os
        from lettuce import step, world

        # read at import time, as lettuce.django's django_url does in step files
        with open(f"import-{os.getpid()}.txt", "w") as file:
            file.write(f"{getattr(world, 'worker_id', None)} {getattr(world, 'port_number', None)}")

        @step(r'nothing')
        def nothing(step):
            pass
        """
    )
    suite.feature(
        "two.feature",
        "Feature: Two\n  Scenario: a\n    Then nothing\n  Scenario: b\n    Then nothing\n",
    )
    run = suite.run("features", "-p", "2", "--base-port", "9300")
    assert run.returncode == 0, run.output
    seen = sorted(path.read_text() for path in suite.root.glob("import-*.txt"))
    # the parent imports the suite too, before any worker id or port is set
    assert seen == ["0 9301", "1 9302", "None None"]


def test_a_step_file_named_like_a_project_module_does_not_shadow_it(suite: Suite) -> None:
    suite.write("first/__init__.py", 'WHAT = "the project package"\n')
    suite.steps(
        """
        from lettuce import step

        @step(r'the step file named first has loaded')
        def loaded(step):
            pass
        """,
        name="first.py",
    )
    suite.steps(
        """
        import first
        from lettuce import step

        @step(r'"first" is the project package')
        def is_package(step):
            assert getattr(first, "WHAT", None) == "the project package", first.__file__
        """
    )
    suite.feature(
        "first.feature",
        """
        Feature: Names
          Scenario: A step file and a package with one name
            Given the step file named first has loaded
            Then "first" is the project package
        """,
    )
    for args in [(), ("-p", "2")]:
        run = suite.run("features", "--no-history", *args)
        assert run.returncode == 0, run.output
        run = run_as_console_script(suite, "features", "--no-history", *args)
        assert run.returncode == 0, run.output
