#!/usr/bin/env bash
# Every test of sesi, with nothing skipped: the README's test command.
#
#   scripts/test.sh [CARGO TEST ARGS...]
#
# 1. installs what the tests need (scripts/install-test-deps.sh: Python with Pyramid, Chromium and
#    chromedriver, redis-server, PostgreSQL), idempotently;
# 2. starts the services the tests use, each unless one already answers there: a throwaway
#    redis-server on 127.0.0.1:$SESI_REDIS_PORT (default 16379) and a throwaway PostgreSQL on
#    127.0.0.1:$SESI_POSTGRES_PORT (default 15432; scripts/postgres.sh), whose database the tests
#    reach as SESI_POSTGRES_URL=postgres://sesi@127.0.0.1:$SESI_POSTGRES_PORT/sesi_test;
# 3. runs `cargo test --workspace` (plus any arguments given) with SESI_TEST_REQUIRE_ALL=1, so a
#    test whose dependency is missing fails instead of skipping, and fails if any test printed a
#    SKIPPED line anyway;
# 4. runs every fuzz target for SESI_FUZZ_SECONDS (60) each (scripts/fuzz.sh: cargo-fuzz on the
#    stable toolchain, no sanitizer, on copies of the committed seeds; fails on any crash);
# 5. runs the benchmark harness smoke run (every peer builds and counts correctly, the
#    Redis- and PostgreSQL-backed ones on the servers of step 2; no timing);
# 6. stops what it started, whatever happened.
#
# Environment: SESI_REDIS_PORT (16379), SESI_POSTGRES_PORT (15432), SESI_TEST_SKIP_INSTALL=1 to
# skip step 1 (everything is installed already), SESI_TEST_SKIP_FUZZ=1 and SESI_TEST_SKIP_BENCH=1
# to skip steps 4 and 5 (a quicker local run).
set -euo pipefail

REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

log() { printf '[test.sh] %s\n' "$*"; }

if [ "${SESI_TEST_SKIP_INSTALL:-}" != 1 ]; then
    log "== installing test dependencies"
    bash scripts/install-test-deps.sh
fi

export SESI_REDIS_PORT="${SESI_REDIS_PORT:-16379}"
export SESI_REDIS_URL="redis://127.0.0.1:$SESI_REDIS_PORT"
export SESI_POSTGRES_PORT="${SESI_POSTGRES_PORT:-15432}"
export SESI_POSTGRES_URL="postgres://sesi@127.0.0.1:$SESI_POSTGRES_PORT/sesi_test"
export SESI_TEST_REQUIRE_ALL=1

started=()
cleanup() {
    local service
    for service in "${started[@]}"; do
        log "== stopping $service"
        bash "scripts/$service.sh" stop || true
    done
}
trap cleanup EXIT

log "== redis-server on 127.0.0.1:$SESI_REDIS_PORT"
if bash scripts/redis.sh status >/dev/null 2>&1; then
    log "a redis already answers there; using it (and leaving it running)"
else
    bash scripts/redis.sh start
    started+=(redis)
fi

log "== postgres on 127.0.0.1:$SESI_POSTGRES_PORT ($SESI_POSTGRES_URL)"
if bash scripts/postgres.sh status >/dev/null 2>&1; then
    log "$SESI_POSTGRES_URL already answers; using it (and leaving it running)"
else
    # Registered before starting: a start that fails half-way (initdb done, server up but not
    # answering) still gets its server stopped and its data dir removed by cleanup.
    started+=(postgres)
    bash scripts/postgres.sh start
fi

log "== cargo test --workspace $*"
mkdir -p target
output="target/test-output.log"
cargo test --workspace "$@" 2>&1 | tee "$output"
if grep -q '^SKIPPED ' "$output"; then
    log "FAILED: these tests were skipped, and nothing may be:"
    grep '^SKIPPED ' "$output" >&2
    exit 1
fi
passed=$(grep -E '^test result: ok' "$output" | awk '{sum += $4} END {print sum + 0}')
log "all $passed tests passed, none skipped"

# The app as `cargo install` gives it, run from outside the repository (stops what it starts).
log "== the installed app (scripts/install-check.sh)"
bash scripts/install-check.sh

if [ "${SESI_TEST_SKIP_FUZZ:-}" != 1 ]; then
    log "== fuzzing (${SESI_FUZZ_SECONDS:-60}s per target)"
    bash scripts/fuzz.sh
fi

if [ "${SESI_TEST_SKIP_BENCH:-}" != 1 ]; then
    log "== benchmark harness smoke run (every peer builds and counts correctly; not a measurement)"
    WITH_REDIS=1 WITH_SQL=1 BENCH_PROFILE=dev bash bench/run.sh smoke
fi
