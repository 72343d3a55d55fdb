# The two commands of the README: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: setup demo test test-postgres lint format bench catalogues

setup: $(VENV)/.installed

# Three distributions: the bot, the Bot API emulator and the dev tooling (demo, sandbox,
# harness), installed together so the tooling's dependencies resolve to these folders.
$(VENV)/.installed: pyproject.toml emulator/pyproject.toml devtools/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ./emulator -e ./devtools -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/corridor demo

test: setup
	$(BIN)/pytest

test-postgres: setup
	CORRIDOR_TEST_DATABASE_URL=$${CORRIDOR_TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test} $(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

catalogues: setup
	$(BIN)/python -m bot.i18n_catalog

bench: setup
	$(BIN)/python bench/run_all.py
