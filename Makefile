# CaseBridge: `make up` brings the platform up, `make test` runs every test. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.9.30
# `python3 -m uv` works right after `pip install uv`, with or without a PATH entry (pyenv shims, ~/.local/bin).
UV := python3 -m uv
SERVICES := case-service referral-service scoring-service notification-service

help: ## list the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

install: ## create .venv and install every package (uv, from the lock file), the Kafka jars and the OIDC provider
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) sync --all-packages --frozen
	deploy/local/kafka/kafka.sh install
	deploy/local/oidc/oidc.sh install
	deploy/local/postgres/postgres.sh install

up: install ## start PostgreSQL, Kafka, the OIDC provider, the four services, the gateway; load demo data
	deploy/local/stack.sh up

down: ## stop everything `make up` started
	deploy/local/stack.sh down

status: ## what is running
	deploy/local/stack.sh status

logs: ## follow the services' logs
	deploy/local/stack.sh logs

format: ## format the code
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

lint: ## ruff and the import-layer contracts
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run lint-imports

typecheck: ## mypy (strict)
	$(UV) run mypy shared/src services/*/src

test: install ## static checks, then unit, integration and api tests per package, then end-to-end tests
	deploy/local/test.sh all

test-unit: install ## unit tests only (no servers needed)
	deploy/local/test.sh unit

test-e2e: install ## end-to-end tests against the running stack (starts it if needed)
	deploy/local/test.sh e2e

$(addprefix test-,$(SERVICES)) test-shared: test-%: install ## tests of one package, e.g. make test-case-service
	deploy/local/test.sh package $*

migration: ## autogenerate a migration: make migration SERVICE=case-service MSG="add household"
	DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:55432/$(subst -,_,$(SERVICE)) \
	  $(UV) run alembic -c services/$(SERVICE)/alembic.ini revision --autogenerate -m "$(MSG)"

compose-check: ## validate docker-compose.yml (needs the docker compose plugin; no engine required)
	docker compose -f docker-compose.yml config -q

bench: install ## speed targets, each beside a baseline measured in the same run (needs `make up`)
	@set -e; for b in bench/*.py; do echo "== $$b"; .venv/bin/python $$b; done

.PHONY: help install up down status logs format lint typecheck test test-unit test-e2e test-shared migration compose-check bench $(addprefix test-,$(SERVICES))
