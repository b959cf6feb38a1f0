# README command 1: `make demo`; README command 2: `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m deploy.demo

test: $(STAMP)
	$(BIN)/ruff check edge hub protocol provisioning firmware_hooks deploy tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(STAMP)
	bash bench/install_baselines.sh
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .demo bench/results/latest.json
