#!/usr/bin/env bash
# Smoke test of the Pyramid reference app and the cookie CLIs, with curl.
#
#   crates/sesi-app/tests/pyramid/smoke.sh
#
# Starts app.py twice on free ports (default settings, then custom
# hashalg/salt/cookie name/timeout/reissue_time), drives each with a curl
# cookie jar, checks the answers, and stops it.  Needs $REPO/.venv
# (scripts/install-test-deps.sh --only python) and curl.  Takes ~5 s.
set -euo pipefail

HERE="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd -- "$HERE/../../../.." && pwd)"
PY="${SESI_PYRAMID_PYTHON:-$REPO/.venv/bin/python}"
[ -x "$PY" ] || { echo "no $PY; run scripts/install-test-deps.sh --only python" >&2; exit 1; }
WORK="$(mktemp -d)"
APP_PID=""
cleanup() {
    if [ -n "$APP_PID" ]; then kill "$APP_PID" 2>/dev/null || true; wait "$APP_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PASS=0; FAIL=0
check() { # check NAME EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then PASS=$((PASS + 1)); echo "ok   $1"
    else FAIL=$((FAIL + 1)); echo "FAIL $1"; echo "     expected: $2"; echo "     actual:   $3"; fi
}

start_app() { # start_app ENV=VALUE...; sets BASE
    env "$@" PORT=0 "$PY" "$HERE/app.py" >"$WORK/app.log" 2>&1 &
    APP_PID=$!
    local _
    for _ in $(seq 100); do
        grep -qs 'Serving on http://127.0.0.1:' "$WORK/app.log" && break
        kill -0 "$APP_PID" 2>/dev/null || { cat "$WORK/app.log" >&2; echo "app died" >&2; exit 1; }
        sleep 0.1
    done
    BASE="$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/app.log" | head -1)"
    [ -n "$BASE" ] || { cat "$WORK/app.log" >&2; echo "app did not start" >&2; exit 1; }
    echo "-- app at $BASE ($*)" | sed 's/SESI_SECRET=[^ )]*/SESI_SECRET=***/'
}
stop_app() { kill "$APP_PID"; wait "$APP_PID" 2>/dev/null || true; APP_PID=""; }

J="$WORK/jar"
c() { curl -sS -c "$J" -b "$J" "$@"; }
jar_value() { grep -P "\t$1\t" "$J" | cut -f7; }

# ------------------------------------------------------------ default settings
SECRET='smoke-secret'
start_app SESI_SECRET="$SECRET"
check healthz "ok" "$(curl -sS "$BASE/healthz")"
check counter1 '{"counter": 1}' "$(c -D "$WORK/h1" "$BASE/counter")"
check counter2 '{"counter": 2}' "$(c "$BASE/counter")"
check counter3 '{"counter": 3}' "$(c "$BASE/counter")"
SC="$(grep -i '^set-cookie:' "$WORK/h1" | tr -d '\r')"
echo "     $SC"
if [[ "$SC" =~ ^Set-Cookie:\ session=[A-Za-z0-9_-]+\;\ Path=/\;\ SameSite=Lax$ ]]; then
    check set-cookie-shape yes yes
else
    check set-cookie-shape "session=<b64url>; Path=/; SameSite=Lax" "$SC"
