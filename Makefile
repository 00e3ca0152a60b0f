# Modelgate: `make up` starts the local stack with a demo model, `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)

.PHONY: help bootstrap up down status test lint typecheck unit docs clean-state

help:
	@echo "make up      start Kafka, PostgreSQL, MinIO and the four services (idempotent)"
	@echo "make test    ruff, mypy and pytest against the real stack (started if needed)"
	@echo "make down    stop what make up started"
	@echo "make status  what runs and where"

# uv manages the one virtualenv (.venv) from uv.lock; it is the only thing installed globally.
bootstrap:
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet --user "uv==$(UV_VERSION)" \
	  || python3 -m pip install --quiet --break-system-packages --user "uv==$(UV_VERSION)"
	@$(UV) sync --frozen --all-packages --quiet

up: bootstrap
	@$(UV) run --frozen modelgate-stack up

down:
	@$(UV) run --frozen modelgate-stack down

status:
	@$(UV) run --frozen modelgate-stack status

lint: bootstrap
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: bootstrap
	$(UV) run --frozen mypy

docs: bootstrap
	$(UV) run --frozen python -m modelgate_shared.events.docs docs

test: lint typecheck
	$(UV) run --frozen pytest

clean-state: down
	rm -rf .local/state .local/stack.env
