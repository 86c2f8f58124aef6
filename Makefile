# Two commands do all the set-up on a fresh machine with Python 3.10+:
#   make reproduce   create .venv, install alsmeta, regenerate every analysis into figures/
#   make test        create/update .venv with the test extra and run the test suite
#   make lint        the gates: ruff (lint and format check), mypy and the import layers (lint extra)
#   make report      build report/index.html (the reproduction as one web page) from figures/ and data/
#   make check-reproducible   run every analysis twice into scratch folders and diff the bytes
#   make docs        build the documentation into docs/_build/html, running every example in it
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINT_STAMP := $(VENV)/.installed-lint

.PHONY: reproduce report test lint docs bench venv clean check-reproducible

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,report,dask]'
	touch $(STAMP)

$(LINT_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,report,lint]'
	touch $(LINT_STAMP)

venv: $(STAMP)

DOCS_STAMP := $(VENV)/.docs-installed

$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

# The site, with warnings as errors: the doctest builder runs every example of the guide, then the
# HTML builder (which also runs the command-line examples and draws the figures) writes the pages.
SPHINX := MPLBACKEND=Agg $(BIN)/sphinx-build -W --keep-going -q -d docs/_build/doctrees
docs: $(DOCS_STAMP)
	$(SPHINX) -b doctest docs docs/_build/doctest
	$(SPHINX) -b html docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

reproduce: $(STAMP)
	MPLBACKEND=Agg $(BIN)/alsmeta reproduce

# report/ is a view of figures/ (copies of its images) rebuilt in seconds: not tracked (.gitignore)
report: $(STAMP)
	$(BIN)/alsmeta report

# the test suite, then the examples in the library's docstrings (they must print what they show)
test: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -q
	MPLBACKEND=Agg $(BIN)/python -m pytest -q -p no:cacheprovider --doctest-modules src/alsmeta

# configuration in pyproject.toml: [tool.ruff], [tool.mypy], [tool.importlinter]
# every gate runs (so one run lists all the problems); the target fails if any of them failed
lint: $(LINT_STAMP)
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/mypy || status=1; \
	$(BIN)/lint-imports || status=1; \
	exit $$status

bench: $(STAMP)
	$(BIN)/python benchmarks/single_fit.py
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/cli_large.py
	$(BIN)/python benchmarks/methods_issue18.py
	$(BIN)/python benchmarks/sparse_mh.py
	$(BIN)/python benchmarks/multilevel.py
	$(BIN)/python benchmarks/campaign.py
	$(BIN)/python benchmarks/campaign_memory.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
	rm -rf docs/_build docs/_generated docs/generated docs/api.rst

# Run every analysis twice into two scratch folders and compare the bytes (not part of `make test`: minutes).
check-reproducible: $(STAMP)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	MPLBACKEND=Agg $(BIN)/alsmeta reproduce --figures "$$tmp/first" && \
	MPLBACKEND=Agg $(BIN)/alsmeta reproduce --figures "$$tmp/second" && \
	diff -r "$$tmp/first" "$$tmp/second" && echo "check-reproducible: two runs gave identical files"

# Regenerate every R reference file in tests/reference/ (needs R and the packages listed in
# tests/reference/README.md; about 20 CPU-minutes). metafor_methods.json is written before
# metafor_bj.json and metafor_selmodel.json, which read their data sets from it.
# bayesmeta_reference.json only with BAYESMETA_DIR=<folder holding bayesmeta.R, crins.R, rubin.R>.
REFERENCE_DIR := tests/reference
METAFOR_REFERENCES := pool sparse multilevel measures effects diagnostics methods bj selmodel selmodel_mods \
  regression_weights regression_degenerate weighted_diagnostics
.PHONY: reference
reference:
	@set -e; for name in $(METAFOR_REFERENCES); do \
	  echo "reference: metafor_$$name.json"; \
	  Rscript $(REFERENCE_DIR)/generate_$${name}_reference.R $(REFERENCE_DIR)/metafor_$$name.json; \
	done
	@echo "reference: rpact_sequential.json"
	@Rscript $(REFERENCE_DIR)/generate_sequential_reference.R $(REFERENCE_DIR)/rpact_sequential.json
	@if [ -n "$(BAYESMETA_DIR)" ]; then \
	  echo "reference: bayesmeta_reference.json"; \
	  cd "$(BAYESMETA_DIR)" && Rscript "$(CURDIR)/$(REFERENCE_DIR)/generate_bayesmeta_reference.R" \
	    "$(CURDIR)/$(REFERENCE_DIR)/bayesmeta_reference.json"; \
	else echo "reference: bayesmeta_reference.json skipped (set BAYESMETA_DIR, see tests/reference/README.md)"; fi
