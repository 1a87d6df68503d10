# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# A local, developer-only server: debug on, SQLite unless DATABASE_URL says otherwise.
RUN_ENV := DJANGO_DEBUG=true

.PHONY: install run test lint security screenshots collectstatic clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version))."; exit 1; }
	@$(PYTHON) -m venv $(VENV) || \
		{ echo "Could not create $(VENV). On Debian or Ubuntu: sudo apt-get install python3-venv"; exit 1; }
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

run: install
	$(RUN_ENV) $(PY) manage.py migrate --no-input
	$(RUN_ENV) $(PY) manage.py load_demo --if-empty
	@echo
	@echo "No account has been created. To sign in to the editors' admin at /admin/, create one:"
	@echo "    DJANGO_DEBUG=true $(PY) manage.py createsuperuser"
	@echo
	$(RUN_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Static security analysis: medium and high findings fail the build.
security: install
	$(VENV)/bin/bandit --quiet -ll -r electionsite observers

test: lint security
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py check
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest

# The README's screenshots (docs/screenshots/): a temporary demo database, its own server, the system Chromium.
screenshots: install
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
