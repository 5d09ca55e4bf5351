# The README's two commands: `make bdd` and `make test`. Both set up everything they need:
# the project's own virtual environment (.venv, made with $(PYTHON)) with pbdd and the
# example's and tests' packages installed into it from PyPI, and the Debian packages the
# suites use (apt-get, when missing). Nothing is installed into $(PYTHON) itself, so Debian's
# own python3 (PEP 668, "externally managed") works as well as any other.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
# The venv's bin first on PATH, as `. .venv/bin/activate` does (tests look for `pbdd` there).
IN_VENV := PATH="$(abspath $(VENV))/bin:$$PATH" VIRTUAL_ENV="$(abspath $(VENV))"

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_GET := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

# .venv remembers which PYTHON made it: another PYTHON remakes it.
empty :=
space := $(empty) $(empty)
VENV_MADE := $(VENV)/.made-with-$(subst $(space),_,$(subst /,_,$(PYTHON)))
VENV_INSTALLED := $(VENV)/.installed

.PHONY: install venv debian consumers browser bdd bdd-postgres screenshot test test-all lint bench clean distclean

install: $(VENV_INSTALLED)
venv: $(VENV_MADE)

# Debian's python3 has no ensurepip until python3-venv is installed: `python3 -m venv`
# then fails ("ensurepip is not available"), and that is the package to install.
$(VENV_MADE):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "no $(PYTHON): set PYTHON=/path/to/python3" >&2; exit 1; }
	@if ! $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1; then \
		echo "$(PYTHON) cannot make a virtual environment (no ensurepip): installing Debian's python3-venv"; \
		command -v apt-get >/dev/null 2>&1 || { echo "no apt-get: install the venv module for $(PYTHON)" >&2; exit 1; }; \
		$(APT_GET) update -q && $(APT_GET) install -y -q python3-venv; \
	fi
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	touch $@

# Re-installed only when the packaging changes (or the venv is new).
$(VENV_INSTALLED): setup.py pyproject.toml $(VENV_MADE)
	$(VPY) -m pip install --quiet --disable-pip-version-check -e '.[example,test]'
	touch $@

# The Debian packages the suites use: the example's browser and its driver, and the servers
# that suites start for themselves (redis-server, postgresql). Never downloaded from anywhere
# but Debian. One `apt-get update` and one `apt-get install` for whatever is missing, nothing
# when all is there. PostgreSQL's programs live in /usr/lib/postgresql/VERSION/bin on Debian.
debian:
	@missing=; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || command -v postgres >/dev/null 2>&1 \
		|| missing="$$missing postgresql"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "no apt-get: install$$missing yourself; the tests that need them are skipped"; exit 0; fi; \
	echo "installing Debian packages:$$missing"; \
	$(APT_GET) update -q && $(APT_GET) install -y -q $$missing

# Kept for those who ran it before: the browser is one of the Debian packages.
browser: debian

# Third-party readers of our Cucumber JSON, used by the report tests (npm registry only).
consumers:
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/consumers --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the Cucumber JSON consumer tests will be skipped"; fi

bdd: install debian
	$(IN_VENV) $(VPY) -m parallel_bdd features -p 4 -v 2

# The same scenarios on PostgreSQL (a database per worker, parallel_bdd.contrib.postgres):
# on the server $PBDD_POSTGRES_DSN names, or else on a cluster started for the run and
# removed after it, as the tests start theirs.
bdd-postgres: install debian
	$(IN_VENV) STORE_DATABASE=postgres $(VPY) examples/with_postgres.py -- \
		$(VPY) -m parallel_bdd features -p 4 -v 2

# The README's picture of the HTML report (docs/html-report.png): the example suite run with
# --html, the report photographed in headless Chromium (examples/report_screenshot.py).
screenshot: install debian
	$(IN_VENV) $(VPY) examples/report_screenshot.py

test: install consumers debian lint
	$(IN_VENV) $(VPY) -m pytest -q

# `make test`, then the same suite on every other supported Python this machine has
# (3.11 to 3.14, found on PATH or under pyenv; noxfile.py), each in its own .nox/ venv.
test-all: test
	$(IN_VENV) $(VPY) -m nox

lint: install
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .

# pbdd against behave, behavex and pytest-bdd + xdist, all installed in bench/.venv by the
# driver itself (see bench/README.md). A full run takes about an hour on 2 cores; a quick
# try: make bench BENCH_ARGS="--scale 0.05 --repeat 1 --out /tmp/results.md"
BENCH_ARGS ?= --repeat 3 --scale 1.0 --out bench/RESULTS.md
# Then four machines on one Redis queue against --shard (bench/queue_machines.py; needs
# redis-server, skipped without it), into its own section of the same file.
BENCH_QUEUE_ARGS ?= --repeat 3 --scale 1.0 --out bench/RESULTS.md
bench: install
	$(VPY) bench/run.py $(BENCH_ARGS)
	$(VPY) bench/queue_machines.py $(BENCH_QUEUE_ARGS)

# Build and run outputs; the venv stays (distclean removes it too).
clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache pbdd-artifacts .scenarios .scenarios.bak bench/work

distclean: clean
	rm -rf $(VENV) .nox bench/.venv tests/consumers/node_modules
