# Two commands for a newcomer: `make demo` and `make test`. Everything runs from .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint typecheck pytest bench serve clean

# Re-install only when the dependency list changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/agility demo

serve: $(STAMP)
	$(BIN)/agility serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy hardware drills server tests bench

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

# The loop while editing: the same checks, less the tests marked slow (tests/conftest.py says
# which, by cause). CI runs `make test`, so nothing slow goes unrun.
test-fast: lint typecheck
	$(BIN)/pytest -m "not slow"

# The firmware section runs the built images in simavr: build them first, as the tests do.
bench: $(STAMP)
	$(MAKE) -C firmware all sim
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info
