#!/usr/bin/env bash
# Throwaway redis-server for sesi's store tests.
#
#   scripts/redis.sh start    start on 127.0.0.1:$SESI_REDIS_PORT (default 6379),
#                             no persistence, daemonized; wait for PONG
#   scripts/redis.sh stop     shut it down (no save)
#   scripts/redis.sh status   say whether it answers
#
# Pidfile, logfile and working dir live in $REPO/target/redis/.
# Environment: SESI_REDIS_PORT (default 6379), SESI_REDIS_WAIT (seconds to wait
# for PONG / for shutdown, default 10).
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd -- "$SCRIPT_DIR/.." && pwd)"
PORT="${SESI_REDIS_PORT:-6379}"
WAIT="${SESI_REDIS_WAIT:-10}"
DIR="$REPO/target/redis"
PIDFILE="$DIR/redis-$PORT.pid"
LOGFILE="$DIR/redis-$PORT.log"

log() { printf '[redis.sh] %s\n' "$*"; }
die() { printf '[redis.sh] ERROR: %s\n' "$*" >&2; exit 1; }

need() {
    command -v "$1" >/dev/null 2>&1 \
        || die "$1 not found; run: scripts/install-test-deps.sh --only redis"
}

ping() { redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -qx PONG; }

pid_alive() {
    [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

start() {
    need redis-server
    need redis-cli
    mkdir -p "$DIR"
    if pid_alive && ping; then
        log "already running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
        return 0
    fi
    if ping; then
        die "something else already answers on 127.0.0.1:$PORT (not started by this script); set SESI_REDIS_PORT to another port"
    fi
    rm -f "$PIDFILE"
    log "starting redis-server on 127.0.0.1:$PORT (log $LOGFILE)"
    redis-server \
        --bind 127.0.0.1 \
        --port "$PORT" \
        --save '' \
        --appendonly no \
        --daemonize yes \
        --pidfile "$PIDFILE" \
        --logfile "$LOGFILE" \
        --dir "$DIR" \
        || die "redis-server failed to start; see $LOGFILE"
    local deadline=$((SECONDS + WAIT))
    until ping; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
            die "redis on 127.0.0.1:$PORT did not answer PONG within ${WAIT}s; see $LOGFILE"
        fi
        sleep 0.1
    done
    log "ready: redis-cli -p $PORT ping -> PONG (pid $(cat "$PIDFILE" 2>/dev/null || echo '?'))"
}

stop() {
    need redis-cli
    if ! pid_alive; then
        rm -f "$PIDFILE"
        if ping; then
            log "no pidfile for port $PORT, but a redis answers there (not ours); leaving it alone"
        else
            log "not running on 127.0.0.1:$PORT"
        fi
        return 0
    fi
    local pid
    pid="$(cat "$PIDFILE")"
    log "stopping redis-server on 127.0.0.1:$PORT (pid $pid)"
    redis-cli -h 127.0.0.1 -p "$PORT" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + WAIT))
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "pid $pid still alive after ${WAIT}s; sending SIGKILL"
            kill -9 "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    rm -f "$PIDFILE"
    log "stopped"
}

status() {
    if ping; then
        if pid_alive; then
            log "running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
        else
            log "a redis answers on 127.0.0.1:$PORT, but not one started by this script"
        fi
    else
        log "not running on 127.0.0.1:$PORT"
        return 1
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
