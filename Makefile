# klastergeo: two commands on a fresh clone.
#   make demo   create .venv, install, run the whole pipeline on the embedded demo -> maps/demo/
#   make test   install the dev extras, lint, type-check, build the docs and run the tests
#   make docs   build the docs site (mkdocs, warnings are errors) -> site/
#   make test-fast  the unit tests without real boundaries, browser or slow runs
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
PIP_FLAGS := --quiet --disable-pip-version-check
SHARED_BOUNDARIES := ../shared/data/boundaries

# Real boundaries: an explicit KLASTERGEO_DATA_DIR wins; otherwise use the shared copy beside
# the checkout when it exists; otherwise klastergeo falls back to data/boundaries/.
ifeq ($(origin KLASTERGEO_DATA_DIR), undefined)
  ifneq ($(wildcard $(SHARED_BOUNDARIES)/desa.parquet),)
    export KLASTERGEO_DATA_DIR := $(abspath $(SHARED_BOUNDARIES))
  endif
endif
# Compiled numba kernels (ours, cached by `klastergeo compile` at install, and esda's in the
# tests) stay out of the source tree.
export NUMBA_CACHE_DIR ?= $(abspath .cache/numba)

.PHONY: demo test test-fast docs lint typecheck pytest bench bench-records bench-stats bench-pointpattern bench-map bench-national bench-province bench-periods bench-colocation bench-disclosure bench-placement clean install dev

$(VENV)/.stamp-run: pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install $(PIP_FLAGS) --upgrade pip
	$(PIP) install $(PIP_FLAGS) -c constraints.txt -e .
	$(BIN)/klastergeo compile
	@touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-run
	$(PIP) install $(PIP_FLAGS) -c constraints.txt -e '.[dev]'
	@touch $@

install: $(VENV)/.stamp-run
dev: $(VENV)/.stamp-dev

# The demo, then what it recovered of its planted truth (scored outside the package).
demo: $(VENV)/.stamp-run
	$(BIN)/klastergeo demo --out maps/demo
	$(BIN)/python -m tests.worlds.demo_truth maps/demo

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check src tests benchmarks cli.py
	$(BIN)/ruff format --check src tests benchmarks cli.py

typecheck: $(VENV)/.stamp-dev
	$(BIN)/mypy

pytest: $(VENV)/.stamp-dev
	$(BIN)/pytest -n 2 --dist loadgroup

test: lint typecheck docs pytest

# The docs site (docs/, mkdocs.yml): warnings (a broken link, a docstring griffe cannot
# read) are errors. The option reference is generated from the configuration at build time.
docs: $(VENV)/.stamp-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The quick loop: unit tests without the real boundaries, a browser or slow runs (< 2 min).
test-fast: $(VENV)/.stamp-dev
	$(BIN)/pytest -n 2 --dist loadgroup -q -m "not slow and not boundaries and not browser"

bench: bench-records bench-stats bench-pointpattern bench-map

bench-records: $(VENV)/.stamp-dev
	$(BIN)/python benchmarks/bench_records.py --rows 1000000

bench-stats: $(VENV)/.stamp-dev
	$(BIN)/python benchmarks/bench_stats.py

bench-pointpattern: $(VENV)/.stamp-dev
	$(BIN)/python benchmarks/bench_pointpattern.py

bench-map: $(VENV)/.stamp-dev
	$(BIN)/python benchmarks/bench_map.py

# The whole country at desa level on a synthetic national registry (2.67 M records; about
# 15 minutes). Larger: python benchmarks/bench_national.py --rows 26700000 65000000
bench-national: $(VENV)/.stamp-dev
	$(BIN)/python benchmarks/bench_national.py --rows 2670000

# A province end to end (74,000 firms in Jawa Tengah) against a plain geopandas + esda +
# folium script doing the hot spots and one map; both best of 2 (about 3 minutes).
bench-periods: $(VENV)/.stamp-dev
	$(BIN)/python benchmarks/bench_periods.py --rows 10000000

bench-colocation: $(VENV)/.stamp-dev
	$(BIN)/python benchmarks/bench_colocation.py

bench-disclosure: $(VENV)/.stamp-dev
	$(BIN)/python benchmarks/bench_disclosure.py --firms 2670000

bench-placement: $(VENV)/.stamp-dev
	$(BIN)/python benchmarks/bench_placement.py --records 1000000

bench-province: $(VENV)/.stamp-dev
	$(BIN)/python benchmarks/bench_province.py --rows 74000 --repeat 2

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache maps/demo site
