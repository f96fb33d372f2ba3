# Everything a fresh machine with Python 3.11 needs: `make run` and `make test`.
# The virtualenv is created on first use; dependencies are reinstalled only when a requirements
# file changes (the stamp file's name carries a hash of their contents).

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
BOOT_PYTHON := $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
HASH = $(shell cat $(1) | (sha256sum 2>/dev/null || shasum -a 256) | cut -c1-12)
RUN_STAMP := $(VENV)/.installed-run-$(call HASH,requirements.txt)
DEV_STAMP := $(VENV)/.installed-dev-$(call HASH,requirements.txt requirements-dev.txt)
ARGS ?=
# make bench: persons in the benchmark database; BENCH_SMOKE=1 for a run of a minute or so (CI);
# BENCH_KEEP_DB=1 reuses the database (and its population) of the last run; BENCH_ARGS go to manage.py bench.
BENCH_PERSONS ?= $(if $(BENCH_SMOKE),2000,100000)
BENCH_SMOKE ?=
BENCH_KEEP_DB ?=
BENCH_ARGS ?=

.PHONY: help run test lint messages format migrate worker worker-urgent worker-bulk beat bench clean

help:
	@echo "make run      set up .venv, migrate, load areas and demo data, serve http://127.0.0.1:8000"
	@echo "make test     set up .venv with the dev tools and run pytest (extra arguments: ARGS='-k popup -x')"
	@echo "make lint     ruff check, ruff format --check, the import layers and the translation check"
	@echo "make messages extract the translatable strings into config/locale's .po and compile the .mo (GNU gettext)"
	@echo "make format   ruff check --fix and ruff format"
	@echo "make migrate  apply database migrations"
	@echo "make worker   run the two Celery workers, urgent@ (-Q urgent) and bulk@ (-Q bulk,urgent) (needs CELERY_BROKER_URL)"
	@echo "make beat     run Celery beat, the periodic scheduler (needs CELERY_BROKER_URL)"
	@echo "make bench    benchmarks on PostgreSQL: bench/results.json and BENCHMARKS.md (BENCH_PERSONS=100000, BENCH_SMOKE=1)"
	@echo "make clean    remove .venv, caches and collected static files (keeps db.sqlite3 and media/)"

$(PY):
	@test -n "$(BOOT_PYTHON)" || { echo "error: python3.11 (or python3) not found on PATH" >&2; exit 1; }
	@$(BOOT_PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "error: $(BOOT_PYTHON) is older than Python 3.11" >&2; exit 1; }
	$(BOOT_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# The project on the venv's path: lint-imports and scripts find `apps` and `config` from any directory.
	$(PY) -c 'import sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()["purelib"], "healthkit.pth").write_text("$(CURDIR)\n")'

$(RUN_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-run-*
	@touch $@

# requirements-dev.txt includes requirements.txt, so this stamp satisfies `make run` as well.
$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-run-* $(VENV)/.installed-dev-*
	@touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_areas
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:8000

# pytest exits with 5 when it collects no tests; an empty suite is not a failure.
test: $(DEV_STAMP)
	@$(PY) -m pytest $(ARGS); rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

# The translation check needs GNU gettext (apt-get install -y gettext), as `make messages` does.
lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTHONPATH=$(CURDIR) $(VENV)/bin/lint-imports --config $(CURDIR)/pyproject.toml
	$(PY) config/locale/check.py

# After adding or changing user-facing strings: extract them into the .po (the source of every
# translation; edit it, then run this again), and compile the .mo Django reads. GNU gettext.
messages: $(DEV_STAMP)
	$(PY) manage.py makemessages -l zh_Hans -d django --ignore=.venv --ignore=tests --ignore=staticfiles \
		--ignore=media --no-location --no-wrap --no-obsolete
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

format: $(DEV_STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: $(RUN_STAMP)
	$(PY) manage.py migrate --noinput

# Two workers (README, Production-like set-up): `urgent@` consumes only the urgent queue, so one
# person's recomputation never waits behind a fan-out; `bulk@` consumes bulk and urgent. Ctrl-C stops
# both; either exiting stops the other. worker-urgent / worker-bulk run one each (for a supervisor).
URGENT_CONCURRENCY ?= 2
BULK_CONCURRENCY ?= 2
CELERY_WORKER = $(VENV)/bin/celery -A config worker -l info --pool=prefork

worker: $(RUN_STAMP)
	@trap 'kill $$(jobs -p) 2>/dev/null' INT TERM EXIT; \
	$(CELERY_WORKER) -Q urgent -n urgent@%h --concurrency=$(URGENT_CONCURRENCY) & \
	$(CELERY_WORKER) -Q bulk,urgent -n bulk@%h --concurrency=$(BULK_CONCURRENCY) & \
	wait -n

worker-urgent: $(RUN_STAMP)
	$(CELERY_WORKER) -Q urgent -n urgent@%h --concurrency=$(URGENT_CONCURRENCY)

worker-bulk: $(RUN_STAMP)
	$(CELERY_WORKER) -Q bulk,urgent -n bulk@%h --concurrency=$(BULK_CONCURRENCY)

beat: $(RUN_STAMP)
	$(VENV)/bin/celery -A config beat -l info

# PostgreSQL and Redis are started when they are down (as .ci/run does); the database
# healthkit_bench is created afresh unless BENCH_KEEP_DB=1. A persons count under 10000 is a smoke run.
bench: $(RUN_STAMP)
	$(PY) -m apps.devtools.bench --persons $(BENCH_PERSONS) \
		$(if $(or $(BENCH_SMOKE),$(shell test $(BENCH_PERSONS) -lt 10000 && echo small)),--smoke) \
		$(if $(BENCH_KEEP_DB),--keep-db) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles tests/_contract test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