fi
check cart1 '{"cart": {"apple": 2}}' "$(c -X POST "$BASE/cart/add?product_id=apple&quantity=2")"
check cart2 '{"cart": {"apple": 5, "pear": 1}}' "$(c -X POST "$BASE/cart/add?product_id=apple&quantity=3" >/dev/null; c -X POST "$BASE/cart/add?product_id=pear&quantity=1")"
check flash '{"queued": "hello"}' "$(c -X POST "$BASE/flash?msg=hello")"
check flash-q '{"queued": "bad"}' "$(c -X POST "$BASE/flash?msg=bad&queue=error")"
check flash-pop1 '{"messages": ["hello"]}' "$(c "$BASE/flash/pop")"
check flash-pop2 '{"messages": []}' "$(c "$BASE/flash/pop")"
check flash-pop-q '{"messages": ["bad"]}' "$(c "$BASE/flash/pop?queue=error")"
T1="$(c "$BASE/csrf")"; T2="$(c "$BASE/csrf")"
TOKEN="$(printf '%s' "$T1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')"
check csrf-stable "$T1" "$T2"
if [[ "$T1" =~ ^\{\"csrf_token\":\ \"[0-9a-f]{40}\"\}$ ]]; then
    check csrf-shape yes yes
else
    check csrf-shape '40 hex' "$T1"
fi
check set-json '{"set": {"obj": {"a": [1, 2.5, null], "u": "\u00e9"}}}' \
    "$(c -X POST "$BASE/set" --data-urlencode key=obj --data-urlencode 'value={"a":[1,2.5,null],"u":"é"}')"
sleep 1.1   # past the second of the last write, so an access would reissue
c -D "$WORK/hs" "$BASE/session" >"$WORK/session.json"
check session-no-set-cookie 0 "$(grep -ci '^set-cookie:' "$WORK/hs" || true)"
check session-state '{"counter": 3, "cart": {"apple": 5, "pear": 1}, "_csrft_": "'"$TOKEN"'", "obj": {"a": [1, 2.5, null], "u": "\u00e9"}}' \
    "$("$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["state"]))' <"$WORK/session.json")"
check session-not-new False "$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["new"])' <"$WORK/session.json")"

# cookie CLIs against the live cookie
CK="$(jar_value session)"
DEC="$("$PY" "$HERE/check_cookie.py" --secret "$SECRET" "$CK")"
ACC="$(printf '%s' "$DEC" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]))')"
CRE="$(printf '%s' "$DEC" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[1]))')"
ST="$(printf '%s' "$DEC" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[2]))')"
check make-cookie-reproduces-live-cookie "$CK" \
    "$("$PY" "$HERE/make_cookie.py" --secret "$SECRET" --accessed "$ACC" --created "$CRE" "$ST")"
check check-cookie-wrong-secret "1" "$("$PY" "$HERE/check_cookie.py" --secret nope "$CK" >/dev/null 2>&1; echo $?)"

c -X POST -D "$WORK/hi" "$BASE/invalidate" >/dev/null
echo "     after invalidate: $(grep -i '^set-cookie:' "$WORK/hi" | tr -d '\r')"
check invalidate-state '{}' "$("$PY" "$HERE/check_cookie.py" --secret "$SECRET" "$(jar_value session)" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[2]))')"
check invalidate-keeps-created "$CRE" "$("$PY" "$HERE/check_cookie.py" --secret "$SECRET" "$(jar_value session)" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[1]))')"
check post-route-get-404 404 "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/invalidate")"
stop_app

# ------------------------------------------------------------ custom settings
rm -f "$J"
start_app SESI_SECRET="$SECRET" PYRAMID_HASHALG=sha256 PYRAMID_SALT=custom.salt. \
    PYRAMID_COOKIE_NAME=sid PYRAMID_TIMEOUT=2 PYRAMID_REISSUE_TIME=none
check custom-counter1 '{"counter": 1}' "$(c -D "$WORK/h1" "$BASE/counter")"
check custom-counter2 '{"counter": 2}' "$(c "$BASE/counter")"
check custom-cookie-name 1 "$(grep -ci '^set-cookie: sid=' "$WORK/h1")"
CK="$(jar_value sid)"
check custom-decode '{"counter": 2}' "$("$PY" "$HERE/check_cookie.py" --secret "$SECRET" --hashalg sha256 --salt custom.salt. "$CK" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[2]))')"
check custom-default-settings-reject 1 "$("$PY" "$HERE/check_cookie.py" --secret "$SECRET" "$CK" >/dev/null 2>&1; echo $?)"
c "$BASE/csrf" >/dev/null
sleep 1.1
check reissue-none-no-set-cookie 0 "$(c -D - "$BASE/csrf" | grep -ci '^set-cookie:' || true)"
sleep 2.1   # > timeout since the last write
c "$BASE/session" >"$WORK/session.json"
check timeout-empties-state '{}' "$("$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["state"]))' <"$WORK/session.json")"
check timeout-not-new False "$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["new"])' <"$WORK/session.json")"
check timeout-counter-restarts '{"counter": 1}' "$(c "$BASE/counter")"
stop_app

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
