# Two commands: `make demo` renders the demo report, `make test` runs the whole test suite.
# Both create .venv and install what they need on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/csatkit demo

browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
	    echo "chromium not installed and not root: browser tests will be skipped"; }

test: $(STAMP) browser
	$(BIN)/python -m pytest -n 2 tests

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow" tests

bench: $(STAMP)
	cd bench && for b in bench_periods.py bench_load.py bench_drivers.py bench_report.py; do \
	  echo "== $$b"; ../$(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) reports/*/ reports/index.html
