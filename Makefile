# LeverageGuard: two commands do everything on a fresh machine — `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON      ?= python3.11
VENV        := .venv
BIN         := $(VENV)/bin
TOOLS       := $(CURDIR)/.tools
SOLC_VERSION := 0.8.37
SOLC_SHIM   := $(TOOLS)/solcx/solc-v$(SOLC_VERSION)
NATIVE      := node_modules/@foundry-rs

# Every recipe sees the venv, the npm binaries (anvil, forge) and the solc shim.
export PATH := $(TOOLS)/bin:$(CURDIR)/$(BIN):$(PATH)
export SOLCX_BINARY_PATH := $(TOOLS)/solcx
export FOUNDRY_SOLC := $(SOLC_SHIM)
export APE_DATA_FOLDER ?= $(CURDIR)/.tools/ape
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help bootstrap postgres-server promtool chromium compile test test-deep test-contract test-keeper test-forge gas-check gas-snapshot lint demo \
	clean analyze coverage bench bench-burst bench-scale-out prove mutate

help:
	@echo "make demo   - bootstrap, then the whole LeverageGuard story on a local anvil chain"
	@echo "make test   - bootstrap, then the whole test suite (Slither gate, lint, coverage >= 95 % lines)"
	@echo "make test-deep - the property suites at depth: HYPOTHESIS_PROFILE=deep, forge's deep profile (500k calls)"
	@echo "make test-forge - the forge suite in test/: invariant campaigns, fuzz, unit, gas tests (part of make test)"
	@echo "make prove  - halmos proofs of test/proofs (own venv under .tools/halmos)"
	@echo "make mutate - mutation check of the forge suite (docs/mutation.md)"
	@echo "make lint   - ruff and mypy over the Python code"
	@echo "make analyze  - Slither gate over contracts/ (part of make test)"
	@echo "make coverage - Solidity coverage of contracts/: forge coverage of test/ beside the Python suite's"
	@echo "make bench  - gas against its floors, keeper throughput against the rate limits (bench/README.md)"
	@echo "make bench-burst - the crash-day burst: 10,000 mixed claims against the 1,000-claim run"
	@echo "make bench-scale-out - 1 vs 3 keeper processes on one PostgreSQL, each with its own simulated IP"

bootstrap: $(VENV)/.installed node_modules/.installed $(SOLC_SHIM) $(TOOLS)/bin/anvil $(TOOLS)/bin/forge postgres-server \
	promtool chromium

