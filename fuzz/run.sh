#!/usr/bin/env bash
# Runs the fuzz targets: each replays its committed seeds, then fuzzes for a bounded
# time. Fails on any crash, leak, out-of-memory or slow input, and says where the input
# that did it is. `.ci/run` calls it with a short time; `run-long.sh` with a long one.
#
#   fuzz/run.sh [--seconds N] [--corpus DIR] [--parallel N] [TARGET...]
#
# --seconds   fuzzing time per target (default 30)
# --corpus    where grown corpora go (default: a temporary directory, removed after);
#             each target gets DIR/<target>
# --parallel  targets fuzzed at the same time (default: the number of cores)
# TARGET      the targets to run (default: every target, `cargo fuzz list`)
#
# Limits, the same for every target: 512 MB RSS and, through libFuzzer's default,
# no single allocation above that (no masking with -malloc_limit_mb); 10 s per input;
# leaks fail the run (AddressSanitizer's leak checker, on by default). No -O: the
# default build keeps debug assertions and overflow checks.
set -euo pipefail
cd "$(dirname "$0")"

seconds=30
corpus=""
parallel=$(nproc 2>/dev/null || echo 2)
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --corpus) corpus="$2"; shift 2 ;;
        --parallel) parallel="$2"; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done

# cargo-fuzz passes nightly flags; stable accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --version 0.13.2 --locked
fi
logs=$(mktemp -d)
if [ -z "$corpus" ]; then
    corpus="$logs/corpus"
fi
trap 'rm -rf "$logs"' EXIT

cargo fuzz build
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

run_target() {
    local target=$1
    local log="$logs/$1.log"
    local started=$SECONDS
    mkdir -p "$corpus/$target"
    if cargo fuzz run "$target" "$corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=512 -timeout=10 >"$log" 2>&1; then
        local runs
        runs=$(awk 'match($0, /Done [0-9]+ runs/) {
                split(substr($0, RSTART, RLENGTH), word, " "); total += word[2]
            } END { print total + 0 }' "$log")
        echo "$target: $runs runs in $((SECONDS - started)) s, no crash"
    else
        tail -n 60 "$log"
        echo "fuzz target $target failed; the input is under fuzz/artifacts/$target/" >&2
        return 1
    fi
}

failed=0
running=0
for target in "${targets[@]}"; do
    run_target "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$parallel" ]; then
        wait -n || failed=1
        running=$((running - 1))
    fi
    if [ "$failed" -ne 0 ]; then
        break
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
done
exit "$failed"
