#!/usr/bin/env bash
# labwire next to its peers (issue 9): the Rust peers through criterion, the python
# peers (pydicom, hl7, hl7apy, astm) through peers.py, on the same bytes. Prints the
# machine, the toolchains and a markdown table with ratios. Not run by CI: it is a
# measurement, not a test.
#
#   benches/peers/run.sh [--no-bench] [--quick] [--min-time S] [-- peers.py options]
#
#   --no-bench   reuse the criterion results in $CARGO_TARGET_DIR/criterion (the
#                inputs are still written out, and peers.py refuses results whose
#                byte counts do not match them)
#   --quick      criterion --warm-up-time 1 --measurement-time 3, python --min-time 1
#
# Environment: LABWIRE_PEERS_VENV (default /tmp/labwire-peers-venv),
# CARGO_TARGET_DIR (default target), LABWIRE_PEERS_OUT (default
# $CARGO_TARGET_DIR/peers: the generated HL7 corpus and labwire's counts), PYTHON
# (default python3; 3.8 or newer).
set -euo pipefail
cd "$(dirname "$0")/../.."

bench=1
criterion_args=()
peers_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --no-bench) bench=0 ;;
        --quick)
            criterion_args=(--warm-up-time 1 --measurement-time 3)
            peers_args+=(--min-time 1)
            ;;
        --min-time) peers_args+=(--min-time "$2"); shift ;;
        --) shift; peers_args+=("$@"); break ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

venv=${LABWIRE_PEERS_VENV:-/tmp/labwire-peers-venv}
target=${CARGO_TARGET_DIR:-target}
export LABWIRE_PEERS_OUT=${LABWIRE_PEERS_OUT:-$target/peers}

if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r benches/peers/requirements.txt

echo "## Machine"
echo
echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores online"
echo "- $(rustc --version), $(cargo --version)"
echo "- $("$venv/bin/python" --version), $("$venv/bin/pip" freeze | grep -iE '^(astm|hl7|hl7apy|pydicom)==' | tr '\n' ' ')"
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average at start: $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo

benches=(--bench peers_hl7 --bench peers_dicom --bench peers_astm)
if [ "$bench" = 1 ]; then
    # Criterion's report goes to stderr here so that stdout is the markdown.
    cargo bench --locked -p labwire-benches "${benches[@]}" -- "${criterion_args[@]}" >&2
else
    # A filter that matches no bench: the benches check their inputs and write them
    # out, and time nothing.
    cargo bench --locked -p labwire-benches "${benches[@]}" -- write-inputs-only >&2
fi
echo "- generated HL7 corpus: $(sha256sum "$LABWIRE_PEERS_OUT/hl7_generated.txt" | cut -d ' ' -f 1) (sha256 of hl7_generated.txt)"
echo

"$venv/bin/python" benches/peers/peers.py \
    --inputs "$LABWIRE_PEERS_OUT" --criterion "$target/criterion" "${peers_args[@]}"
echo
echo "Load average at the end: $(cut -d ' ' -f 1-3 /proc/loadavg)"
