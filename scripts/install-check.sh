#!/usr/bin/env bash
# The app as a user gets it: `cargo install` into a temporary root, then the installed `sesi serve`
# run from an empty directory far from the repository, checked over HTTP with curl.
#
#   scripts/install-check.sh
#
# 1. installs crates/sesi-app into a temporary root (`cargo install --path crates/sesi-app
#    --locked`), reusing the repository's target directory (CARGO_TARGET_DIR, default ./target)
#    so that built dependencies are not built again;
# 2. makes a key with the installed `sesi keygen` and starts the installed `sesi serve` on a free
#    port of 127.0.0.1, in a fresh empty directory, with HOME and XDG_DATA_HOME pointing at an
#    empty one and the secret in SESI_SECRET, so it writes nothing into the user's $HOME;
# 3. checks the counter page twice with the cookie it set (the counter goes 1 -> 2), and that the
#    stylesheet the page links to answers 200 with text/css (the templates and static files are
#    inside the installed binary, not read from the repository);
# 4. checks that the server wrote nothing into its working directory or its HOME;
# 5. stops the server and removes the temporary root, whatever happened.
set -euo pipefail

REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

log() { printf '[install-check.sh] %s\n' "$*"; }
fail() {
    log "FAILED: $*"
    exit 1
}

scratch="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT

root="$scratch/root"   # the install root: bin/sesi
run="$scratch/run"     # the server's working directory: must stay empty
home="$scratch/home"   # the server's HOME: must stay empty
mkdir -p "$root" "$run" "$home"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
log "== cargo install --path crates/sesi-app --root $root --locked (target dir $CARGO_TARGET_DIR)"
cargo install --path crates/sesi-app --root "$root" --locked --quiet
sesi="$root/bin/sesi"
[ -x "$sesi" ] || fail "cargo install left no $sesi"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
secret="$(cd "$run" && HOME="$home" XDG_DATA_HOME="$home/.local/share" "$sesi" keygen)"
[ "${#secret}" -ge 32 ] || fail "sesi keygen printed no key"

log "== $sesi serve --addr 127.0.0.1:$port (from $run)"
(
    cd "$run"
    exec env HOME="$home" XDG_DATA_HOME="$home/.local/share" SESI_SECRET="$secret" \
        "$sesi" serve --addr "127.0.0.1:$port"
) >"$scratch/serve.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$base/healthz" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$scratch/serve.log" >&2
        fail "sesi serve exited before it answered"
    fi
    sleep 0.1
done
curl -fsS -o /dev/null "$base/healthz" || {
    cat "$scratch/serve.log" >&2
    fail "sesi serve did not answer on $base within 10 s"
}

jar="$scratch/cookies.txt"
counter() {
    local page="$scratch/page.html"
    curl -fsS -c "$jar" -b "$jar" -o "$page" "$base/" || fail "GET / failed"
    sed -n 's/.*id="counter">\([0-9]*\)<.*/\1/p' "$page" | head -n 1
}
first="$(counter)"
second="$(counter)"
log "counter page: $first, then $second with the cookie"
[ "$first" = 1 ] || fail "the first visit shows the counter '$first', not 1"
[ "$second" = 2 ] || fail "the second visit, with the cookie, shows '$second', not 2"

stylesheet="$(sed -n 's/.*<link rel="stylesheet" href="\([^"]*\)".*/\1/p' "$scratch/page.html" | head -n 1)"
[ -n "$stylesheet" ] || fail "the counter page links no stylesheet"
read -r status type < <(curl -sS -o /dev/null -w '%{http_code} %{content_type}\n' "$base$stylesheet")
log "stylesheet $stylesheet: $status $type"
[ "$status" = 200 ] || fail "$stylesheet answered $status"
case "$type" in
text/css*) ;;
*) fail "$stylesheet is '$type', not text/css" ;;
esac

if [ -n "$(find "$run" "$home" -mindepth 1 -print -quit)" ]; then
    ls -laR "$run" "$home" >&2
    fail "sesi wrote into its working directory or its HOME"
fi
log "the installed sesi serves the app from anywhere, writing nothing"
