# Two commands on a fresh machine: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := chromium fonts-noto-cjk poppler-utils

.PHONY: install install-browser demo test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (set PYTHON=...)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

## install: create .venv and install aicity with its test tools (idempotent)
install: $(STAMP)

## install-browser: Debian's chromium (PDF reports, browser tests), CJK fonts and pdftotext.
## Never a downloaded browser. Without root or sudo it says what to install and goes on;
## the browser tests then skip with that message.
install-browser:
	@if command -v chromium >/dev/null && command -v pdftotext >/dev/null && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  echo "chromium, fonts-noto-cjk and poppler-utils are installed"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null) \
	    || echo "warning: could not install $(APT_PACKAGES); PDF reports and browser tests will be skipped"; \
	elif command -v sudo >/dev/null; then \
	  (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null) \
	    || echo "warning: could not install $(APT_PACKAGES); PDF reports and browser tests will be skipped"; \
	else \
	  echo "warning: install Debian's $(APT_PACKAGES) for PDF reports and browser tests"; \
	fi

## demo: build the bundled Global AI City Index, print the top 10 and Seoul against Tokyo,
## write out/ (results, and the Seoul-Tokyo report in Korean, English and Japanese)
demo: install install-browser
	$(VENV)/bin/aicity build --out out --versus Seoul,Tokyo
	$(VENV)/bin/aicity report --compare Seoul Tokyo --lang ko --out out/report-ko
	$(VENV)/bin/aicity report --compare Seoul Tokyo --lang en --out out/report-en
	$(VENV)/bin/aicity report --compare Seoul Tokyo --lang ja --out out/report-ja

## test: lint, then every test
test: install install-browser
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -q

## bench: speed benchmarks (print figures; no pass/fail). wrk (Debian) drives the API load test.
bench: install
	@command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || true
	$(PY) benchmarks/bench_build.py
	$(PY) benchmarks/bench_uncertainty.py
	$(PY) benchmarks/bench_api.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
