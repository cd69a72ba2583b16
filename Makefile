# Two commands are all a newcomer needs: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test install bench clean frontend notebook-env notebook-env-lock sandbox-deps

install: $(VENV)/.installed frontend notebook-env sandbox-deps

# The browser editor: npm ci when the lockfile changes, a Vite build when a source changes.
# Both are skipped when nothing changed, so `make run` and `make test` stay fast.
FRONTEND_SRC := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html frontend/vite.config.ts frontend/tsconfig.json frontend/package.json

frontend: frontend/dist/index.html

frontend/node_modules/.installed: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SRC)
	cd frontend && npm run --silent build
	touch $@

# uv installs the locked requirements in seconds; --compile-bytecode matters because this
# machine sets PYTHONDONTWRITEBYTECODE and imports would otherwise be recompiled every start.
$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check uv==0.13.9
	$(VENV)/bin/uv pip install -q --python $(PY) --compile-bytecode -r requirements.txt
	touch $@

# Kernels run from their own environment (README, "Where notebooks run"): Debian's Python under
# /usr (which the sandbox mounts anyway) and the locked notebook-env/requirements.txt; nothing of
# Loom, Django or Celery. `make notebook-env-lock` re-resolves it after editing requirements.in.
NB_ENV := .venv-notebook
NB_PYTHON ?= $(shell test -x /usr/bin/python3.11 && echo /usr/bin/python3.11 || command -v python3)

notebook-env: $(NB_ENV)/.installed

$(NB_ENV)/.installed: notebook-env/requirements.txt $(VENV)/.installed
	test -x $(NB_ENV)/bin/python || $(VENV)/bin/uv venv -q --python $(NB_PYTHON) $(NB_ENV)
	$(VENV)/bin/uv pip install -q --python $(NB_ENV)/bin/python --compile-bytecode -r notebook-env/requirements.txt
	touch $@

notebook-env-lock: $(VENV)/.installed
	$(VENV)/bin/uv pip compile -q --python $(NB_PYTHON) notebook-env/requirements.in -o notebook-env/requirements.txt

sandbox-deps:
	bash scripts/sandbox_deps.sh

# The web app plus a local-engine worker (scripts/run.sh starts both; Ctrl-C stops both).
run: install
	bash scripts/run.sh

test: install
	bash scripts/test.sh

bench: install
	$(PY) bench/local_engine.py

clean:
	rm -rf $(VENV) $(NB_ENV) var frontend/node_modules frontend/dist
