# Klantwaarde: two commands. `make run` serves the demo; `make test` runs every test.
PY ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup demo worker lint bench clean browser

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

# Serve the product with demo data (SQLite and eager Celery unless DATABASE_URL/REDIS_URL are set).
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py compilemessages_if_needed
	$(BIN)/python manage.py load_demo --if-empty
	$(BIN)/python manage.py demo_logins
	@# With REDIS_URL: one worker on every queue and the beat (outbox sweeper) as its own process,
	@# never a worker's -B (killing such a worker orphans its beat); both stop with the server.
	@pids=""; \
	if [ -n "$$REDIS_URL" ]; then \
	  $(BIN)/celery -A config worker -Q default,customers,accounting,scenarios,salesforce --concurrency 2 -l warning & \
	  pids="$$!"; \
	  $(BIN)/celery -A config beat -l warning --schedule "$${TMPDIR:-/tmp}/klantwaarde-beat-schedule" & \
	  pids="$$pids $$!"; \
	fi; \
	trap 'test -z "$$pids" || kill $$pids 2>/dev/null' EXIT INT TERM; \
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Chromium for the browser tests (Debian's package; Playwright's own download does not work here).
browser:
	@command -v chromium >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && \
	  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1))) || \
	  echo "chromium could not be installed: browser tests will be reported as skipped"

test: $(STAMP) browser
	$(BIN)/python manage.py compilemessages_if_needed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
