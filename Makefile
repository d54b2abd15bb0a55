PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS := tests/e2e/js
CHROMIUM := /usr/bin/chromium

.PHONY: install run test test-tools comunica chromium lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,test]'
	touch $(STAMP)

install: $(STAMP)

# The demo node of examples/demo.toml on PORT: its IRIs name the port it is served on, so the configuration is
# copied into var/ (one level below the root, like examples/, so its relative paths still hold) with that port.
run: $(STAMP)
	mkdir -p var
	sed 's|127\.0\.0\.1:8000/|127.0.0.1:$(PORT)/|g' examples/demo.toml > var/demo-$(PORT).toml
	$(BIN)/dds-pod serve --config var/demo-$(PORT).toml --port $(PORT) \
		--seed bordeaux=examples/valid \
		--seed bordeaux=decidim-dataspace:data/decidim-dataspace \
		--seed paris=examples/paris \
		--seed barcelona=decidim-csv:data/real/decidim_barcelona_open_data \
		--seed madrid=consul-csv:data/real/decide_madrid_dgov_visual_analytics

test: $(STAMP) test-tools
	$(BIN)/ruff check dds_pod tests benchmarks
	$(BIN)/mypy dds_pod
	$(BIN)/pytest

# What the end-to-end tests drive besides Python; each is installed when the machine can, or its tests skip.
test-tools: comunica chromium

# tests/e2e/test_comunica.py and the audit of tests/e2e/test_views.py: Comunica and axe-core, pinned by
# tests/e2e/js/package-lock.json, under the machine's node.
comunica:
	@if [ ! -d $(JS)/node_modules ] && command -v npm >/dev/null; then \
		npm ci --prefix $(JS) --no-audit --no-fund --loglevel=error; fi

# tests/e2e/test_browser.py: Debian's headless Chromium, installed only as root with apt-get.
chromium:
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi

lint: $(STAMP)
	$(BIN)/ruff check dds_pod tests benchmarks
	$(BIN)/mypy dds_pod

bench: $(STAMP)
	$(BIN)/python benchmarks/validation.py

clean:
	rm -rf $(VENV) var
