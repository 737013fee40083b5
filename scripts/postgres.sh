#!/usr/bin/env bash
# Throwaway PostgreSQL server for sesi's SQL store tests.
#
#   scripts/postgres.sh start    initdb + start on 127.0.0.1:$SESI_POSTGRES_PORT (default 15432),
#                                trust auth, no fsync; wait until it answers; create sesi_test
#   scripts/postgres.sh stop     shut it down (fast) and delete its data directory
#   scripts/postgres.sh status   say whether postgres://sesi@127.0.0.1:PORT/sesi_test answers
#
# Data, socket and log live in $REPO/target/postgres/ (or a mktemp dir in /tmp, recorded in
# target/postgres/base-PORT, when the postgres user cannot reach target/). Run as root, the server
# runs as the unprivileged `postgres` user. Binaries: /usr/lib/postgresql/<highest>/bin.
# Environment: SESI_POSTGRES_PORT (default 15432), SESI_POSTGRES_WAIT (seconds to wait, default 20).
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd -- "$SCRIPT_DIR/.." && pwd)"
PORT="${SESI_POSTGRES_PORT:-15432}"
WAIT="${SESI_POSTGRES_WAIT:-20}"
DIR="$REPO/target/postgres"
RECORD="$DIR/base-$PORT"   # holds the directory that has data-PORT, sock-PORT and the log
DB=sesi_test
PGUSER_NAME=sesi
URL="postgres://$PGUSER_NAME@127.0.0.1:$PORT/$DB"
RUN_USER=postgres          # only used when this script runs as root

log() { printf '[postgres.sh] %s\n' "$*"; }
die() { printf '[postgres.sh] ERROR: %s\n' "$*" >&2; exit 1; }

case "$PORT" in
    ''|*[!0-9]*) die "SESI_POSTGRES_PORT must be a port number (got '$PORT')" ;;
esac

# ---------------------------------------------------------------- binaries
PGBIN=""
find_bins() {
    local best d
    best="$(for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/initdb" ]; then printf '%s\n' "$d"; fi
    done | sort -V | tail -n 1)"
    [ -n "$best" ] \
        || die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin; run: scripts/install-test-deps.sh --only postgres"
    local b
    for b in initdb pg_ctl postgres psql createdb pg_isready; do
        [ -x "$best/$b" ] \
            || die "$best/$b missing; run: scripts/install-test-deps.sh --only postgres"
    done
    PGBIN="$best"
}

# ---------------------------------------------------------------- who runs the server
AS_ROOT=0
[ "$(id -u)" -eq 0 ] && AS_ROOT=1

# as_pg CMD...: run CMD as the user the server runs as (postgres when we are root), from /
# so that an unreadable working directory does not trip initdb/pg_ctl.
as_pg() {
    if [ "$AS_ROOT" -eq 1 ]; then
        if command -v runuser >/dev/null 2>&1; then
            (cd / && runuser -u "$RUN_USER" -- "$@")
        else
            (cd / && su "$RUN_USER" -s /bin/sh -c "$(printf '%q ' "$@")")
        fi
    else
        (cd / && "$@")
    fi
}

# give PATH... to the server's user (no-op when not root)
give() {
    [ "$AS_ROOT" -eq 1 ] || return 0
    chown "$RUN_USER:$RUN_USER" "$@"
}

# ---------------------------------------------------------------- paths
BASE="" DATA="" SOCK="" LOGFILE=""
set_base() {
    BASE="$1"
    DATA="$BASE/data-$PORT"
    SOCK="$BASE/sock-$PORT"
    LOGFILE="$BASE/postgres-$PORT.log"
}

# the base recorded by the last start, else the default one
load_base() {
    local b=""
    [ -f "$RECORD" ] && b="$(cat "$RECORD")"
    set_base "${b:-$DIR}"
}

# ---------------------------------------------------------------- probes
# ready: the server accepts connections (any database).
ready() {
    "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" -d postgres -t 2 >/dev/null 2>&1
}

# url_ok: the URL the tests use works.
url_ok() {
    PGCONNECT_TIMEOUT=3 "$PGBIN/psql" -X -q -At "$URL" -c 'select 1' 2>/dev/null | grep -qx 1
}

# port_busy: anything at all listens on 127.0.0.1:PORT.
port_busy() {
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null
}

# alive PID: the process exists and is not a zombie (a container's pid 1 may be slow to reap).
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    if [ -r "/proc/$1/stat" ]; then
        local stat
        stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
        stat="${stat##*) }"
        [ "${stat%% *}" != Z ]
    fi
}

# our_pid: pid of the postmaster of our data dir, if alive and serving PORT.
our_pid() {
    local pidfile="$DATA/postmaster.pid" pid port
    [ -f "$pidfile" ] || return 1
    pid="$(sed -n 1p "$pidfile")"
    port="$(sed -n 4p "$pidfile")"
    [ -n "$pid" ] && [ "$port" = "$PORT" ] && alive "$pid" || return 1
    printf '%s\n' "$pid"
}

