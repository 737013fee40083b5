#!/usr/bin/env bash
# Soak test (outside CI's critical path; a few minutes): mixed counter, cart and API traffic from
# many cookie jars against two `sesi serve --store redis://... --lock` on one persistent Redis
# (appendonly yes, appendfsync always) that is restarted twice, once by SIGTERM and once by
# SIGKILL. Prints a markdown table; fails on a lost increment, a lost or corrupted session, a 503
# outside an outage, or any other error. See bench/soak/src/main.rs.
#
#   bench/soak.sh [soak options]     e.g. --visitors 200 --duration-secs 180 (the defaults)
#
# Needs redis-server (scripts/install-test-deps.sh installs it). REDIS_SERVER overrides the binary.
set -euo pipefail

BENCH_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd -- "$BENCH_DIR/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$REPO" && cargo build --release --quiet --bin sesi)
(cd "$BENCH_DIR" && cargo build --release --quiet -p sesi-bench-soak)
if ! "$BENCH_DIR/target/release/soak" --sesi "$REPO/target/release/sesi" \
    --redis-server "${REDIS_SERVER:-redis-server}" --work-dir "$WORK" "$@"; then
    keep="$BENCH_DIR/target/soak-logs"
    rm -rf "$keep" && cp -r "$WORK" "$keep"
    echo "soak.sh: logs kept in $keep" >&2
    exit 1
fi
