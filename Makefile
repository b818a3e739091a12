# The two commands of the README: `make run` and `make test` do all the set-up themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint typecheck unit screenshot clean

run: $(VENV)/.installed
	$(PY) -m desktop

test: $(VENV)/.installed-test lint typecheck unit

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check desktop tests
	$(VENV)/bin/ruff format --check desktop tests
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.installed-test
	$(VENV)/bin/mypy

unit: $(VENV)/.installed-test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache

# -- packaging (issue 4): `make package` builds dist/apikeys/ and the .deb; `make smoke`
# installs that .deb with dpkg (as root), exercises the installed app, then removes it.
.PHONY: package smoke

$(VENV)/.installed-package: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[package]'
	touch $@ $(VENV)/.installed

package: $(VENV)/.installed-package
	packaging/package.sh $(PY)

smoke: package
	packaging/smoke.sh
