# The README's two commands: `make bdd` and `make test`. Both install what they need.
PYTHON ?= python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PIP := $(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore

.PHONY: install consumers browser bdd test lint bench clean

install:
	$(PIP) -e '.[example,test]'

# Third-party readers of our Cucumber JSON, used by the report tests (npm registry only).
consumers:
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/consumers --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the Cucumber JSON consumer tests will be skipped"; fi

# Debian's chromium and chromium-driver; nothing downloads a browser from elsewhere.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; else \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver; fi

bdd: install browser
	$(PYTHON) -m parallel_bdd features -p 4 -v 2

test: install consumers browser lint
	$(PYTHON) -m pytest -q

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

# pbdd against behave, behavex and pytest-bdd + xdist, all installed in bench/.venv by the
# driver itself (see bench/README.md). A full run takes about an hour on 2 cores; a quick
# try: make bench BENCH_ARGS="--scale 0.05 --repeat 1 --out /tmp/results.md"
BENCH_ARGS ?= --repeat 3 --scale 1.0 --out bench/RESULTS.md
bench:
	$(PYTHON) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache pbdd-artifacts .scenarios .scenarios.bak bench/work
