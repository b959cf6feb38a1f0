# README command 1: `make demo`; README command 2: `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean deb

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m deploy.demo

# The tests mostly wait (hub and edge processes, sockets, chromium, ffmpeg), so they run on more workers than the
# machine has cores; each worker has a loopback of its own (tests/worker_network.py). `worksteal` lets an idle
# worker take tests queued on a busy one, so the long tests do not pile up on one worker. TEST_WORKERS=0 runs the
# suite in one process. Live video tests (marked realtime in tests/conftest.py) run afterwards, one at a time.
TEST_WORKERS ?= 4

test: $(STAMP)
	$(BIN)/ruff check edge hub protocol provisioning firmware_hooks deploy tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=15 -m "not slow and not realtime"
	$(BIN)/pytest -q -m "realtime and not slow"

bench: $(STAMP)
	bash bench/install_baselines.sh
	$(BIN)/python -m bench

# The village box as a Debian package: dist/villagenet-edge_<version>_<arch>.deb (docs/appliance.md).
deb: $(STAMP)
	$(BIN)/python -m deploy.deb.build --out dist --work build/deb

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .demo bench/results/latest.json dist build
