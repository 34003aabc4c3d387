#!/usr/bin/env bash
# Production smoke test: the product as a real deployment runs it (DJANGO_ENV=production, hashed
# static files, gunicorn behind an HTTPS proxy) serves its login page, CSS and JavaScript, and
# refuses the demo logins. Run by .ci/run as its last step and by tests/test_prod_smoke.py.
#
#   .ci/prod_smoke.sh                 # throwaway SQLite database in a temporary folder
#   SMOKE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kw_smoke .ci/prod_smoke.sh   # an EMPTY PostgreSQL db
#
# Steps: migrate, collectstatic into a temporary STATIC_ROOT, check --deploy --fail-level WARNING,
# load_demo must refuse, a forced demo load, gunicorn on a free port of 127.0.0.1, then HTTP checks.
# The proxy is simulated the way nginx does it: `X-Forwarded-Proto: https` (SECURE_PROXY_SSL_HEADER).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
GUNICORN=${GUNICORN:-$(dirname "$PY")/gunicorn}
work=$(mktemp -d "${TMPDIR:-/tmp}/klantwaarde-smoke.XXXXXX")
gunicorn_pid=""

cleanup() {
  if [ -n "$gunicorn_pid" ] && kill -0 "$gunicorn_pid" 2>/dev/null; then
    kill "$gunicorn_pid" 2>/dev/null || true
    wait "$gunicorn_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "production smoke: FAILED: $*" >&2; [ -f "$work/gunicorn.log" ] && tail -40 "$work/gunicorn.log" >&2; exit 1; }
step() { echo "production smoke: $*"; }

# The environment of a production web node. The web process is what is checked here: Celery runs
# eagerly (no REDIS_URL), which changes nothing about serving pages and static files.
unset REDIS_URL DEBUG STATIC_ROOT ALLOW_DEMO_LOGINS DJANGO_SETTINGS_MODULE
export DJANGO_ENV=production
SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')
export SECRET_KEY
export ALLOWED_HOSTS=127.0.0.1
export DATABASE_URL=${SMOKE_DATABASE_URL:-sqlite:///$work/smoke.sqlite3}
export STATIC_ROOT=$work/static
export PYTHONUNBUFFERED=1

step "migrate"
"$PY" manage.py migrate --noinput -v 0
step "collectstatic"
"$PY" manage.py collectstatic --noinput -v 0
[ -f "$STATIC_ROOT/staticfiles.json" ] || fail "collectstatic wrote no manifest"
step "check --deploy"
"$PY" manage.py check --deploy --fail-level WARNING

step "load_demo must refuse in production"
if "$PY" manage.py load_demo --customers 20 >"$work/load_demo.log" 2>&1; then
  fail "load_demo loaded the demo into a production database without --force-in-production"
fi
grep -q "production" "$work/load_demo.log" || fail "load_demo did not say why it refused: $(cat "$work/load_demo.log")"
if "$PY" manage.py demo_logins >/dev/null 2>&1; then fail "demo_logins printed logins in production"; fi
# Demo users in the database anyway (a forced load), and one real user as the control.
"$PY" manage.py load_demo --force-in-production --customers 20 --seed 5 >/dev/null
DJANGO_SUPERUSER_PASSWORD=Smoke-Real-User-Passphrase-2026 \
  "$PY" manage.py createsuperuser --noinput --username smoke-owner --email owner@example.com >/dev/null

port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
step "gunicorn on 127.0.0.1:$port"
"$GUNICORN" config.wsgi:application --bind "127.0.0.1:$port" --workers 2 --timeout 60 \
  --access-logfile - --error-logfile - >"$work/gunicorn.log" 2>&1 &
gunicorn_pid=$!

"$PY" - "$port" "$gunicorn_pid" <<'PYCHECK' || fail "HTTP checks"
import http.client
import os
import re
import sys
import time
import urllib.parse

port, pid = int(sys.argv[1]), int(sys.argv[2])
HTTPS = {"X-Forwarded-Proto": "https"}  # what the TLS-terminating proxy adds


def request(method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers={"Host": f"127.0.0.1:{port}", **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


deadline = time.monotonic() + 60
while True:
    try:
        request("GET", "/accounts/login/", HTTPS)
        break
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            sys.exit("gunicorn exited before serving (see its log)")
        if time.monotonic() > deadline:
            sys.exit("gunicorn did not answer within 60 s")
        time.sleep(0.3)

failures = []


def expect(what, got, wanted):
    print(f"  {what}: {got}")
    if got != wanted:
        failures.append(f"{what}: got {got}, wanted {wanted}")


response, _ = request("GET", "/accounts/login/")
expect("plain HTTP redirects to HTTPS", (response.status, response.getheader("Location", "")[:8]), (301, "https://"))

response, html = request("GET", "/accounts/login/", HTTPS)
expect("GET /accounts/login/", response.status, 200)
expect("HSTS header", bool(response.getheader("Strict-Transport-Security")), True)
page = html.decode()
css = re.findall(r'href="(/static/[^"]+\.css)"', page)
js = re.findall(r'src="(/static/[^"]+\.js)"', page)
expect("login page links a stylesheet", bool(css), True)
expect("login page links a script", bool(js), True)
for asset in css + js:
    response, body = request("GET", asset, HTTPS)
    expect(f"GET {asset}", (response.status, len(body) > 0), (200, True))
expect("static names are hashed (manifest in use)", all(re.search(r"\.[0-9a-f]{12}\.(css|js)$", a) for a in css + js),
       True)


def login(username, password):
    """POST the login form like a browser would; the answer's status says what happened."""
    response, page = request("GET", "/accounts/login/", HTTPS)
    cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie", "")).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.decode()).group(1)
    body = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    origin = f"https://127.0.0.1:{port}"
    headers = {**HTTPS, "Cookie": f"csrftoken={cookie}", "Content-Type": "application/x-www-form-urlencoded",
               "Origin": origin, "Referer": origin + "/accounts/login/"}
    response, page = request("POST", "/accounts/login/", headers, body)
    return response.status, response.getheader("Location"), page.decode()


for username, password in (("rep1", "demo-rep"), ("manager", "demo-manager"), ("admin", "demo-admin")):
    status, location, page = login(username, password)
    expect(f"demo login {username}/{password} refused", (status, "Demo accounts cannot log in" in page), (200, True))
response, body = request("POST", "/api/v1/auth/token/", {**HTTPS, "Content-Type": "application/json"},
                         '{"username": "rep1", "password": "demo-rep"}')
expect("demo token refused", response.status, 400)
status, location, _page = login("smoke-owner", "Smoke-Real-User-Passphrase-2026")
expect("a real user logs in (control)", (status, location), (302, "/"))

if failures:
    sys.exit("\n".join(failures))
PYCHECK

step "OK"
