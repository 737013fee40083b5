#!/usr/bin/env bash
# sesi load benchmark: peer servers on one core, the load generator on another.
#
#   bench/run.sh [bench]   throughput + latency table (default mode)
#   bench/run.sh memory    RSS after MEM_SMALL and after MEM_LARGE distinct visitors
#   bench/run.sh smoke     ~1 s per peer, few clients; exits non-zero on any error
#   bench/run.sh build     only build the harness (release)
#
# Environment (defaults in brackets):
#   WARMUP [3] DURATION [10]   seconds of warm-up / measured load per peer (bench)
#   ROUNDS [1]                 repeat the bench ROUNDS times (bare first each round, the
#                              others rotating) and print medians over rounds
#   CLIENTS [32]               concurrent virtual clients (bench, memory)
#   PEERS ["bare axum-extra tower-sessions actix-session sesi-lib sesi-lib-sha256 sesi-serve
#          axum-extra-private actix-session-private sesi-lib-nacl", + pyramid if PYTHON]
#                              which peers to run, in order
#                              WITH_REDIS=1 adds the Redis-backed peers, on the Redis at
#                              SESI_REDIS_URL (else 127.0.0.1:SESI_REDIS_PORT, default 6379):
#                              sesi-lib-redis sesi-lib-redis-lock sesi-redis sesi-redis-lock
#                              tower-sessions-redis actix-session-redis
#                              WITH_SQL=1 adds `sesi serve` on SQL stores: sesi-postgres
#                              sesi-postgres-lock (PostgreSQL at SESI_POSTGRES_URL, else
#                              sesi@127.0.0.1:SESI_POSTGRES_PORT [15432]/sesi_test, e.g. from
#                              `scripts/postgres.sh start`) sesi-sqlite sesi-sqlite-lock (a file)
#   PYTHON                     a python with pyramid + waitress (e.g. .venv/bin/python,
#                              see scripts/install-test-deps.sh); adds the pyramid peer
#   MEM_SMALL [100] MEM_LARGE [100000]  distinct visitors for the memory mode
#   SMOKE_DURATION [1] SMOKE_CLIENTS [4]
#   SERVER_CORE [0] LOADGEN_CORE [1]    cores for taskset (SERVER_CORE may be a list: 0,1)
#   RUNTIME [pinned]           pinned: each peer on one worker thread (tokio multi-thread with
#                              one worker, or current-thread where the peer says so; actix-web
#                              with one worker). default: every peer on its framework's default
#                              runtime, as users run it (`#[tokio::main]`: a worker per core the
#                              process may use; actix-web: a worker per core), and the server
#                              then gets every core (SERVER_CORE defaults to all of them, shared
#                              with the load generator)
#   BASE_PORT [21700]          peer N listens on 127.0.0.1:BASE_PORT+N (keep it below the
#                              ephemeral range, or a client socket may hold the port)
#   SKIP_BUILD=1               use the binaries already in bench/target
#   BUILD_NICE [10]            nice level of the cargo build
#   NICE_LEVEL                 e.g. -10: run server and load generator at this nice level
#                              (as root), to shield them a little from other work
#   BENCH_PROFILE [release]    cargo profile to build and run (e.g. dev for a quicker CI build)
#   SERVER_START_TIMEOUT [20]  seconds a peer may take to accept connections
#   LOADGEN_TIMEOUT [900]      hard limit (s) on one load generator run, on top of its own
set -euo pipefail

BENCH_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd -- "$BENCH_DIR/.." && pwd)"
# Scratch space (the sesi-serve peer's data dir); removed on exit.
WORK="$(mktemp -d)"
# The same 64-byte secret the library peers sign with (peers/src/lib.rs SECRET).
SESI_BENCH_SECRET="sesi-bench-secret-0123456789abcdef-not-a-real-secret-0123456789a"
SESI_BIN_DIR="$REPO/target/release"
# The Redis of the Redis-backed peers (a throwaway one: `scripts/redis.sh start`).
REDIS_URL="${SESI_REDIS_URL:-redis://127.0.0.1:${SESI_REDIS_PORT:-6379}}"
REDIS_PEERS="sesi-lib-redis sesi-lib-redis-lock sesi-redis sesi-redis-lock tower-sessions-redis actix-session-redis"
# The PostgreSQL of the SQL peers (a throwaway one: `scripts/postgres.sh start`).
POSTGRES_URL="${SESI_POSTGRES_URL:-postgres://sesi@127.0.0.1:${SESI_POSTGRES_PORT:-15432}/sesi_test}"
SQL_PEERS="sesi-postgres sesi-postgres-lock sesi-sqlite sesi-sqlite-lock"

MODE="${1:-bench}"
WARMUP="${WARMUP:-3}"
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-1}"
CLIENTS="${CLIENTS:-32}"
MEM_SMALL="${MEM_SMALL:-100}"
MEM_LARGE="${MEM_LARGE:-100000}"
SMOKE_DURATION="${SMOKE_DURATION:-1}"
SMOKE_CLIENTS="${SMOKE_CLIENTS:-4}"
RUNTIME="${RUNTIME:-pinned}"
case "$RUNTIME" in
    pinned) SERVER_CORE="${SERVER_CORE:-0}" ;;
    default)
        SERVER_CORE="${SERVER_CORE:-0-$(( $(nproc) - 1 ))}"
        # Read by every peer (peers/src/lib.rs `run`, `actix_workers`).
        export BENCH_RUNTIME=default ;;
    *) echo "RUNTIME must be pinned or default, not '$RUNTIME'" >&2; exit 2 ;;
