#!/usr/bin/env bash
# Instructions per request, in process: each peer's router (or actix-web app) driven by `inproc`
# (`inproc-actix`) under `valgrind --tool=callgrind`, one browser sending back its latest cookie.
# An instruction count does not move with the clock speed or a busy neighbour on a shared
# machine, so it compares the peers' costs when timing runs are too noisy to. Start-up is taken
# out by counting two runs of different lengths and dividing the difference.
#
#   bench/callgrind.sh [PEER...]   default: bare sesi-lib-nacl axum-extra-private actix-bare
#                                  actix-session-private sesi-lib
#
# Environment: SHORT [1000], LONG [5000] requests. Needs valgrind and `bench/run.sh build`.
set -euo pipefail

BENCH_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
BIN="$BENCH_DIR/target/release"
SHORT="${SHORT:-1000}"
LONG="${LONG:-5000}"
PEERS=("$@")
[ ${#PEERS[@]} -gt 0 ] ||
    PEERS=(bare sesi-lib-nacl axum-extra-private actix-bare actix-session-private sesi-lib)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# instructions PEER N: instructions `inproc` retires for N requests, start-up included.
instructions() {
    local driver=inproc
    case "$1" in actix-*) driver=inproc-actix ;; esac
    valgrind --tool=callgrind --callgrind-out-file="$WORK/out" "$BIN/$driver" "$1" "$2" \
        >/dev/null 2>"$WORK/log"
    awk '/^summary:/ { print $2 }' "$WORK/out"
}

printf '| peer | instructions per request |\n|---|---:|\n'
for peer in "${PEERS[@]}"; do
    short="$(instructions "$peer" "$SHORT")"
    long="$(instructions "$peer" "$LONG")"
    printf '| %s | %s |\n' "$peer" "$(((long - short) / (LONG - SHORT)))"
done
