#!/usr/bin/env bash
# Install the external dependencies of sesi's interop / store / browser tests.
#
#   scripts/install-test-deps.sh [--only python|redis|postgres|browser]
#
# Groups (default: all of them):
#   python   $REPO/.venv with pyramid==2.*, waitress, pyramid-nacl-session,
#            pynacl, flask==3.1.* and django==5.2.* (PyPI), used by the reference
#            apps in crates/sesi-app/tests/{pyramid,flask,django}/ and the vector
#            scripts in crates/sesi-core/tests/data/
#   redis    Debian redis-server (and redis-tools, for redis-cli), store tests
#   postgres Debian postgresql (server binaries in /usr/lib/postgresql/*/bin),
#            SQL store tests; scripts/postgres.sh runs its own throwaway server
#   browser  Debian chromium, chromium-driver (and fonts-liberation), browser tests
#
# Idempotent: everything already present is skipped, and `apt-get update` runs
# only when a Debian package actually has to be installed. Works as root on a
# fresh Debian machine; as another user it uses sudo when available, otherwise
# it prints the exact command to run and fails.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd -- "$SCRIPT_DIR/.." && pwd)"
VENV="$REPO/.venv"
PYTHON_REQS=("pyramid==2.*" "waitress" "pyramid-nacl-session==1.0.*" "pynacl==1.6.*" "flask==3.1.*" "django==5.2.*")

log() { printf '[install-test-deps] %s\n' "$*"; }
die() { printf '[install-test-deps] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

ONLY="all"
while [ $# -gt 0 ]; do
    case "$1" in
        --only)
            [ $# -ge 2 ] || die "--only needs an argument: python|redis|postgres|browser"
            ONLY="$2"; shift 2 ;;
        --only=*)
            ONLY="${1#--only=}"; shift ;;
        -h|--help)
            usage; exit 0 ;;
        *)
            usage >&2; die "unknown argument: $1" ;;
    esac
done
case "$ONLY" in
    all|python|redis|postgres|browser) ;;
    *) die "--only must be one of python|redis|postgres|browser (got '$ONLY')" ;;
esac
want() { [ "$ONLY" = all ] || [ "$ONLY" = "$1" ]; }

# ---------------------------------------------------------------- apt helpers
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        SUDO=(NO_SUDO)
    fi
fi

APT_UPDATED=0
# apt_install PKG...: install the given Debian packages that are not installed.
apt_install() {
    local missing=() p
    for p in "$@"; do
        if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            log "apt: $p already installed"
        else
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install manually: ${missing[*]}"
    if [ "${SUDO[0]:-}" = NO_SUDO ]; then
        die "not root and no sudo; run as root:
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt: ${SUDO[*]:+${SUDO[*]} }apt-get update"
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
        APT_UPDATED=1
    fi
    log "apt: ${SUDO[*]:+${SUDO[*]} }apt-get install -y --no-install-recommends ${missing[*]}"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------- python
venv_ok() {
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - <<'EOF' >/dev/null 2>&1
import pyramid, waitress, webob, nacl, pyramid_nacl_session, flask, django
from importlib.metadata import version
assert version("pyramid").split(".")[0] == "2", version("pyramid")
assert version("pyramid-nacl-session").startswith("1.0"), version("pyramid-nacl-session")
assert version("flask").startswith("3.1."), version("flask")
assert version("django").startswith("5.2."), version("django")
EOF
}

install_python() {
    log "== python: venv at $VENV with ${PYTHON_REQS[*]}"
    if venv_ok; then
        log "python: pyramid $("$VENV/bin/python" -c 'from importlib.metadata import version as v; print(v("pyramid"))'), waitress, pyramid-nacl-session, flask and django already importable; skipping"
        return 0
    fi
    local py
    py="$(command -v python3 || true)"
    if [ -z "$py" ] || ! "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        log "python: python3 with venv/ensurepip not available; installing Debian python3-venv"
        apt_install python3 python3-venv
        py="$(command -v python3)"
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        log "python: $py -m venv $VENV"
        "$py" -m venv "$VENV"
    fi
    log "python: $VENV/bin/python -m pip install ${PYTHON_REQS[*]}"
    "$VENV/bin/python" -m pip install -q "${PYTHON_REQS[@]}"
    venv_ok || die "pyramid/waitress/pyramid_nacl_session/flask/django still not importable from $VENV/bin/python"
    log "python: installed pyramid $("$VENV/bin/python" -c 'from importlib.metadata import version as v; print(v("pyramid"))'), waitress $("$VENV/bin/python" -c 'from importlib.metadata import version as v; print(v("waitress"))')"
}

# ---------------------------------------------------------------- redis
install_redis() {
    log "== redis: redis-server, redis-cli"
    if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
        log "redis: $(command -v redis-server) and $(command -v redis-cli) present; skipping"
        return 0
    fi
    # Without systemd the package does not start a system redis; either way
    # scripts/redis.sh runs its own throwaway instance.
    apt_install redis-server redis-tools
    command -v redis-server >/dev/null 2>&1 || die "redis-server not found after install"
}

# ---------------------------------------------------------------- postgres
# The newest server bin dir (initdb, pg_ctl, postgres, psql), or fail.
find_pg_bindir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/initdb" ]; then printf '%s\n' "$d"; fi
    done | sort -V | tail -n 1 | grep .
}

install_postgres() {
    log "== postgres: initdb, pg_ctl, postgres, psql"
    if find_pg_bindir >/dev/null; then
        log "postgres: $(find_pg_bindir) present; skipping"
        return 0
    fi
    # The package may create and start its own cluster on port 5432 (through its service, where
    # the machine has one); we leave it alone: scripts/postgres.sh runs its own throwaway server
    # on another port.
    apt_install postgresql
    find_pg_bindir >/dev/null || die "no /usr/lib/postgresql/*/bin/initdb after install"
}

# ---------------------------------------------------------------- browser
find_chromium() {
    local c
    for c in chromium chromium-browser google-chrome; do
        command -v "$c" 2>/dev/null && return 0
    done
    return 1
}

install_browser() {
    log "== browser: chromium, chromedriver"
    if find_chromium >/dev/null && command -v chromedriver >/dev/null 2>&1; then
        log "browser: $(find_chromium) and $(command -v chromedriver) present; skipping"
        return 0
    fi
    # fonts-liberation: chromium only recommends fonts, and we install without
    # recommends; headless screenshots need at least one real font.
    apt_install chromium chromium-driver fonts-liberation
    find_chromium >/dev/null || die "chromium not found after install"
    command -v chromedriver >/dev/null 2>&1 || die "chromedriver not found after install"
}

want python && install_python
want redis && install_redis
want postgres && install_postgres
want browser && install_browser

# ---------------------------------------------------------------- summary
show() { printf '  %-14s %s\n' "$1" "${2:-(not found)}"; }
log "== paths"
if [ -x "$VENV/bin/python" ]; then show "venv python" "$VENV/bin/python"; else show "venv python"; fi
show "redis-server" "$(command -v redis-server || true)"
show "redis-cli" "$(command -v redis-cli || true)"
show "postgres bin" "$(find_pg_bindir || true)"
show "chromium" "$(find_chromium || true)"
show "chromedriver" "$(command -v chromedriver || true)"