esac
LOADGEN_CORE="${LOADGEN_CORE:-1}"
BASE_PORT="${BASE_PORT:-21700}"
BENCH_PROFILE="${BENCH_PROFILE:-release}"
SERVER_START_TIMEOUT="${SERVER_START_TIMEOUT:-20}"

case "$BENCH_PROFILE" in
    dev) BIN="$BENCH_DIR/target/debug" ;;
    *) BIN="$BENCH_DIR/target/$BENCH_PROFILE" ;;
esac
LOG_DIR="$BENCH_DIR/target/run-logs"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------ servers
# Every server this script starts, by pid; the trap stops exactly these.
SERVER_PIDS=()

stop_server() {
    local pid="$1" _
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    if [ -n "$LOADGEN_PID" ]; then
        kill -TERM "$LOADGEN_PID" 2>/dev/null || true
        wait "$LOADGEN_PID" 2>/dev/null || true
    fi
    for pid in "${SERVER_PIDS[@]}"; do
        stop_server "$pid"
    done
    SERVER_PIDS=()
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Command prefixes that pin a process to a core (empty when taskset is missing).
SERVER_PIN=(taskset -c "$SERVER_CORE")
LOADGEN_PIN=(taskset -c "$LOADGEN_CORE")
if [ -n "${NICE_LEVEL:-}" ]; then
    SERVER_PIN=(nice -n "$NICE_LEVEL" "${SERVER_PIN[@]}")
    LOADGEN_PIN=(nice -n "$NICE_LEVEL" "${LOADGEN_PIN[@]}")
fi

# peer_cmd NAME PORT: sets CMD to the command line of peer NAME on PORT.
peer_cmd() {
    local addr="127.0.0.1:$2"
    case "$1" in
        bare | actix-bare | axum-extra | axum-extra-private | tower-sessions | actix-session \
            | actix-session-private | wrong-counter)
            CMD=("$BIN/$1" --addr "$addr") ;;
        pyramid)
            [ -n "${PYTHON:-}" ] || die "the pyramid peer needs PYTHON=/path/to/python"
            CMD=("$PYTHON" "$BENCH_DIR/pyramid/counter_app.py" --addr "$addr") ;;
        # ---------------------------------------------------------- sesi peers
        #   sesi-lib    a minimal axum app over the library (peers/src/bin/sesi-lib.rs);
        #               sesi-lib-sha256 signs with SHA-256, sesi-lib-nacl encrypts
        #   sesi-serve  the real `sesi serve` binary, built by the root workspace
        #   sesi-memory `sesi serve --store memory` (opt-in: name it in PEERS)
        #   sesi-redis  `sesi serve --store redis://...` (opt-in: name it in PEERS); needs a
        #               running redis-server at SESI_REDIS_URL, else 127.0.0.1:SESI_REDIS_PORT
        #               (default 6379), e.g. from `scripts/redis.sh start`
        sesi-lib | sesi-lib-sha256 | sesi-lib-nacl)
            CMD=("$BIN/$1" --addr "$addr") ;;
        # ------------------------------------------------- Redis-backed peers (opt-in)
        #   sesi-lib-redis[-lock]  the library with sesi_redis::RedisStore (with locking)
        #   tower-sessions-redis   tower-sessions 0.14 + tower-sessions-redis-store 0.16 (fred)
        #   actix-session-redis    actix-session's RedisSessionStore (redis-rs)
        #   all on the Redis at REDIS_URL (see below), as is sesi-redis
        sesi-lib-redis | sesi-lib-redis-lock | tower-sessions-redis | actix-session-redis)
            CMD=(env "BENCH_REDIS_URL=$REDIS_URL" "$BIN/$1" --addr "$addr") ;;
        sesi-serve)
            # The real binary, its counter page at `/`; logging at warn so the log
            # line per request is not what is measured (see SESI_LOG).
            CMD=(env "RUST_LOG=${SESI_LOG:-warn}" "SESI_SECRET=$SESI_BENCH_SECRET"
                 "XDG_DATA_HOME=$WORK/xdg" "$SESI_BIN_DIR/sesi" serve --addr "$addr") ;;
        sesi-memory)
            CMD=(env "RUST_LOG=${SESI_LOG:-warn}" "SESI_SECRET=$SESI_BENCH_SECRET"
                 "XDG_DATA_HOME=$WORK/xdg" "$SESI_BIN_DIR/sesi" serve --addr "$addr"
                 --store memory) ;;
        sesi-redis)
            CMD=(env "RUST_LOG=${SESI_LOG:-warn}" "SESI_SECRET=$SESI_BENCH_SECRET"
                 "XDG_DATA_HOME=$WORK/xdg" "$SESI_BIN_DIR/sesi" serve --addr "$addr"
                 --store "$REDIS_URL") ;;
        sesi-redis-lock)
            CMD=(env "RUST_LOG=${SESI_LOG:-warn}" "SESI_SECRET=$SESI_BENCH_SECRET"
                 "XDG_DATA_HOME=$WORK/xdg" "$SESI_BIN_DIR/sesi" serve --addr "$addr"
                 --store "$REDIS_URL" --lock) ;;
        # ------------------------------------------------- SQL-backed peers (opt-in)
        #   sesi-postgres[-lock]  `sesi serve --store postgres://...` on POSTGRES_URL
        #   sesi-sqlite[-lock]    `sesi serve --store sqlite://...`, a file in the scratch dir
        sesi-postgres | sesi-postgres-lock | sesi-sqlite | sesi-sqlite-lock)
            local store="$POSTGRES_URL" lock=()
            case "$1" in sesi-sqlite*) store="sqlite://$WORK/sessions.db" ;; esac
            case "$1" in *-lock) lock=(--lock) ;; esac
            CMD=(env "RUST_LOG=${SESI_LOG:-warn}" "SESI_SECRET=$SESI_BENCH_SECRET"
                 "XDG_DATA_HOME=$WORK/xdg" "$SESI_BIN_DIR/sesi" serve --addr "$addr"
                 --store "$store" "${lock[@]}") ;;
        *)
            die "unknown peer '$1'" ;;
    esac
}

