# Two commands on a fresh machine: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (set PYTHON=...)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

## install: create .venv and install aicity with its test tools (idempotent)
install: $(STAMP)

## demo: build the bundled Global AI City Index, print the top 10 and Seoul vs Tokyo, write out/
demo: install
	$(VENV)/bin/aicity build --out out --versus Seoul,Tokyo

## test: lint, then every test
test: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -q

## bench: speed benchmarks (print figures; no pass/fail)
bench: install
	$(PY) benchmarks/bench_build.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
