# Two commands do all the set-up on a fresh machine with Python 3.10+:
#   make reproduce   create .venv, install alsmeta, regenerate every analysis into figures/
#   make test        create/update .venv with the test extra and run the test suite
#   make report      build report/index.html (the reproduction as one web page) from figures/ and data/
#   make check-reproducible   run every analysis twice into scratch folders and diff the bytes
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: reproduce report test bench venv clean check-reproducible

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,report,dask]'
	touch $(STAMP)

venv: $(STAMP)

reproduce: $(STAMP)
	MPLBACKEND=Agg $(BIN)/alsmeta reproduce

# report/ is a view of figures/ (copies of its images) rebuilt in seconds: not tracked (.gitignore)
report: $(STAMP)
	$(BIN)/alsmeta report

test: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/cli_large.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache

# Run every analysis twice into two scratch folders and compare the bytes (not part of `make test`: minutes).
check-reproducible: $(STAMP)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	MPLBACKEND=Agg $(BIN)/alsmeta reproduce --figures "$$tmp/first" && \
	MPLBACKEND=Agg $(BIN)/alsmeta reproduce --figures "$$tmp/second" && \
	diff -r "$$tmp/first" "$$tmp/second" && echo "check-reproducible: two runs gave identical files"