# start_server NAME PORT: starts the peer pinned to SERVER_CORE, waits until it
# accepts connections, sets SERVER_PID. Fails if it dies or never listens.
start_server() {
    local name="$1" port="$2" waited=0 limit
    if port_open "$port"; then
        die "127.0.0.1:$port already accepts connections; set BASE_PORT to a free range"
    fi
    peer_cmd "$name" "$port"
    mkdir -p "$LOG_DIR"
    # A simple command in the background: $! is the server itself (taskset execs it).
    "${SERVER_PIN[@]}" "${CMD[@]}" >"$LOG_DIR/$name.log" 2>&1 &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    limit=$((SERVER_START_TIMEOUT * 20))
    until port_open "$port"; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            wait "$SERVER_PID" 2>/dev/null || true
            log "$name exited before listening; its log:"
            sed 's/^/    /' "$LOG_DIR/$name.log" >&2
            return 1
        fi
        waited=$((waited + 1))
        if [ "$waited" -ge "$limit" ]; then
            log "$name did not listen on 127.0.0.1:$port within ${SERVER_START_TIMEOUT}s"
            return 1
        fi
        sleep 0.05
    done
}

# forget_server PID: stops it and drops it from the trap's list.
forget_server() {
    local pid="$1" keep=() p
    stop_server "$pid"
    for p in "${SERVER_PIDS[@]}"; do
        [ "$p" = "$pid" ] || keep+=("$p")
    done
    SERVER_PIDS=("${keep[@]}")
}

# ------------------------------------------------------------------ load generator
LOADGEN_PID=""

# run_loadgen PORT ARGS...: runs the load generator pinned to LOADGEN_CORE and
# sets LOADGEN_JSON to its report; returns its exit status. It runs in the
# background and is waited for, so a signal to this script stops it at once
# (the trap kills it). Also bounded by `timeout`, on top of its own limits.
run_loadgen() {
    local port="$1" rc=0
    shift
    LOADGEN_JSON=""
    timeout --kill-after=5 "${LOADGEN_TIMEOUT:-900}" \
        "${LOADGEN_PIN[@]}" "$BIN/loadgen" --url "http://127.0.0.1:$port/" --json "$@" \
        >"$LOG_DIR/loadgen.json" &
    LOADGEN_PID=$!
    wait "$LOADGEN_PID" || rc=$?
    LOADGEN_PID=""
    LOADGEN_JSON="$(cat "$LOG_DIR/loadgen.json")"
    return "$rc"
}

# json_field JSON KEY: the raw value of a top-level number/bool field.
json_field() {
    sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" <<<"$1"
}

