# Two commands: `make run` and `make test`. Each sets up .venv itself on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck bench clean reset-data

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

# Starts the service on the embedded SQLite store in .chopmark/ and, on first run, seeds the demo ecosystem.
# `make run PORT=8010` listens on another port (default: CHOPMARK_PORT, else 8000); the public URL recorded on the
# first run is kept (see README).
run: $(STAMP)
	$(VENV)/bin/chopmark serve --data-dir .chopmark --seed-demo $(if $(PORT),--port $(PORT))

test: $(STAMP)
	$(VENV)/bin/ruff check chopmark issuer verifier wallet registry tests bench
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -n auto --dist loadgroup

lint: $(STAMP)
	$(VENV)/bin/ruff check chopmark issuer verifier wallet registry tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) bench/kernel.py
	$(PY) bench/http.py
	$(PY) bench/onboarding.py
	$(PY) bench/evidence.py
	$(PY) bench/slowclients.py
	$(PY) bench/labels.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Removes the local data of `make run` (demo store, keys, tokens).
reset-data:
	rm -rf .chopmark
