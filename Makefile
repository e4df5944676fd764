# Tradeloom: `make run` serves the platform with demo data, `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
VENDOR := tradeloom/web/static/vendor
CHAINCODE := ledger/fabric/chaincode

.PHONY: run test install assets lint chaincode-test i18n bench clean sparkplug-proto

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

# Front-end libraries come from the npm registry at build time and are served from /static/vendor.
$(VENDOR)/.stamp: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error && mkdir -p $(VENDOR) && \
	  cp node_modules/htmx.org/dist/htmx.min.js node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/ && \
	  touch $@; \
	else echo "npm not found: pages work, without htmx/Chart.js (apt-get install npm to add them)"; fi

assets: $(VENDOR)/.stamp

run: install assets
	$(BIN)/tradeloom serve --demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The Fabric chaincode's unit tests (node's test runner against a stub); its packages come from the npm registry.
chaincode-test:
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(CHAINCODE) && npm ci --no-audit --no-fund --loglevel=error && npm test; \
	else echo "npm not found: chaincode tests not run (apt-get install npm to add them)"; fi

test: install assets lint chaincode-test
	$(BIN)/python -m pytest -n auto --dist loadfile -q

i18n: install
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ --no-location --omit-header -o tradeloom/locale/messages.pot \
	  tradeloom catalog commerce ledger integrations iot_bridge
	$(BIN)/pybabel update -i tradeloom/locale/messages.pot -d tradeloom/locale --no-wrap --ignore-obsolete

# The load test (issue 10): builds tl_bench once, serves it like production, wrk + Locust, report in var/bench/.
# Needs wrk (apt-get install -y wrk) and PostgreSQL/Redis on 127.0.0.1 (TRADELOOM_BENCH_SERVER_URL to change).
bench: install
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m loadtest.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules $(CHAINCODE)/node_modules $(VENDOR) .pytest_cache .mypy_cache .ruff_cache

# Regenerate the Sparkplug B protobuf module (committed, so installs need only the protobuf runtime).
sparkplug-proto: install
	cd iot_bridge/sparkplug && ../../$(BIN)/python -m grpc_tools.protoc -I. --python_out=. --pyi_out=. sparkplug_b.proto