# cpu_ticks PID: user+system clock ticks the process has used so far.
cpu_ticks() {
    sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# rss_kib PID FIELD: VmRSS or VmHWM of the process, in KiB.
rss_kib() {
    awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}

mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
ms() { awk -v u="$1" 'BEGIN {printf "%.3f", u / 1000}'; }

# ------------------------------------------------------------------ setup
build() {
    local profile_flag=(--profile "$BENCH_PROFILE")
    log "building the harness (cargo build ${profile_flag[*]}) in $BENCH_DIR"
    (cd "$BENCH_DIR" && nice -n "${BUILD_NICE:-10}" cargo build "${profile_flag[@]}" --bins)
    log "building the real sesi binary (cargo build ${profile_flag[*]} -p sesi-app) in $REPO"
    (cd "$REPO" && nice -n "${BUILD_NICE:-10}" cargo build "${profile_flag[@]}" -p sesi-app --bin sesi)
    SESI_BIN_DIR="$REPO/target/$( [ "$BENCH_PROFILE" = dev ] && echo debug || echo "$BENCH_PROFILE")"
}

check_machine() {
    if ! command -v taskset >/dev/null 2>&1; then
        SERVER_PIN=()
        if [ -n "${NICE_LEVEL:-}" ]; then
            SERVER_PIN=(nice -n "$NICE_LEVEL")
        fi
        LOADGEN_PIN=("${SERVER_PIN[@]}")
        log "WARNING: taskset not found (util-linux); running unpinned, figures are noisier"
    elif [ "$(nproc)" -lt 2 ]; then
        log "WARNING: fewer than 2 cores; server and load generator share core $SERVER_CORE"
        LOADGEN_CORE="$SERVER_CORE"
        LOADGEN_PIN=("${SERVER_PIN[@]}")
    fi
    # The load generator's own sockets get ports from the ephemeral range; a
    # peer port inside it can be taken by one of them between two peers.
    local lo hi
    if read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null &&
        [ "$BASE_PORT" -le "$hi" ] && [ $((BASE_PORT + 20)) -ge "$lo" ]; then
        log "WARNING: BASE_PORT=$BASE_PORT overlaps the ephemeral ports $lo-$hi; binds may fail"
    fi
}

# warn_if_busy: figures are only meaningful on an otherwise idle machine, so
# sample /proc/stat for a second before loading and say if something else runs.
warn_if_busy() {
    local a b
    read -r -a a < <(grep '^cpu ' /proc/stat)
    sleep 1
    read -r -a b < <(grep '^cpu ' /proc/stat)
    awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
        n = split(a, x, " "); split(b, y, " ")
        for (i = 2; i <= n; i++) { d = y[i] - x[i]; total += d; if (i == 5 || i == 6) idle += d }
        busy = total > 0 ? 100 * (total - idle) / total : 0
        if (busy > 10) {
            printf "[bench] WARNING: the machine was %.0f%% busy before the run (other builds?);", busy
            printf " figures will be noisy, see the CPU columns\n"
        }
    }' >&2
}

# The peers to run, in order: PEERS if given, otherwise every peer available.
select_peers() {
    if [ -n "${PEERS:-}" ]; then
        PEER_LIST="$PEERS"
        return 0
    fi
    PEER_LIST="bare axum-extra tower-sessions actix-session"
    PEER_LIST="$PEER_LIST sesi-lib sesi-lib-sha256 sesi-serve"
    PEER_LIST="$PEER_LIST axum-extra-private actix-session-private sesi-lib-nacl"
    if [ "${WITH_REDIS:-}" = 1 ]; then
        PEER_LIST="$PEER_LIST $REDIS_PEERS"
    fi
    if [ "${WITH_SQL:-}" = 1 ]; then
        PEER_LIST="$PEER_LIST $SQL_PEERS"
    fi
    if [ -n "${PYTHON:-}" ]; then
        PEER_LIST="$PEER_LIST pyramid"
    else
        log "skipping the pyramid peer: set PYTHON to a python with pyramid + waitress"
    fi
}

# ------------------------------------------------------------------ modes
# median "N N N": the median of space-separated numbers (the mean of the middle two for an
# even count).
median() {
    tr -s ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2];
        else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# uses_redis NAME: the peer keeps its sessions in Redis.
uses_redis() {
    case "$1" in
        *-redis | *-redis-lock) return 0 ;;
        *) return 1 ;;
    esac
}

# uses_postgres NAME: the peer keeps its sessions in PostgreSQL.
uses_postgres() {
    case "$1" in
        *-postgres | *-postgres-lock) return 0 ;;
        *) return 1 ;;
    esac
}

# psql_at QUERY: one value from the PostgreSQL at POSTGRES_URL.
psql_at() {
    local psql
    psql="$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)"
    "${psql:-psql}" "$POSTGRES_URL" -Atqc "$1"
}

# postgres_statements: transactions committed in the database so far; every store statement
# is one (autocommit), and a backend reports its count at the latest when it exits.
postgres_statements() {
    psql_at "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
}

# postgres_ticks: the CPU ticks of every running postgres process (the server's backends).
postgres_ticks() {
    local pid sum=0
    for pid in $(pgrep -x postgres); do
        sum=$((sum + $(cpu_ticks "$pid" 2>/dev/null || echo 0)))
    done
    echo "$sum"
}

# redis_calls: commands Redis ran since the last CONFIG RESETSTAT (the script's own INFO and
# CONFIG left out; commands inside a script, such as an unlock's GET and DEL, counted apart
# from the EVAL that ran them).
redis_calls() {
    redis-cli -u "$REDIS_URL" info commandstats | tr -d '\r' | awk -F'[:=,]' '
        /^cmdstat_/ { name = substr($1, 9); if (name != "info" && name !~ /^config/) sum += $3 }
        END { print sum + 0 }'
}

# redis_pid: the process id of the Redis at REDIS_URL (for its CPU time; local only).
redis_pid() {
    redis-cli -u "$REDIS_URL" info server | tr -d '\r' | awk -F: '$1 == "process_id" { print $2 }'
}

