PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/dds-pod serve --config examples/demo.toml --port 8000 \
		--seed bordeaux=examples/valid \
		--seed bordeaux=decidim-dataspace:../shared/fixtures/decidim-dataspace \
		--seed paris=examples/paris \
		--seed barcelona=decidim-csv:../shared/data/real/decidim_barcelona_open_data \
		--seed madrid=consul-csv:../shared/data/real/decide_madrid_dgov_visual_analytics

test: $(STAMP)
	$(BIN)/ruff check dds_pod tests benchmarks
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check dds_pod tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/validation.py

clean:
	rm -rf $(VENV) var
