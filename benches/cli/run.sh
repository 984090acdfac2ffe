#!/usr/bin/env bash
# `labwire decode` over a directory of many mixed files against the library doing the
# same work in memory (issue: the CLI at >= 80 % of library throughput). Not run by CI:
# it is a measurement, not a test.
#
#   benches/cli/run.sh [FILES]      (default 10000)
#
# The corpus is every HL7, ASTM and DICOM fixture of the repository (and the samples),
# copied round-robin into FILES files in a temporary directory. The library figure is
# `labwire::decode` plus JSON serialization of every event over the files already in
# memory, on one thread (ffi/examples/decode_throughput.rs); the CLI figure is the
# whole process: walking the directory, reading each file (DICOM: its header), decoding
# on one thread per core, writing NDJSON to /dev/null in input order. Both are the best
# of several runs with a warm page cache; on a busy machine the CLI's threads wait for
# cores, so run it quiet.
set -euo pipefail
cd "$(dirname "$0")/../.."
files=${1:-10000}

# `--bin labwire` too: with `--example` alone cargo builds only the example, and the
# CLI timed below would be whatever binary an earlier build left.
cargo build --release --locked -p labwire-cli -p labwire-ffi --bin labwire --example decode_throughput >&2
target=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mapfile -t sources < <(ls hl7/tests/data/*.hl7 astm/tests/data/sessions/*.bin \
    dicom-meta/tests/data/pydicom/*.dcm dicom-meta/tests/data/highdicom/*.dcm samples/data/* | sort)
mkdir -p "$work/corpus"
for ((i = 0; i < files; i++)); do
    source=${sources[$((i % ${#sources[@]}))]}
    cp "$source" "$work/corpus/$(printf '%05d' "$i")-$(basename "$source")"
done
echo "corpus: $files files from ${#sources[@]} fixtures, $(du -sh "$work/corpus" | cut -f1)" >&2

library=$("$target/examples/decode_throughput" "$work/corpus" 5)
echo "library: $library" >&2

python3 - "$library" "$target/labwire" "$work/corpus" "$files" <<'PY'
import json, resource, subprocess, sys, time
library = json.loads(sys.argv[1])
labwire, corpus, files = sys.argv[2], sys.argv[3], int(sys.argv[4])
best = best_cpu = None
for _ in range(5):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # Exit 1 is expected: some fixtures are meant to be rejected.
    subprocess.run([labwire, "decode", corpus], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU time of all its threads: what load on the machine distorts least.
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    best = elapsed if best is None else min(best, elapsed)
    best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
out = subprocess.run([labwire, "decode", corpus], capture_output=True).stdout
cli_events = out.count(b"\n")
lib_fps = library["files_per_second"]
cli_fps = files / best
print(f"files {files}, {library['bytes']:,} bytes, events: library {library['events']}, cli {cli_events}")
print(f"library (labwire::decode + JSON, in memory): {lib_fps:,.0f} files/s, {library['mb_per_second']:.1f} MB/s")
print(f"labwire decode (whole process): {cli_fps:,.0f} files/s, {library['bytes'] / best / 1e6:.1f} MB/s ({best:.3f} s)")
print(f"cli / library: {100 * cli_fps / lib_fps:.0f} %")
print(f"cpu time (user+sys): labwire decode {best_cpu:.3f} s, library {library['best_seconds']:.3f} s (one thread)")
PY