# run_peer_once NAME PORT: one measured load run; appends its figures to the
# per-peer lists (RPS, P50, P99, ERR, SCPU, LCPU), or returns 1 with a note in FAIL.
run_peer_once() {
    local name="$1" port="$2" json rc ticks0 ticks1 t0 t1 clk errors
    clk="$(getconf CLK_TCK)"
    if ! start_server "$name" "$port"; then
        FAIL[$name]="failed to start"
        return 1
    fi
    log "$name: loading 127.0.0.1:$port"
    local rpid="" rticks0=0 rticks1=0
    local pstmt0=""
    if uses_redis "$name"; then
        redis-cli -u "$REDIS_URL" config resetstat >/dev/null
        rpid="$(redis_pid)"
        [ -r "/proc/$rpid/stat" ] && rticks0="$(cpu_ticks "$rpid")" || rpid=""
    elif uses_postgres "$name"; then
        pstmt0="$(postgres_statements)"
        rpid=postgres rticks0="$(postgres_ticks)"
    fi
    ticks0="$(cpu_ticks "$SERVER_PID")"
    t0="$(date +%s.%N)"
    rc=0
    TIMEFORMAT='%R %U %S'
    { time run_loadgen "$port" --clients "$CLIENTS" --warmup "$WARMUP" \
        --duration "$DURATION"; } 2>"$LOG_DIR/loadgen-$name.time" || rc=$?
    json="$LOADGEN_JSON"
    t1="$(date +%s.%N)"
    ticks1="$(cpu_ticks "$SERVER_PID")"
    local calls=""
    if uses_redis "$name"; then
        calls="$(redis_calls)"
        [ -n "$rpid" ] && rticks1="$(cpu_ticks "$rpid")"
    elif uses_postgres "$name"; then
        rticks1="$(postgres_ticks)"
    fi
    forget_server "$SERVER_PID"
    if uses_postgres "$name"; then
        # The server's connections closed: their backends have reported their counts.
        sleep 1
        calls=$(( $(postgres_statements) - pstmt0 ))
    fi
    if [ -z "$json" ]; then
        log "$name: the load generator printed no report (exit $rc)"
        sed 's/^/    /' "$LOG_DIR/loadgen-$name.time" >&2
        FAIL[$name]="no report"
        return 1
    fi
    errors="$(json_field "$json" errors)"
    if [ "$rc" != 0 ] || [ "$errors" != 0 ]; then
        log "$name: $errors errors (exit $rc); report: $json"
        FAIL[$name]="errors"
    fi
    RPS[$name]+=" $(json_field "$json" rps)"
    P50[$name]+=" $(json_field "$json" p50_us)"
    P99[$name]+=" $(json_field "$json" p99_us)"
    ERR[$name]=$(( ${ERR[$name]:-0} + errors ))
    SCPU[$name]+=" $(awk -v a="$ticks0" -v b="$ticks1" -v c="$clk" -v t0="$t0" -v t1="$t1" \
        'BEGIN { printf "%.0f", 100 * (b - a) / c / (t1 - t0) }')"
    # Server CPU per answered request (warm-up included on both sides): the server's own cost,
    # which req/s hides when the load generator is the bottleneck (as it can be for bare).
    CPUREQ[$name]+=" $(awk -v a="$ticks0" -v b="$ticks1" -v c="$clk" -v n="$(json_field "$json" total_ok)" \
        'BEGIN { if (n > 0) printf "%.2f", 1e6 * (b - a) / c / n; else print 0 }')"
    if [ -n "$calls" ]; then
        # Commands per answered request (warm-up included, like server µs/req).
        RCMD[$name]+=" $(awk -v c="$calls" -v n="$(json_field "$json" total_ok)" \
            'BEGIN { if (n > 0) printf "%.2f", c / n; else print 0 }')"
        if [ -n "$rpid" ]; then
            RCPU[$name]+=" $(awk -v a="$rticks0" -v b="$rticks1" -v c="$clk" -v n="$(json_field "$json" total_ok)" \
                'BEGIN { if (n > 0) printf "%.2f", 1e6 * (b - a) / c / n; else print 0 }')"
        fi
    fi
    LCPU[$name]+=" $(tail -n 1 "$LOG_DIR/loadgen-$name.time" |
        awk '{ if ($1 > 0) printf "%.0f", 100 * ($2 + $3) / $1; else print 0 }')"
    LAST_RPS="$(json_field "$json" rps)"
    LAST_P99="$(json_field "$json" p99_us)"
}

