# TuneWave: `make run` starts everything, `make test` checks everything.
# Needs Python 3.11+ (and Node 20+ for the web app); uv is installed into .tools/ if missing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# uv from PATH, else the copy `make uv` bootstraps into .tools/.
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export UV
# The web app joins `make run` / `make test` once it has both its manifest and its lock.
WEB := $(and $(wildcard web/package.json),$(wildcard web/package-lock.json))

.PHONY: help run install uv sync web-install web-build lint format typecheck test test-quick test-py browser-deps \
	test-web web-api services clean notebook

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: install ## install everything, then `tunewave run` (embedded PostgreSQL/Redis unless DATABASE_URL/REDIS_URL are set)
	$(UV) run --frozen --no-sync tunewave run

install: sync web-build ## Python dependencies (uv.lock) and the built web app

uv: ## install uv into .tools/ when it is not on PATH
	@if [ ! -x "$(UV)" ]; then \
		echo "uv not found: installing it into .tools/"; \
		python3 -m venv .tools && .tools/bin/pip install --quiet uv; \
	fi

sync: uv ## install the locked Python dependencies into .venv (skipped while uv.lock and pyproject.toml are unchanged)
	@scripts/stamp.sh .venv/.sync-stamp uv.lock pyproject.toml -- $(UV) sync --frozen

web-install: ## npm ci in web/ when node_modules is missing or older than the lock (when web/ exists)
ifneq ($(WEB),)
	@if [ ! -f web/node_modules/.package-lock.json ] \
		|| [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then \
		echo "cd web && npm ci"; cd web && npm ci --no-audit --no-fund; \
	else \
		echo "web/node_modules matches web/package-lock.json"; \
	fi
else
	@echo "web/ has no package.json + package-lock.json yet: skipping the web app"
endif

web-build: web-install ## build the SPA the API serves (when web/ exists; skipped while web/ sources and lock are unchanged)
ifneq ($(WEB),)
	@scripts/stamp.sh web/dist/.build-stamp web -- bash -c 'cd web && npm run build'
endif

lint: ## ruff check and ruff format --check
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: ## apply ruff's fixes and formatting
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

typecheck: ## mypy on api/, workers/, recommender/
	$(UV) run --frozen mypy

test: sync lint typecheck test-py test-web ## the whole suite: lint, mypy, pytest against real PostgreSQL + Redis, web tests

# pytest runs twice. The whole suite runs against the Redis a default install runs (the
# embedded Valkey `tunewave run` starts: what people get). A second, shorter pass runs the
# in-process tests and the live-channel processes against the machine's Redis (on CI and
# Debian 12 that is Redis 7.0, the oldest version TuneWave supports, api/core/redis_version.py), so
# a command only newer servers know is caught. It leaves out tiers that start servers of their
# own (tests marked `embedded`, the fault harness), offline models, the typed web client, the
# workers and the command-line launcher.
SECOND_PASS_ARGS ?= -m "not embedded" --ignore=tests/recommender --ignore=tests/web \
	--ignore=tests/e2e --ignore=tests/faults --ignore=tests/workers --ignore=tests/test_cli.py

browser-deps: ## Debian's chromium for the browser test, installed once when missing (as root, with apt-get)
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	fi

test-quick: sync ## the quick loop: pytest without the slow tiers (processes, browser, notebook, embedded servers)
	@service_env="$$(scripts/test-services.sh up)"; eval "$$service_env"; \
	$(UV) run --frozen pytest -m "not processes and not browser and not notebook and not embedded" $(PYTEST_ARGS)

test-py: web-install browser-deps ## pytest against the embedded Redis (Valkey), then a second pass against the machine's Redis (the minimum version); starts PostgreSQL/Redis on 127.0.0.1 if they are down (see scripts/test-services.sh)
	@service_env="$$(scripts/test-services.sh up)"; eval "$$service_env"; \
	status=0; \
	( redis_env="$$(scripts/test-services.sh embedded-redis up)"; eval "$$redis_env"; \
	  echo "pytest: Redis is the embedded one ($$TUNEWAVE_TEST_REDIS_URL)"; \
	  $(UV) run --frozen pytest $(PYTEST_ARGS) ) || status=$$?; \
	scripts/test-services.sh embedded-redis down || true; \
	if [ $$status -eq 0 ] && [ -z "$(PYTEST_ARGS)" ]; then \
		echo "pytest, second pass: Redis is the machine's ($${TUNEWAVE_TEST_REDIS_URL:-redis://127.0.0.1:6379/15})"; \
		$(UV) run --frozen pytest $(SECOND_PASS_ARGS) || status=$$?; \
	fi; \
	scripts/test-services.sh down; \
	exit $$status

test-web: ## npm ci, test, lint, typecheck, build and the first-page JS budget in web/ (when web/ exists)
ifneq ($(WEB),)
	cd web && npm ci --no-audit --no-fund && npm test && npm run lint && npm run typecheck \
		&& npm run build && npm run budget
else
	@echo "web/ has no package.json + package-lock.json yet: no web tests to run"
endif

web-api: ## regenerate the web app's typed API client (web/src/api/schema.d.ts) from the OpenAPI schema
	@mkdir -p web/node_modules/.tmp
	$(UV) run --frozen python scripts/openapi.py > web/node_modules/.tmp/openapi.json
	cd web && npx openapi-typescript node_modules/.tmp/openapi.json -o src/api/schema.d.ts

notebook: sync ## JupyterLab on notebooks/ with the project's environment and data (recommender evaluation)
	OPENBLAS_NUM_THREADS=1 $(UV) run --frozen jupyter lab notebooks/evaluate_recommenders.ipynb

services: ## start PostgreSQL and Redis on 127.0.0.1 if they are down
	@scripts/test-services.sh up >/dev/null

clean: ## remove caches and build output (keeps .tunewave/ data)
	rm -rf .pytest_cache .ruff_cache .mypy_cache web/dist