wait_ready() {
    local deadline=$((SECONDS + WAIT))
    until ready; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

ensure_db() {
    local have
    have="$("$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" -d postgres \
        -c "select 1 from pg_database where datname = '$DB'")" \
        || die "psql could not query 127.0.0.1:$PORT as $PGUSER_NAME; see $LOGFILE"
    if [ "$have" != 1 ]; then
        "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" "$DB" \
            || die "createdb $DB failed on 127.0.0.1:$PORT"
        log "created database $DB"
    fi
    url_ok || die "$URL does not answer 'select 1'"
}

# ---------------------------------------------------------------- choosing where the data lives
# The postgres user must be able to reach BASE; /work/... may not be traversable for it, and a
# unix socket path must stay under ~107 bytes. Otherwise use a fresh mktemp dir in /tmp.
prepare_base() {
    mkdir -p "$DIR"
    set_base "$DIR"
    local ok=1
    if [ ${#SOCK} -gt 90 ]; then
        log "socket path $SOCK/.s.PGSQL.$PORT would be too long for a unix socket"
        ok=0
    else
        mkdir -p "$DATA" "$SOCK"
        : >"$LOGFILE"
        give "$DATA" "$SOCK" "$LOGFILE"
        chmod 700 "$DATA" "$SOCK"
        if ! as_pg test -w "$DATA" -a -w "$SOCK" -a -w "$LOGFILE" 2>/dev/null; then
            log "user $(as_pg id -un) cannot write under $DIR (a parent directory is not traversable)"
            ok=0
            rm -rf "$DATA" "$SOCK" "$LOGFILE"
        fi
    fi
    if [ "$ok" -eq 0 ]; then
        local tmp
        tmp="$(mktemp -d "${TMPDIR:-/tmp}/sesi-postgres-$PORT.XXXXXX")"
        chmod 755 "$tmp"
        give "$tmp"
        set_base "$tmp"
        mkdir -p "$DATA" "$SOCK"
        : >"$LOGFILE"
        give "$DATA" "$SOCK" "$LOGFILE"
        chmod 700 "$DATA" "$SOCK"
        as_pg test -w "$DATA" -a -w "$SOCK" -a -w "$LOGFILE" \
            || die "user $(as_pg id -un) cannot write to $tmp either"
        log "using $tmp for data, socket and log instead"
    fi
    printf '%s\n' "$BASE" >"$RECORD"
}

# remove_base: delete data dir and socket dir; a /tmp base goes entirely (log copied to $DIR).
remove_base() {
    rm -rf "$DATA" "$SOCK"
    if [ "$BASE" != "$DIR" ] && [ -d "$BASE" ]; then
        if [ -f "$LOGFILE" ]; then
            mkdir -p "$DIR"
            cp "$LOGFILE" "$DIR/postgres-$PORT.log" 2>/dev/null || true
        fi
        rm -rf "$BASE"
    fi
    rm -f "$RECORD"
}

# ---------------------------------------------------------------- commands
start() {
    find_bins
    mkdir -p "$DIR"
    load_base
    local pid
    if pid="$(our_pid)"; then
        if wait_ready; then
            ensure_db
            log "already running on 127.0.0.1:$PORT (pid $pid, data $DATA)"
            log "url: $URL"
            return 0
        fi
        log "our server (pid $pid) does not answer within ${WAIT}s; restarting it"
        stop
        load_base
    fi
    if ready || port_busy; then
        die "something else already listens on 127.0.0.1:$PORT (not started by this script); set SESI_POSTGRES_PORT to another port"
    fi
    if [ -e "$DATA" ] || [ -e "$SOCK" ]; then
        log "removing stale $DATA"
        remove_base
    fi
    prepare_base

    log "initdb $DATA ($(basename "$(dirname "$PGBIN")"), superuser $PGUSER_NAME, trust auth)"
    as_pg "$PGBIN/initdb" -D "$DATA" --auth=trust --username="$PGUSER_NAME" \
        --encoding=UTF8 --locale=C --no-sync >>"$LOGFILE.initdb" 2>&1 || {
        tail -n 20 "$LOGFILE.initdb" >&2 2>/dev/null || true
        die "initdb failed; see $LOGFILE.initdb"
    }
    rm -f "$LOGFILE.initdb"

    log "starting postgres on 127.0.0.1:$PORT (log $LOGFILE)"
    as_pg "$PGBIN/pg_ctl" -w -t "$WAIT" -D "$DATA" -l "$LOGFILE" \
        -o "-p $PORT -k '$SOCK' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || {
        tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
        die "pg_ctl start failed; see $LOGFILE"
    }
    if ! wait_ready; then
        tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
        die "postgres on 127.0.0.1:$PORT did not answer within ${WAIT}s; see $LOGFILE"
    fi
    ensure_db
    log "ready on 127.0.0.1:$PORT (pid $(our_pid || echo '?'), data $DATA)"
    log "url: $URL"
}

stop() {
    find_bins
    load_base
    local pid
    if ! pid="$(our_pid)"; then
        if [ -e "$DATA" ] || [ -e "$SOCK" ] || [ -f "$RECORD" ]; then
            log "removing leftover $DATA (server not running)"
            remove_base
        fi
        if ready; then
            log "no server of ours on port $PORT, but a postgres answers there (not ours); leaving it alone"
        else
            log "not running on 127.0.0.1:$PORT"
        fi
        return 0
    fi
    log "stopping postgres on 127.0.0.1:$PORT (pid $pid)"
    as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t "$WAIT" stop >/dev/null 2>&1 \
        || as_pg "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w -t "$WAIT" stop >/dev/null 2>&1 \
        || true
    local deadline=$((SECONDS + WAIT))
    while alive "$pid"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "pid $pid still alive after ${WAIT}s; sending SIGKILL"
            kill -9 "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    remove_base
    log "stopped; removed $DATA"
}

status() {
    find_bins
    load_base
    local pid
    if url_ok; then
        if pid="$(our_pid)"; then
            log "running on 127.0.0.1:$PORT (pid $pid, data $DATA); $URL answers"
        else
            log "$URL answers, but the server was not started by this script"
        fi
    elif ready || port_busy; then
        log "something listens on 127.0.0.1:$PORT, but $URL does not answer (not ours)"
        return 1
    else
        log "not running on 127.0.0.1:$PORT"
        return 1
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
