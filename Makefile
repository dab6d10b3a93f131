# Two entry points for a fresh machine: `make demo` and `make test`. Each creates .venv if missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REPORT_PRESET ?= full
REPORT_OUT ?= docs/report
REPORT_WORKERS ?= 2

.PHONY: install demo test bench report clean

# torch's CPU wheel first (any other spec pulls a CUDA build), then modlab against the exact versions
# it is tested with; pyproject.toml itself only declares the supported ranges.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/modlab figure a-theory --preset quick --out results/demo
	$(BIN)/modlab figure a-sine-loss --preset quick --out results/demo
	$(BIN)/modlab figure a-projections --preset quick --out results/demo
	$(BIN)/modlab figure a-sample-complexity --preset quick --out results/demo
	$(BIN)/modlab figure a-module-mismatch --preset quick --out results/demo
	$(BIN)/modlab figure a-compute-matched --preset quick --out results/demo
	$(BIN)/modlab figure a-ccifar --preset quick --out results/demo
	$(BIN)/modlab figure b-cmnist --preset quick --out results/demo
	$(BIN)/modlab figure b-dense --preset quick --out results/demo
	$(BIN)/modlab figure b-segregated --preset quick --out results/demo
	@echo "demo figures written to results/demo/"

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2 --durations=15

# The reproduction report: every figure at REPORT_PRESET, resumed from REPORT_OUT/modlab.sqlite,
# REPORT_WORKERS runs at once (one torch thread each).
report: $(STAMP)
	$(BIN)/modlab report --preset $(REPORT_PRESET) --out $(REPORT_OUT) --workers $(REPORT_WORKERS) --no-progress

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/theory_speed.py
	$(BIN)/python benchmarks/ensemble_speed.py
	$(BIN)/python benchmarks/kernel_rule_speed.py
	$(BIN)/python benchmarks/linear_modules_speed.py
	$(BIN)/python benchmarks/sweep_throughput.py

clean:
	rm -rf $(VENV) results .pytest_cache
