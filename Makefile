# The two commands of the README: `make run` and `make test` do all the set-up themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint typecheck unit screenshot stress bench clean

# Qt's X11 plugin needs system libraries a bare Debian lacks: install them (root or sudo -n) or say how.
run: $(VENV)/.installed
	@$(PY) packaging/ensure_qt_libs.py
	$(PY) -m desktop

# lint and typecheck run beside the suite, not before it: mypy's first run in a fresh clone is half a minute of one
# core, and the suite leaves cores idle while it waits on servers, processes and dialogs. Their output comes after
# the suite's; make test fails when either part does. Ctrl+C stops both.
test: $(VENV)/.installed-test
	@log=$$(mktemp); \
	$(MAKE) --no-print-directory lint typecheck >"$$log" 2>&1 & checks=$$!; \
	trap 'kill $$checks 2>/dev/null; rm -f "$$log"; exit 130' INT TERM; \
	$(MAKE) --no-print-directory unit; suite=$$?; \
	wait $$checks; static=$$?; cat "$$log"; rm -f "$$log"; \
	[ $$static -eq 0 ] || echo "make test: lint or type check failed (above)" >&2; \
	[ $$suite -eq 0 ] && [ $$static -eq 0 ]

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# uv (Astral's installer, from PyPI) puts the app and its dependencies into the venv: the packages pip resolves, in
# ~10 s of a fresh clone's make test where pip took ~40 (it fetches and unpacks in parallel). Bytecode compiled as
# pip does, so the app starts without compiling its libraries. Where uv cannot be had or fails, pip does it.
TEST_EXTRAS := .[gui,serve,test]
install = $(PY) -m pip install --quiet uv && $(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e $(1) \
	|| { echo "uv failed: installing with pip" >&2; $(PY) -m pip install --quiet -e $(1); }

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(call install,'.[gui]')
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(call install,'$(TEST_EXTRAS)')
	touch $@ $(VENV)/.installed

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check apikeys desktop tests
	$(VENV)/bin/ruff format --check apikeys desktop tests
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.installed-test
	$(VENV)/bin/mypy

# pytest-xdist: one worker more than there are cores, at most 4 (each starts its own PostgreSQL cluster): the
# suite's tests wait often (on servers, processes, dialogs' timers, locks), and with one worker a core a third of
# two cores' time went idle. Tests marked with the same xdist_group run one after another on one worker
# (--dist loadgroup). TEST_WORKERS=0 runs in this process.
CORES := $(shell env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
TEST_WORKERS ?= $(shell n=$$(( $(CORES) + 1 )); [ $$n -gt 4 ] && n=4; echo $$n)
XDIST = -n $(TEST_WORKERS) --dist loadgroup

# Python caches bytecode here even where the shell sets PYTHONDONTWRITEBYTECODE (some shells and CI images do):
# without the cache each of the suite's Python processes compiles the app's modules again, and each worker the
# tests and pytest's assertion rewriting (~8 s of CPU a worker). `__pycache__` is ignored by git.
CACHE_BYTECODE = env -u PYTHONDONTWRITEBYTECODE

# The suite's temporary files (tmp_path, mkdtemp: its SQLite files, clusters, virtualenvs) in RAM where Linux has
# /dev/shm with 2 GiB free: every SQLite commit waits for the disk (synchronous = FULL, an fsync or two: 2-4 ms
# each on this machine, ~6 for a store test), as the test clusters' would if they did not run with fsync=off.
# The files are the same real files; only the wait for the disk goes. TEST_TMPDIR= keeps the usual /tmp. Not where
# /dev/shm is mounted noexec (hardened systems): the suite runs scripts it writes there (virtualenvs, stubs).
TEST_TMPDIR ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && ! awk '$$2 == "/dev/shm" && $$4 ~ /(^|,)noexec(,|$$)/ { found = 1 } END { exit !found }' /proc/mounts 2>/dev/null && df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 && $$4 > 2097152 { print "/dev/shm" }')
# There pytest keeps only the failed tests' folders of its last three runs: all of a run's are ~290 MB of RAM.
TEST_ENV = $(CACHE_BYTECODE) $(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR)) QT_QPA_PLATFORM=offscreen
KEEP_TMP = $(if $(TEST_TMPDIR),-o tmp_path_retention_policy=failed)

unit: $(VENV)/.installed-test
	$(TEST_ENV) $(PY) -m pytest $(XDIST) $(KEEP_TMP) $(PYTEST_ARGS)

# The README's picture: the real window with sample keys, rendered offscreen.
screenshot: $(VENV)/.installed-test
	QT_QPA_PLATFORM=offscreen $(PY) tests/ui/screenshot.py docs/screenshot.png
	QT_QPA_PLATFORM=offscreen $(PY) tests/ui/screenshot_lifecycle.py docs --only roll
	QT_QPA_PLATFORM=offscreen $(PY) tests/ui/screenshot_usage.py docs --only details

# The crash, concurrency and property suites with big counts (make test runs the same tests with small ones).
# Each test may take up to 20 minutes here (200 killed writers are 200 new processes), not make test's 2.
stress: $(VENV)/.installed-test
	$(TEST_ENV) APIKEYS_STRESS=1 $(PY) -m pytest $(XDIST) $(KEEP_TMP) -p no:cacheprovider -o timeout=1200 tests/core/test_crash.py \
		tests/core/test_concurrency.py tests/cli/test_bad_input.py tests/core/test_sql_verify.py tests/core/test_postgresql.py \
		tests/core/test_query.py::test_a_common_term_in_description_order_pages_through_exactly_the_matching_keys

# Ratios against floors measured in the same run, on a 1,000,000-key database (built once, then reused);
# the PostgreSQL rows on a cluster in build/bench/pg (initdb once, started and stopped by each run); the HTTP rows'
# load generator, autocannon 7, from npm into build/bench/node (once; never a global install).
AUTOCANNON := build/bench/node/node_modules/autocannon/package.json

bench: $(VENV)/.installed-test $(AUTOCANNON)
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.benchmarks.bench --keys 1000000 --database build/bench/keys-1m.db \
		--pg-cluster build/bench/pg --json build/bench/results.json

$(AUTOCANNON):
	npm install --no-audit --no-fund --prefix build/bench/node autocannon@7
	touch $@

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache

# -- packaging (issue 4): `make package` builds dist/apikeys/ and the .deb; `make smoke`
# installs that .deb with `apt install ./…deb` (as root), exercises the installed app, then removes it.
.PHONY: package smoke

$(VENV)/.installed-package: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[gui,package]'
	touch $@ $(VENV)/.installed

package: $(VENV)/.installed-package
	packaging/package.sh $(PY)

smoke: package
	packaging/smoke.sh
