#!/usr/bin/env bash
# Every fuzz target for a fixed time, on the installed stable toolchain, without a sanitizer
# (`cargo fuzz run -s none`), each on a temporary copy of its committed seed corpus so the tree
# stays clean. Fails on any crash; prints the executions per target.
#
#   scripts/fuzz.sh            every target, SESI_FUZZ_SECONDS (default 60) each, SESI_FUZZ_JOBS
#                              (default: the number of cores) at a time, one core each
#
# Targets (checklist rows 14-20 and 63):
#   crates/sesi-core/fuzz  decode          a cookie value into the Pyramid format and the session
#   crates/sesi-core/fuzz  decode_nacl     a cookie value into the pyramid-nacl format and the session
#   crates/sesi-core/fuzz  decode_flask    a cookie value into the Flask format and the session
#   crates/sesi-core/fuzz  decode_django   a cookie value into the Django format and the session
#   fuzz                   cookie_header   the Cookie header through the session layer
#   fuzz                   api_body        the tutorial app's JSON API bodies
# Seeds: sesi-core's targets keep their bodies and seeds inside the published package, in
# crates/sesi-core/tests/fuzz/<target>_input.rs and tests/fuzz/seeds/<target>/ (its replay tests
# read them, and cargo never packages fuzz/, a package of its own); the root fuzz/ workspace keeps
# its seeds in fuzz/seeds/<target>/.
# A crash leaves its input in <fuzz dir>/artifacts/<target>/; copy it into the target's seed
# directory as a regression once fixed.
set -euo pipefail

REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
SECONDS_EACH="${SESI_FUZZ_SECONDS:-60}"

log() { printf '[fuzz.sh] %s\n' "$*"; }

if ! cargo fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz (crates.io)"
    cargo install cargo-fuzz --locked --quiet
fi

# <crate dir> <target> <the directory of its seed directory, relative to the crate dir>
TARGETS=(
    "crates/sesi-core decode tests/fuzz/seeds"
    "crates/sesi-core decode_nacl tests/fuzz/seeds"
    "crates/sesi-core decode_flask tests/fuzz/seeds"
    "crates/sesi-core decode_django tests/fuzz/seeds"
    ". cookie_header fuzz/seeds"
    ". api_body fuzz/seeds"
)

JOBS="${SESI_FUZZ_JOBS:-$(nproc)}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# Built first, so that the timed runs only fuzz (and two runs never build at once).
for dir in crates/sesi-core .; do
    log "building the fuzz targets in $dir/fuzz"
    if ! (cd "$dir" && cargo fuzz build -s none) >"$scratch/build.log" 2>&1; then
        tail -n 60 "$scratch/build.log" >&2
        log "FAILED: the fuzz targets in $dir/fuzz do not build"
        exit 1
    fi
done

# fuzz_one <entry>: one target for SECONDS_EACH on a copy of its seeds; its exit code goes to
# $scratch/<target>.rc, its output to $scratch/<target>.log.
fuzz_one() {
    local dir target seeds corpus rc=0
    read -r dir target seeds <<<"$1"
    corpus="$scratch/$target"
    mkdir -p "$corpus"
    cp "$dir/$seeds/$target/"* "$corpus/"
    (cd "$dir" && cargo fuzz run -s none "$target" "$corpus" -- \
        -max_total_time="$SECONDS_EACH" -print_final_stats=1) >"$scratch/$target.log" 2>&1 || rc=$?
    echo "$rc" >"$scratch/$target.rc"
}

# libFuzzer runs one process on one core: the targets run JOBS at a time.
for entry in "${TARGETS[@]}"; do
    read -r dir target _ <<<"$entry"
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
        wait -n || true
    done
    log "== $target (${SECONDS_EACH}s, from $dir/fuzz)"
    fuzz_one "$entry" &
done
wait

failed=0
summary=()
for entry in "${TARGETS[@]}"; do
    read -r dir target _ <<<"$entry"
    out="$scratch/$target.log"
    if [ "$(cat "$scratch/$target.rc" 2>/dev/null || echo missing)" != 0 ]; then
        tail -n 60 "$out" >&2
        log "FAILED: $target crashed; its input is in $dir/fuzz/artifacts/$target/"
        failed=1
        continue
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out" | grep -o '[0-9]*$' || echo '?')
    summary+=("$target: $runs executions in ${SECONDS_EACH}s, no crash")
done
for line in "${summary[@]}"; do
    log "$line"
done
exit "$failed"
