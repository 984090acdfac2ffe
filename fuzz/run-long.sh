#!/usr/bin/env bash
# A long fuzzing session for people with time: every target (or the ones named) for an
# hour each by default, as many at once as there are cores, growing fuzz/corpus/<target>
# (not committed; add inputs that reach new code to seeds/<target>/ by hand).
#
#   fuzz/run-long.sh [--seconds N] [TARGET...]
#
# A crash stops the run and leaves its input under fuzz/artifacts/<target>/: turn it into
# a regression test named after the bug in the crate it belongs to, then add it to seeds.
set -euo pipefail
cd "$(dirname "$0")"
seconds=3600
if [ "${1:-}" = "--seconds" ]; then
    seconds="$2"
    shift 2
fi
exec ./run.sh --seconds "$seconds" --corpus corpus "$@"