# The PostgreSQL store's tests run a throw-away cluster (tools/pg_cluster.py) on Debian's server binaries.
# Checked every time (a new machine has no stamp to trust), silent when they are there; the package lists
# are refreshed only when something must be installed.
postgres-server:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "installing Debian's postgresql (the PostgreSQL store tests need a server)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# The alert rules' tests (tests/keeper/test_alert_rules.py) run `promtool check rules` and `promtool test rules`;
# Debian's prometheus package ships promtool. Checked the same way as the PostgreSQL server.
promtool:
	@command -v promtool >/dev/null 2>&1 || { \
		echo "installing Debian's prometheus (the alert rule tests need promtool)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; }

# The console's browser tests (tests/console) drive Debian's chromium through Playwright: Playwright's own
# browser download is not used. Checked the same way as the PostgreSQL server.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium (the console's browser tests need it)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# OpenZeppelin's npm packages ship ~350 JSON build artifacts. Ape copies each dependency whole into
# contracts/.cache, and lists at most 500 files under contracts/ when it looks for sources: with the
# artifacts there, our own sources can fall past that cap. The artifacts are unused, so they go.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf node_modules/@openzeppelin/contracts/build node_modules/@openzeppelin/contracts-upgradeable/build
	rm -rf contracts/.cache
	touch $@

$(SOLC_SHIM): tools/solc-shim.js node_modules/.installed
	mkdir -p $(dir $@)
	ln -sf $(CURDIR)/tools/solc-shim.js $@

# The npm packages start the native binaries through a node wrapper; link the binaries themselves so that
# signals (ape stopping anvil) reach the real process.
$(TOOLS)/bin/%: node_modules/.installed
	mkdir -p $(dir $@)
	ln -sf $(CURDIR)/$(NATIVE)/$*-linux-amd64/bin/$* $@

compile: bootstrap
	$(BIN)/ape compile

# PYTEST_ARGS narrows a run, e.g. make test-contract PYTEST_ARGS="-k multisig".
PYTEST_ARGS ?=
# FORGE_ARGS narrows a forge run, e.g. make test-forge FORGE_ARGS="--match-contract PoolInvariants".
FORGE_ARGS ?=

# The whole suite in three jobs side by side on the two cores:
# - the contract unit, attack and upgrade tests, with line/branch coverage of contracts/ measured on the way
#   (tools/sol_coverage.py) and gated at 95 % of lines;
# - the state machine (untraced: it is most of the tracing cost and adds no lines the unit tests miss), the
#   keeper, the commands and the bench smoke test, on an anvil of their own (APE_FOUNDRY_HOST);
# - the forge suite (test/: invariant campaigns, fuzz, USDC, gas tests), then the gas gate.
# The other jobs' output is printed after the first's; make fails if any does.
TEST_LOG := .build/test-rest.log
FORGE_LOG := .build/test-forge.log
test: bootstrap compile analyze lint
	forge build --build-info --quiet --skip './test/**'
	@# The test keystores of the last run (tests leave them: see tests/keeper/conftest.py keystore_validator).
	rm -f $(APE_DATA_FOLDER)/accounts/lg_test_*.json
	@mkdir -p .build; \
	( $(FORGE_SUITE) forge test $(FORGE_BUILD) $(FORGE_ARGS) && \
	  $(FORGE_SUITE) forge snapshot $(FORGE_BUILD) $(FORGE_GAS) --check --tolerance 1 ) > $(FORGE_LOG) 2>&1 & forge=$$!; \
	port=$$($(BIN)/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	APE_FOUNDRY_HOST=http://127.0.0.1:$$port $(BIN)/ape test tests/contract/test_stateful.py tests/keeper \
		tests/cli tests/bench tests/console -q $(PYTEST_ARGS) > $(TEST_LOG) 2>&1 & rest=$$!; \
	PYTHONPATH=tools SOLCOV_FAIL_UNDER=95 $(BIN)/ape test tests/contract --ignore=tests/contract/test_stateful.py \
		-q -p sol_coverage $(PYTEST_ARGS); contract=$$?; \
	wait $$rest; rest=$$?; wait $$forge; forge=$$?; \
	echo "make test: contract session exit $$contract, second session exit $$rest (5 = nothing selected), forge exit $$forge"; \
	echo "== state machine, keeper, commands, bench (second session) =="; cat $(TEST_LOG); \
	echo "== forge suite and gas gate =="; grep -v -e '^Warning' -e '^ *|' -e '^ *-->' -e '^$$' $(FORGE_LOG); \
	ok() { test $$1 -eq 0 -o $$1 -eq 5; }; ok $$contract && ok $$rest && test $$((contract + rest)) -ne 10 && test $$forge -eq 0

# The property suites at depth: the contract state machine and the keeper's policy properties at 10x, the forge
# suite's deep profile (invariant campaigns of 1,000 runs x 500 calls, 10,000 fuzz runs), then the proofs.
test-deep: bootstrap compile
	HYPOTHESIS_PROFILE=deep $(BIN)/ape test tests/contract/test_stateful.py tests/keeper -q $(PYTEST_ARGS)
	FOUNDRY_PROFILE=deep $(FORGE_SUITE) forge test $(FORGE_BUILD) $(FORGE_ARGS)
	tools/prove.sh $(PROVE_ARGS)

test-contract: bootstrap compile
	$(BIN)/ape test tests/contract -q $(PYTEST_ARGS)

test-keeper: bootstrap
	$(BIN)/pytest tests/keeper -q $(PYTEST_ARGS)

lint: bootstrap
	$(BIN)/ruff check keeper operator_toolkit scripts tests bench tools
	$(BIN)/ruff format --check keeper operator_toolkit scripts tests bench tools
	$(BIN)/mypy

# The forge suite (test/, forge-std 1.9.7 from @layerzerolabs/toolbox-foundry) in its own build folder, so that
# it never mixes with the analysis build in out/ (Slither, the coverage tracer). FOUNDRY_PROFILE=deep for depth.
FORGE_SUITE := FOUNDRY_OUT=.build/forge/out FOUNDRY_CACHE_PATH=.build/forge/cache
# halmos' check_ functions are proofs, not forge tests (make prove): not even compiled here.
FORGE_BUILD := --skip './test/proofs/**'
FORGE_GAS := --match-path 'test/gas/*'
test-forge: bootstrap
	$(FORGE_SUITE) forge test $(FORGE_BUILD) $(FORGE_ARGS)

# The gas gate: the operations of test/gas against .gas-snapshot, 1 % tolerance. `make gas-snapshot` rewrites it.
gas-check: bootstrap
	$(FORGE_SUITE) forge snapshot $(FORGE_BUILD) $(FORGE_GAS) --check --tolerance 1

gas-snapshot: bootstrap
	$(FORGE_SUITE) forge snapshot $(FORGE_BUILD) $(FORGE_GAS)

# Symbolic proofs of test/proofs with halmos, in its own venv (.tools/halmos; docs/proofs.md). ~15 min: part of
# make test-deep, not make test.
PROVE_ARGS ?=
prove: bootstrap
	tools/prove.sh $(PROVE_ARGS)

# Mutation check of the forge suite (docs/mutation.md). MUTATE_ARGS e.g. "--jobs 2", "--only LG-05".
MUTATE_ARGS ?=
mutate: bootstrap
	$(BIN)/python tools/mutate.py $(MUTATE_ARGS)

# Slither over contracts/ (foundry.toml: forge + the solc shim); fails on any High/Medium finding not triaged in
# slither-triage.toml. See docs/slither-triage.md.
analyze: bootstrap
	$(BIN)/python tools/slither-gate.py

# Coverage of contracts/ two ways, side by side (docs/coverage.md): the Python contract suite through the trace
# tool (tools/sol_coverage.py, gated at 95 % of lines inside make test) and `forge coverage` of the forge suite
# (lcov; --ir-minimum, as the contracts need via-IR; the foundry profile `coverage`: one compilation job, 64 fuzz
# runs, 16 x 200 invariant calls). Not part of make test: forge coverage recompiles everything.
# FORGE_COVERAGE_ENV overrides the campaign size, e.g. FORGE_COVERAGE_ENV="FOUNDRY_INVARIANT_RUNS=256".
FORGE_COV := .build/forge-coverage
FORGE_COVERAGE_ENV ?=
coverage: bootstrap compile
	forge build --build-info --skip './test/**'
	PYTHONPATH=tools $(BIN)/ape test tests/contract -q -p sol_coverage $(PYTEST_ARGS); py=$$?; \
	mkdir -p $(FORGE_COV); \
	env FOUNDRY_PROFILE=coverage FOUNDRY_OUT=$(FORGE_COV)/out FOUNDRY_CACHE_PATH=$(FORGE_COV)/cache $(FORGE_COVERAGE_ENV) \
		forge coverage \
		--ir-minimum $(FORGE_BUILD) --report lcov --report summary --report-file $(FORGE_COV)/lcov.info \
		--no-match-coverage '^(test|tests|node_modules|lib|script)/|(^|/)mocks/' > $(FORGE_COV)/forge.log 2>&1; fg=$$?; \
	grep -E '^(Ran [0-9]+ test suites|Encountered|\[FAIL|Error)' $(FORGE_COV)/forge.log; \
	$(BIN)/python tools/coverage_report.py; report=$$?; \
	echo "make coverage: Python exit $$py, forge coverage exit $$fg, report exit $$report"; \
	test $$py -eq 0 -a $$fg -eq 0 -a $$report -eq 0

# Gas per operation against its floor, then keeper throughput against the exchanges' rate limits; tables on
# stdout, figures in bench/results/. About 9 minutes; bench/README.md has the options (e.g. --scale-10k).
BENCH_ARGS ?=
bench: bootstrap compile
	$(BIN)/python -m bench.gas
	$(BIN)/python -m bench.crash_day $(BENCH_ARGS)

# The crash-day burst (issue 15): mixed OKX / Binance / Bybit claims, 1,000 then 10,000 (2,500 accounts), each
# drained at the exchanges' limits; the targets table of make bench then shows its rows. About 30 minutes.
bench-burst: bootstrap compile
	$(BIN)/python -m bench.crash_day --burst $(BENCH_ARGS)

# The scale-out figure (issue 16): the Binance backlog drained by 1, then 3 keeper processes sharing one
# PostgreSQL store (a throw-away cluster, tools/pg_cluster.py), each with its own simulated source IP and so its
# own weight budget; bench/results/scale-out.json. About 6 minutes.
bench-scale-out: bootstrap compile
	$(BIN)/python -m bench.scale_out $(BENCH_ARGS)

demo: bootstrap compile
	$(BIN)/ape run demo --network ethereum:local:foundry $(DEMO_ARGS)

clean:
	@# A test cluster left running (a killed session) would outlive its state file in $(TOOLS).
	-python3 tools/pg_cluster.py stop
	rm -rf $(VENV) node_modules $(TOOLS) .build contracts/.cache