mode_bench() {
    local peers=() others=() order=() name port idx round k n failed=0
    local bare_rps bare_p99 rows=() scpu lcpu
    declare -gA RPS=() P50=() P99=() ERR=() SCPU=() LCPU=() CPUREQ=() RATIO=() P99RATIO=() FAIL=()
    declare -gA RCMD=() RCPU=()
    read -r -a peers <<<"$PEER_LIST"
    for name in "${peers[@]}"; do
        [ "$name" = bare ] || others+=("$name")
    done
    warn_if_busy
    log "bench: $CLIENTS clients, ${WARMUP}s warm-up + ${DURATION}s measured per peer," \
        "$ROUNDS round(s); server on core $SERVER_CORE, loadgen on core $LOADGEN_CORE"
    for ((round = 0; round < ROUNDS; round++)); do
        # `bare` opens every round, so each ratio compares runs minutes apart at most; the
        # other peers rotate, so none is always the one measured last.
        order=()
        [[ " $PEER_LIST " == *" bare "* ]] && order+=(bare)
        n=${#others[@]}
        for ((k = 0; k < n; k++)); do
            order+=("${others[$(((k + round) % n))]}")
        done
        [ "$ROUNDS" -gt 1 ] && log "round $((round + 1)) of $ROUNDS: ${order[*]}"
        bare_rps="" bare_p99=""
        for name in "${order[@]}"; do
            idx=0
            for k in "${!peers[@]}"; do [ "${peers[$k]}" = "$name" ] && idx=$k; done
            port=$((BASE_PORT + idx))
            LAST_RPS="" LAST_P99=""
            run_peer_once "$name" "$port" || { failed=1; continue; }
            if [ "$name" = bare ]; then
                bare_rps="$LAST_RPS" bare_p99="$LAST_P99"
            fi
            if [ -n "$bare_rps" ]; then
                RATIO[$name]+=" $(awk -v r="$LAST_RPS" -v b="$bare_rps" 'BEGIN { print r / b }')"
                P99RATIO[$name]+=" $(awk -v r="$LAST_P99" -v b="$bare_p99" 'BEGIN { print r / b }')"
            fi
        done
    done
    for name in "${peers[@]}"; do
        if [ -z "${RPS[$name]:-}" ]; then
            rows+=("| $name | ${FAIL[$name]:-failed} | | | | | | | | | | | |")
            continue
        fi
        [ -n "${FAIL[$name]:-}" ] && failed=1
        local ratios=() range="n/a" ratio="n/a" p99r="n/a"
        read -r -a ratios <<<"${RATIO[$name]:-}"
        if [ "${#ratios[@]}" -gt 0 ]; then
            ratio="$(printf '%.2f' "$(median "${RATIO[$name]}")")"
            p99r="$(printf '%.2f' "$(median "${P99RATIO[$name]}")")"
            range="$(printf '%s\n' "${ratios[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 }
                END { if (NR > 1) printf "%.2f–%.2f", lo, hi; else print "-" }')"
        fi
        scpu="$(median "${SCPU[$name]}")" lcpu="$(median "${LCPU[$name]}")"
        local rcmd="-" rcpu="-" cpureqs=() cpurange="-"
        [ -n "${RCMD[$name]:-}" ] && rcmd="$(median "${RCMD[$name]}")"
        [ -n "${RCPU[$name]:-}" ] && rcpu="$(median "${RCPU[$name]}")"
        read -r -a cpureqs <<<"${CPUREQ[$name]}"
        if [ "${#cpureqs[@]}" -gt 1 ]; then
            cpurange="$(printf '%s\n' "${cpureqs[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 }
                END { printf "%.2f–%.2f", lo, hi }')"
        fi
        rows+=("$(printf '| %s | %.0f | %s | %s | %s | %s | %s | %s | %.0f%% | %.0f%% | %.2f | %s | %s | %s |' "$name" \
            "$(median "${RPS[$name]}")" "$ratio" "$range" \
            "$(ms "$(median "${P50[$name]}")")" "$(ms "$(median "${P99[$name]}")")" "$p99r" \
            "${ERR[$name]}" "$scpu" "$lcpu" "$(median "${CPUREQ[$name]}")" "$cpurange" "$rcmd" "$rcpu")")
    done
    echo
    echo "$CLIENTS keep-alive clients, each with its own cookie jar; ${WARMUP}s warm-up, ${DURATION}s measured;"
    if [ "$RUNTIME" = default ]; then
        echo "RUNTIME=default: every peer on its framework's default runtime (a worker per core),"
        echo "server on cores $SERVER_CORE, load generator on core $LOADGEN_CORE (sharing it)."
    else
        echo "server pinned to core $SERVER_CORE (1 worker thread), load generator to core $LOADGEN_CORE."
    fi
    if [ "$ROUNDS" -gt 1 ]; then
        echo "$ROUNDS rounds, each opened by bare: medians over rounds; a ratio is taken within its"
        echo "round, \"range\" is the lowest and highest of them. Errors are summed over rounds."
    fi
    echo "CPU columns are the share of one core used over warm-up + measurement; server µs/req is"
    echo "the server's CPU time over that span divided by the requests it answered."
    echo
    echo "store cmd/req: commands Redis ran per answered request (INFO commandstats; a script's"
    echo "inner commands count too), or statements PostgreSQL committed (pg_stat_database);"
    echo "store µs/req: the Redis process's, or every postgres process's, CPU per request (\"-\""
    echo "for peers without a store server)."
    echo
    echo "| server | req/s | vs bare | range | p50 ms | p99 ms | p99 vs bare | errors | server CPU | loadgen CPU | server µs/req | µs/req range | store cmd/req | store µs/req |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${rows[@]}"
    peer_ratios "${peers[@]}"
    per_round "${peers[@]}"
    return "$failed"
}

# per_round PEER...: every round's req/s and server µs/req, for ratios the tables above do not
# take (against one peer, or against a framework's own bare server).
per_round() {
    local name
    [ "$ROUNDS" -gt 1 ] || return 0
    echo
    echo "Per round (req/s; server µs/req):"
    echo
    for name in "$@"; do
        [ -n "${RPS[$name]:-}" ] || continue
        local n note=""
        n="$(wc -w <<<"${RPS[$name]}")"
        # A failed round leaves no figures, so the rounds of this peer no longer line up.
        [ "$n" = "$ROUNDS" ] || note=" ($n of $ROUNDS rounds: not aligned with the others)"
        printf -- '- %s:%s;%s%s\n' "$name" \
            "$(awk '{ for (i = 1; i <= NF; i++) printf " %.0f", $i }' <<<"${RPS[$name]}")" \
            "${CPUREQ[$name]:-}" "$note"
    done
}

# peer_ratios PEER...: for each sesi peer, its ratio to the best of the Rust session peers of its
# kind within each round, by req/s (sesi / best) and by server CPU per request (best / sesi), as
# the median and range over rounds. The kinds: encrypted cookies (sesi-lib-nacl against the
# *-private peers) and signed cookies (every other sesi peer against the other peers). Framework
# baselines (bare, actix-bare), pyramid and the store peers are never a "best peer".
peer_ratios() {
    local name signed=() private=() mine=() rows=() r rounds
    for name in "$@"; do
        case "$name" in
            bare | *-bare | pyramid | wrong-counter | *-redis* | *-postgres* | *-sqlite* | *-memory) ;;
            sesi-*) mine+=("$name") ;;
            *-private) private+=("$name") ;;
            *) signed+=("$name") ;;
        esac
    done
    [ "${#mine[@]}" -gt 0 ] || return 0
    local kinds=()
    for name in "${mine[@]}"; do
        local others=()
        case "$name" in
            *-nacl) others=("${private[@]}") ;;
            *) others=("${signed[@]}") ;;
        esac
        [ "${#others[@]}" -gt 0 ] || continue
        local rps=() cpu=() byrps=() bycpu=() ok=1 peer
        read -r -a rps <<<"${RPS[$name]:-}"
        read -r -a cpu <<<"${CPUREQ[$name]:-}"
        rounds="${#rps[@]}"
        for peer in "${others[@]}"; do
            local n
            n="$(wc -w <<<"${RPS[$peer]:-}")"
            [ "$n" = "$rounds" ] || ok=0
        done
        [ "$ok" = 1 ] && [ "$rounds" -gt 0 ] || continue
        for ((r = 0; r < rounds; r++)); do
            local best_rps=0 best_cpu="" v c
            for peer in "${others[@]}"; do
                v="$(awk -v i=$((r + 1)) '{ print $i }' <<<"${RPS[$peer]}")"
                c="$(awk -v i=$((r + 1)) '{ print $i }' <<<"${CPUREQ[$peer]}")"
                best_rps="$(awk -v a="$best_rps" -v b="$v" 'BEGIN { print (b > a) ? b : a }')"
                best_cpu="$(awk -v a="$best_cpu" -v b="$c" 'BEGIN { print (a == "" || b < a) ? b : a }')"
            done
            byrps+=("$(awk -v s="${rps[$r]}" -v b="$best_rps" 'BEGIN { printf "%.3f", s / b }')")
            bycpu+=("$(awk -v s="${cpu[$r]}" -v b="$best_cpu" 'BEGIN { printf "%.3f", b / s }')")
        done
        local spread_rps spread_cpu
        spread_rps="$(printf '%s\n' "${byrps[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f–%.2f", lo, hi }')"
        spread_cpu="$(printf '%s\n' "${bycpu[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f–%.2f", lo, hi }')"
        rows+=("$(printf '| %s | %.2f | %s | %.2f | %s |' "$name" "$(median "${byrps[*]}")" "$spread_rps" "$(median "${bycpu[*]}")" "$spread_cpu")")
        kinds+=("$name: ${others[*]}")
    done
    [ "${#rows[@]}" -gt 0 ] || return 0
    echo
    echo "Against the best Rust session peer of its kind in each round: the median of the per-round"
    echo "ratios and their range; by req/s (sesi / best) and by server CPU per request (best / sesi)."
    printf -- '- %s\n' "${kinds[@]}"
    echo
    echo "| server | vs best peer, req/s | range | vs best peer, CPU/req | range |"
    echo "|---|---:|---:|---:|---:|"
    printf '%s\n' "${rows[@]}"
}

mode_memory() {
    local peers idx=0 name port rc small_rss large_rss large_hwm rows=() failed=0
    local rest=$((MEM_LARGE - MEM_SMALL))
    [ "$rest" -gt 0 ] || die "MEM_LARGE ($MEM_LARGE) must exceed MEM_SMALL ($MEM_SMALL)"
    peers="$PEER_LIST"
    log "memory: RSS after $MEM_SMALL and after $MEM_LARGE distinct visitors (one request each)"
    for name in $peers; do
        port=$((BASE_PORT + idx))
        idx=$((idx + 1))
        if ! start_server "$name" "$port"; then
            rows+=("| $name | failed to start | | | |")
            failed=1
            continue
        fi
        rc=0
        run_loadgen "$port" --fresh-visitors --clients "$CLIENTS" --warmup 0 \
            --duration 600 --max-requests "$MEM_SMALL" || rc=$?
        small_rss="$(rss_kib "$SERVER_PID" VmRSS)"
        if [ "$rc" = 0 ]; then
            log "$name: $MEM_SMALL visitors done, RSS $(mib "$small_rss") MiB; $rest more"
            run_loadgen "$port" --fresh-visitors --clients "$CLIENTS" --warmup 0 \
                --duration 600 --max-requests "$rest" || rc=$?
        fi
        large_rss="$(rss_kib "$SERVER_PID" VmRSS)"
        large_hwm="$(rss_kib "$SERVER_PID" VmHWM)"
        forget_server "$SERVER_PID"
        if [ "$rc" != 0 ]; then
            log "$name: the load generator failed (exit $rc): $LOADGEN_JSON"
            rows+=("| $name | load failed | | | |")
            failed=1
            continue
        fi
        rows+=("$(printf '| %s | %s | %s | %s | %s |' "$name" "$(mib "$small_rss")" \
            "$(mib "$large_rss")" \
            "$(awk -v a="$small_rss" -v b="$large_rss" 'BEGIN { printf "%.2f", b / a }')" \
            "$(mib "$large_hwm")")")
    done
    echo
    echo "Server RSS (VmRSS, MiB) after $MEM_SMALL and after $MEM_LARGE distinct visitors"
    echo "(each visitor: one request with an empty cookie jar; $CLIENTS keep-alive connections)."
    echo
    echo "| server | RSS @ $MEM_SMALL | RSS @ $MEM_LARGE | ratio | peak (VmHWM) |"
    echo "|---|---:|---:|---:|---:|"
    printf '%s\n' "${rows[@]}"
    return "$failed"
}

# smoke_load NAME PORT ARGS...: one short loadgen run that must pass; sets
# SMOKE_OK to the number of successful requests.
smoke_load() {
    local name="$1" port="$2" rc=0 errors
    shift 2
    SMOKE_OK=""
    run_loadgen "$port" "$@" || rc=$?
    errors="$(json_field "$LOADGEN_JSON" errors)"
    SMOKE_OK="$(json_field "$LOADGEN_JSON" total_ok)"
    if [ "$rc" != 0 ] || [ "${errors:-x}" != 0 ] || [ "${SMOKE_OK:-0}" -lt 1 ]; then
        log "FAIL $name ($*): exit $rc, report: ${LOADGEN_JSON:-none}"
        SMOKE_OK=""
        return 1
    fi
}

mode_smoke() {
    local peers idx=0 name port json rc count keep fresh failed=0 rows=()
    peers="$PEER_LIST"
    log "smoke: ${SMOKE_DURATION}s x $SMOKE_CLIENTS clients per peer, then 50 new visitors"

    # Negative control: the checks must catch a server that never reads its cookie.
    port="$BASE_PORT"
    start_server wrong-counter "$port" || die "the wrong-counter control did not start"
    rc=0
    run_loadgen "$port" --clients 2 --warmup 0 --duration 5 --max-requests 20 || rc=$?
    json="$LOADGEN_JSON"
    forget_server "$SERVER_PID"
    count="$(json_field "$json" count)"
    if [ "$rc" = 1 ] && [ "${count:-0}" -gt 0 ]; then
        log "ok   wrong-counter control: loadgen caught $count wrong counters"
    else
        log "FAIL wrong-counter control: loadgen exit $rc, report: ${json:-none}"
        failed=1
    fi

    for name in $peers; do
        idx=$((idx + 1))
        port=$((BASE_PORT + idx))
        if ! start_server "$name" "$port"; then
            rows+=("| $name | failed to start | | FAIL |")
            failed=1
            continue
        fi
        keep="" fresh=""
        smoke_load "$name" "$port" --clients "$SMOKE_CLIENTS" --warmup 0 \
            --duration "$SMOKE_DURATION" || failed=1
        keep="$SMOKE_OK"
        smoke_load "$name" "$port" --fresh-visitors --clients "$SMOKE_CLIENTS" \
            --warmup 0 --duration 10 --max-requests 50 || failed=1
        fresh="$SMOKE_OK"
        forget_server "$SERVER_PID"
        if [ -n "$keep" ] && [ "$fresh" = 50 ]; then
            log "ok   $name: $keep returning-visitor requests, $fresh new visitors"
            rows+=("| $name | $keep | $fresh | ok |")
        else
            [ -n "$fresh" ] && [ "$fresh" != 50 ] && log "FAIL $name: $fresh of 50 new visitors"
            rows+=("| $name | ${keep:-error} | ${fresh:-error} | FAIL |")
            failed=1
        fi
    done
    echo
    echo "| server | returning-visitor requests | new visitors | result |"
    echo "|---|---:|---:|---|"
    printf '%s\n' "${rows[@]}"
    if [ "$failed" != 0 ]; then
        log "smoke FAILED"
        return 1
    fi
    log "smoke passed"
}

case "$MODE" in
    bench | memory | smoke | build) ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
    *) die "unknown mode '$MODE'; use bench, memory, smoke or build" ;;
esac

[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, not '$ROUNDS'"
check_machine
select_peers
if [ -n "${PYTHON:-}" ] && [[ " $PEER_LIST " == *" pyramid "* ]]; then
    "$PYTHON" -c 'import pyramid, waitress' 2>/dev/null ||
        die "PYTHON=$PYTHON cannot import pyramid and waitress"
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    build
fi
[ "$MODE" = build ] && exit 0
[ -x "$BIN/loadgen" ] || die "$BIN/loadgen is missing; run without SKIP_BUILD=1"
mkdir -p "$LOG_DIR"

"mode_$MODE"
