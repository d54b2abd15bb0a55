PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TRANSLATIONS := dds_pod/translations
CATALOGS := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
JS := tests/e2e/js
CONFORMANCE := tests/conformance
CHROMIUM := /usr/bin/chromium
# The demo's seeds, shared with the browser tests: one POD=[KIND:]PATH per line of examples/demo-seeds.txt.
SEEDS = $(addprefix --seed ,$(shell grep -v '^\#' examples/demo-seeds.txt))

.PHONY: install run test test-sparql test-tools js conformance-tools conformance chromium apertium postgresql debian-tools screenshots lint bench clean messages

# The interface's catalogs are compiled here (the .mo files are not committed): editing a .po reinstalls.
$(STAMP): pyproject.toml $(CATALOGS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,test]'
	$(BIN)/pybabel compile --use-fuzzy -d $(TRANSLATIONS)
	touch $(STAMP)

install: $(STAMP)

# The demo node of examples/demo.toml on PORT: its IRIs name the port it is served on, so the configuration is
# copied into var/ (one level below the root, like examples/, so its relative paths still hold) with that port.
run: $(STAMP)
	mkdir -p var
	sed 's|127\.0\.0\.1:8000/|127.0.0.1:$(PORT)/|g' examples/demo.toml > var/demo-$(PORT).toml
	$(BIN)/dds-pod serve --config var/demo-$(PORT).toml --port $(PORT) $(SEEDS)

test: $(STAMP) test-tools
	$(BIN)/ruff check dds_pod tests benchmarks
	$(BIN)/mypy dds_pod
	$(BIN)/pytest

# The end-to-end suites of the pods, the federation, the reactions and the interface again, every node they start on
# two Oxigraph servers of its own through the sparql store backend (tests/e2e/conftest.py starts and stops them).
# Chosen to stay under 150 s on 2 cores under load (test_inbox, 45 s more, is left out: test_reactions covers the
# inbox); the other suites are the embedded store's alone, or start the engines they need themselves.
SPARQL_SUITES := $(addprefix tests/e2e/test_,$(addsuffix .py,ldp writes solid_writes feed feed_pages paging_rdf \
	replies_container federation search sparql reactions interface explore))
test-sparql: $(STAMP) test-tools
	$(BIN)/pytest -q --store=sparql $(SPARQL_SUITES)

# What the end-to-end tests drive besides Python; each is installed when the machine can, or its tests skip.
test-tools: js conformance-tools debian-tools

# The JavaScript clients of tests/e2e (Comunica, Playwright, axe-core), pinned by tests/e2e/js/package-lock.json,
# under the machine's node; reinstalled when the lock file changes.
js: $(JS)/node_modules/.package-lock.json

$(JS)/node_modules/.package-lock.json: $(JS)/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix $(JS) --no-audit --no-fund --loglevel=error; fi

# The Solid CRUD test suite (solid-crud-tests, pinned by tests/conformance/package-lock.json), installed like the
# clients above; tests/e2e/test_solid_crud.py runs it under `make test`.
conformance-tools: $(CONFORMANCE)/node_modules/.package-lock.json

$(CONFORMANCE)/node_modules/.package-lock.json: $(CONFORMANCE)/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix $(CONFORMANCE) --ignore-scripts --no-audit --no-fund --loglevel=error; fi

# The suite against a node of its own, in the free-RDF area of a pod: prints the failed tests and the counts.
conformance: $(STAMP) conformance-tools
	$(BIN)/python -m tests.conformance.harness

# tests/e2e/test_browser.py: Debian's headless Chromium, installed only as root with apt-get.
chromium:
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi

# tests/test_analysis_*.py: Apertium's pairs between the interface's languages (Catalan, Spanish, French,
# English), the analysis's pivot for texts in other languages; installed only as root with apt-get.
APERTIUM_PAIRS := apertium-spa-cat apertium-fra-cat apertium-fr-es apertium-eng-spa apertium-eng-cat
apertium:
	@if ! command -v apertium >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apertium $(APERTIUM_PAIRS) \
		>/dev/null; fi

# tests/test_search_postgres.py and the search tests of both backends start their own PostgreSQL server (initdb into
# a temporary folder) from Debian's binaries, found under /usr/lib/postgresql/*/bin; installed only as root.
postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; \
		then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi

# The three above in one apt-get run (one update of the package lists), for what is missing of them.
debian-tools:
	@missing="$$([ -x $(CHROMIUM) ] || echo chromium; command -v apertium >/dev/null || echo apertium $(APERTIUM_PAIRS); \
		ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || echo postgresql)"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

lint: $(STAMP)
	$(BIN)/ruff check dds_pod tests benchmarks
	$(BIN)/mypy dds_pod

# The README's pictures of the public interface (docs/*.png), taken in headless Chromium from the demo node.
screenshots: $(STAMP) js chromium
	$(BIN)/python -m tests.e2e.screenshots docs

bench: $(STAMP)
	$(BIN)/python benchmarks/validation.py

# After changing the interface's English texts: extract them and merge them into every language's catalog.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l --no-location --sort-output -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)

clean:
	rm -rf $(VENV) var
