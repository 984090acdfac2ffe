#!/usr/bin/env python3
"""Times the python peers of labwire on the inputs the Rust benches time, and prints
a markdown table of every peer (python and Rust) next to labwire, with ratios.

Run through `benches/peers/run.sh`, which installs the pinned packages
(`requirements.txt`) into a virtualenv, runs the criterion benches `peers_hl7`,
`peers_dicom` and `peers_astm` with `LABWIRE_PEERS_OUT=<dir>` (so that they write
out the generated HL7 corpus and labwire's counts), then runs this script:

    peers.py --inputs <dir> --criterion <target>/criterion [--min-time S]

Inputs (identical bytes to what the Rust side timed):
- HL7: the fixtures `hl7/tests/data/*.hl7` the Rust peers were timed on (the
  "timed" rows of `hl7_fixtures.counts`) and the generated corpus
  `hl7_generated.txt` (10,000 messages, one per line; its sha256 is printed).
- ASTM: `astm/tests/data/sessions/*.bin`.
- DICOM: `dicom-meta/tests/data/pydicom/CT_small.dcm`, `.../highdicom/sm_image.dcm`.

Before timing, every peer's counts are compared with labwire's on every input
(segments and fields for HL7, records and fields for ASTM, data set elements at
every level for DICOM). An input a peer refuses or reads differently is excluded
for that peer with a printed note, and the number of exclusions is printed. The
figure is the median time of one pass over the inputs (passes are repeated for at
least `--min-time` seconds, after one warm-up pass), like criterion's median.
"""

import argparse
import collections
import collections.abc
import hashlib
import io
import json
import os
import platform
import re
import statistics
import sys
import time
from importlib import metadata

# python `astm` 0.5 (2013) imports `collections.Iterable`, which Python 3.10
# removed; restore the alias before importing it. This touches no timed code.
if not hasattr(collections, "Iterable"):
    collections.Iterable = collections.abc.Iterable

import astm.codec  # noqa: E402
import hl7  # noqa: E402
import pydicom  # noqa: E402
from hl7apy.consts import VALIDATION_LEVEL  # noqa: E402
from hl7apy.parser import parse_message as hl7apy_parse  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def note(message):
    print(f"note: {message}", file=sys.stderr, flush=True)


def version(package):
    return metadata.version(package)


# ---------------------------------------------------------------------------------
# Timing


def measure(run, min_time, min_passes=3):
    """Median seconds of one call of `run`, after one warm-up call. A call longer
    than `min_time` is measured once more only (the corpus passes take minutes)."""
    start = time.perf_counter()
    run()
    warm = time.perf_counter() - start
    times = []
    total = 0.0
    passes = 1 if warm > min_time else min_passes
    while len(times) < passes or total < min_time:
        start = time.perf_counter()
        run()
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        total += elapsed
    return statistics.median(times), len(times)


# ---------------------------------------------------------------------------------
# Criterion results


def criterion_results(directory):
    """(group, id) -> (median seconds per iteration, bytes per iteration)."""
    results = {}
    for dirpath, _dirnames, filenames in os.walk(directory):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in filenames:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            benchmark = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            estimates = json.load(f)
        throughput = benchmark.get("throughput") or {}
        results[(benchmark["group_id"], benchmark["function_id"])] = (
            estimates["median"]["point_estimate"] / 1e9,
            throughput.get("Bytes"),
        )
    return results


# ---------------------------------------------------------------------------------
# HL7


def read_counts(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            rows.append(line.rstrip("\n").split("\t"))
    return rows


def python_hl7_counts(text):
    message = hl7.parse(text)
    # Each segment is a list whose item 0 is the segment id; python-hl7 inserts the
    # field separator as MSH.1, so every segment has len - 1 fields, as in labwire.
    return len(message), sum(len(segment) - 1 for segment in message)


def hl7apy_counts(text):
    message = hl7apy_parse(
        text, find_groups=False, validation_level=VALIDATION_LEVEL.TOLERANT
    )
    # hl7apy keeps only fields with a value, one child per repetition: count the
    # distinct field names, against labwire's count of non-empty fields. Fields past
    # the end of the segment's definition in the message's release have no name:
    # each counts once.
    segments = message.children
    fields = 0
    for segment in segments:
        names = [field.name for field in segment.children]
        fields += len({name for name in names if name is not None}) + names.count(None)
    return len(segments), fields


HL7_PEERS = [
    # (id, counts function, which labwire count it is compared with)
    ("hl7", python_hl7_counts, "fields"),
    ("hl7apy", hl7apy_counts, "non-empty"),
]


def hl7_inputs(args, corpus):
    """[(name, text, bytes, (segments, fields, non-empty))] for one corpus."""
    if corpus == "fixtures":
        rows = read_counts(os.path.join(args.inputs, "hl7_fixtures.counts"))
        inputs = []
        for name, segments, fields, non_empty, subset in rows:
            if subset != "timed":
                continue
            with open(os.path.join(ROOT, "hl7", "tests", "data", name), "rb") as f:
                data = f.read()
            inputs.append((name, data.decode("utf-8"), data, (int(segments), int(fields), int(non_empty))))
        return inputs
    path = os.path.join(args.inputs, "hl7_generated.txt")
    with open(path, "rb") as f:
        data = f.read()
    args.generated_sha256 = hashlib.sha256(data).hexdigest()
    messages = data.split(b"\n")
    assert messages[-1] == b"", "the corpus ends with LF"
    messages = messages[:-1]
    rows = read_counts(os.path.join(args.inputs, "hl7_generated.counts"))
    assert len(rows) == len(messages), (len(rows), len(messages))
    return [
        (name, message.decode("utf-8"), message, (int(s), int(fl), int(ne)))
        for message, (name, s, fl, ne, _subset) in zip(messages, rows)
    ]


def hl7_usable(corpus, peer, counts_of, which, inputs):
    usable = []
    for name, text, data, (segments, fields, non_empty) in inputs:
        expected = (segments, fields if which == "fields" else non_empty)
        try:
            counts = counts_of(text)
        except Exception as error:  # noqa: BLE001 - any refusal excludes the input
            note(f"peers/hl7/{corpus}: {name} excluded for {peer}: {type(error).__name__}: {error}"[:300])
            continue
        if counts != expected:
            note(f"peers/hl7/{corpus}: {name} excluded for {peer}: counts differ: "
                 f"labwire {expected}, {peer} {counts} (segments, {which} fields)")
            continue
        usable.append((text, data))
    note(f"peers/hl7/{corpus}: {peer} cannot use {len(inputs) - len(usable)} of {len(inputs)} inputs")
    return usable


def bench_hl7(args, criterion, rows):
    for corpus in args.hl7_corpora.split(","):
        inputs = hl7_inputs(args, corpus)
        total_bytes = sum(len(data) for _n, _t, data, _c in inputs)
        labwire = criterion.get((f"peers/hl7/{corpus}", "labwire"))
        if labwire is None:
            note(f"no criterion result for peers/hl7/{corpus}/labwire: run the benches first")
            continue
        labwire_seconds, labwire_bytes = labwire
        if labwire_bytes != total_bytes:
            note(f"peers/hl7/{corpus}: criterion timed {labwire_bytes} bytes, the inputs here are "
                 f"{total_bytes}: the corpus changed since the benches ran (rerun without --no-bench)")
            sys.exit(1)
        label = (f"{len(inputs)} fixtures, {total_bytes / 1e3:.1f} kB" if corpus == "fixtures"
                 else f"generated, {len(inputs):,} msgs, {total_bytes / 1e6:.1f} MB")
        labwire_fig = Figure.throughput(total_bytes, len(inputs), labwire_seconds)
        for peer in ("hl7-parser", "rust-hl7", "hl7"):
            result = criterion.get((f"peers/hl7/{corpus}", peer))
            if result:
                rows.append(Row("HL7 parse", label, f"{peer} {RUST_VERSIONS[peer]} (Rust)",
                                Figure.throughput(total_bytes, len(inputs), result[0]), labwire_fig))
        for peer, counts_of, which in HL7_PEERS:
            limit = args.hl7apy_messages if peer == "hl7apy" and corpus == "generated" else None
            subset = inputs[:limit] if limit else inputs
            if limit:
                note(f"peers/hl7/{corpus}: {peer} is timed on the first {len(subset)} messages only "
                     f"(--hl7apy-messages)")
            usable = hl7_usable(corpus, peer, counts_of, which, subset)
            if not usable:
                continue
            texts = [text for text, _ in usable]
            used_bytes = sum(len(data) for _, data in usable)
            seconds, passes = measure(lambda: [counts_of(t) for t in texts], args.min_time)
            note(f"peers/hl7/{corpus}/{peer}: {passes} passes, median {seconds:.3f} s")
            footnote = "" if len(usable) == len(inputs) else f" (over {len(usable)} of {len(inputs)} inputs)"
            if limit and len(usable) == len(subset):
                footnote = f" (first {len(usable):,} msgs, {used_bytes / 1e6:.1f} MB)"
            rows.append(Row("HL7 parse", label, f"{peer} {version(peer)} (python){footnote}",
                            Figure.throughput(used_bytes, len(usable), seconds), labwire_fig))


# ---------------------------------------------------------------------------------
# ASTM

FRAME = re.compile(rb"\x02.*?[\x03\x17][0-9A-Fa-f]{2}\r\n", re.S)


def astm_counts(data):
    """Captured bytes to records and fields, as python-astm's receiver does it: the
    frames of the stream, ETB chunks joined with `astm.codec.join`, every message
    decoded with `decode_message` (checksum, records, fields, components). A message
    that does not decode is skipped: the server answers NAK and the sender repeats."""
    records = fields = 0
    chunks = []
    for frame in FRAME.findall(data):
        if astm.codec.is_chunked_message(frame):
            chunks.append(frame)
            continue
        if chunks:
            chunks.append(frame)
            frame = astm.codec.join(chunks)
            chunks = []
        try:
            _seq, message, _cs = astm.codec.decode_message(frame, "latin-1")
        except (ValueError, AssertionError):
            continue
        records += len(message)
        fields += sum(len(record) for record in message)
    return records, fields


def bench_astm(args, criterion, rows):
    rows_in = read_counts(os.path.join(args.inputs, "astm.counts"))
    expected_excluded = {}
    with open(os.path.join(args.inputs, "astm.python_excluded")) as f:
        for line in f:
            if line.strip():
                name, why = line.rstrip("\n").split("\t", 1)
                expected_excluded[name] = why
    directory = os.path.join(ROOT, "astm", "tests", "data", "sessions")
    usable, excluded = [], {}
    for name, records, fields in rows_in:
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        expected = (int(records), int(fields))
        try:
            counts = astm_counts(data)
        except Exception as error:  # noqa: BLE001
            counts = f"{type(error).__name__}: {error}"
        if counts == expected:
            usable.append(data)
        else:
            excluded[name] = f"labwire {expected}, astm {counts} (records, fields)"
            note(f"peers/astm/sessions: {name} excluded for astm: {excluded[name]}")
    note(f"peers/astm/sessions: astm cannot use {len(excluded)} of {len(rows_in)} sessions")
    if set(excluded) != set(expected_excluded):
        note("peers/astm/sessions: the sessions python-astm cannot use are not PYTHON_EXCLUDED "
             "in benches/benches/peers_astm.rs; update that list. Differences: "
             f"{sorted(set(excluded) ^ set(expected_excluded))}")
        sys.exit(1)
    labwire = criterion.get(("peers/astm/sessions", "labwire-python-set"))
    if labwire is None:
        note("no criterion result for peers/astm/sessions/labwire-python-set")
        return
    used_bytes = sum(len(d) for d in usable)
    if labwire[1] != used_bytes:
        note(f"peers/astm: criterion timed {labwire[1]} bytes, python {used_bytes}")
        sys.exit(1)
    seconds, passes = measure(lambda: [astm_counts(d) for d in usable], args.min_time)
    note(f"peers/astm/sessions/astm: {passes} passes, median {seconds * 1e3:.3f} ms")
    label = f"{len(usable)} of {len(rows_in)} session fixtures, {used_bytes / 1e3:.1f} kB"
    rows.append(Row("ASTM receive (frames → records)", label, f"astm {version('astm')} (python)",
                    Figure.throughput(used_bytes, None, seconds),
                    Figure.throughput(used_bytes, None, labwire[0])))


# ---------------------------------------------------------------------------------
# DICOM

DICOM_FILES = [("CT_small", "pydicom/CT_small.dcm"), ("sm_image", "highdicom/sm_image.dcm")]


def pydicom_parse(data, **options):
    return pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, **options)


def pydicom_read(data):
    ds = pydicom_parse(data)
    return (str(ds.PatientName), ds.StudyInstanceUID, ds.Modality, ds.StudyDate)


def bench_dicom(args, criterion, rows):
    counts = dict(read_counts(os.path.join(args.inputs, "dicom.counts")))
    for name, path in DICOM_FILES:
        with open(os.path.join(ROOT, "dicom-meta", "tests", "data", path), "rb") as f:
            data = f.read()
        elements = sum(1 for _ in pydicom_parse(data).iterall())
        if elements != int(counts[path]):
            note(f"peers/dicom/{name}: pydicom finds {elements} data set elements, labwire {counts[path]}")
            sys.exit(1)
        group = f"peers/dicom/{name}"
        labwire = criterion.get((group, "labwire"))
        labwire_read = criterion.get((group, "labwire-read"))
        if labwire is None or labwire_read is None:
            note(f"no criterion result for {group}")
            continue
        label = f"{name}.dcm ({elements} elements)"
        for peer, ours in (("dicom-object", labwire), ("dicom-object-read", labwire_read)):
            result = criterion.get((group, peer))
            if result:
                what = "dicom-object 0.10.1 (Rust)" + (", + read 4 values" if peer.endswith("read") else "")
                rows.append(Row("DICOM header", label, what, Figure.per_header(result[0]),
                                Figure.per_header(ours[0])))
        variants = [
            ("pydicom {v} (python), stop_before_pixels", lambda: pydicom_parse(data), labwire),
            ("pydicom {v} (python), stop_before_pixels + defer_size=256",
             lambda: pydicom_parse(data, defer_size=256), labwire),
            ("pydicom {v} (python), stop_before_pixels + read 4 values", lambda: pydicom_read(data),
             labwire_read),
        ]
        for what, run, ours in variants:
            seconds, passes = measure(run, args.min_time, min_passes=100)
            what = what.format(v=version("pydicom"))
            note(f"{group}/{what}: {passes} passes, median {seconds * 1e6:.1f} µs")
            rows.append(Row("DICOM header", label, what,
                            Figure.per_header(seconds), Figure.per_header(ours[0])))


# ---------------------------------------------------------------------------------
# Table

RUST_VERSIONS = {"hl7-parser": "0.3.0", "rust-hl7": "0.5.0", "hl7": "0.1.5"}


def number(value):
    """Three significant digits below 100, thousands separators above."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


class Figure:
    """A figure as printed, and the speed the ratio is computed from: bytes per
    second for throughput, headers per second for time per header."""

    def __init__(self, text, speed):
        self.text, self.speed = text, speed

    @staticmethod
    def throughput(total_bytes, messages, seconds):
        text = f"{number(total_bytes / seconds / 1e6)} MB/s"
        if messages is not None:
            text += f", {number(messages / seconds)} msgs/s"
        return Figure(text, total_bytes / seconds)

    @staticmethod
    def per_header(seconds):
        return Figure(f"{number(seconds * 1e6)} µs/header", 1 / seconds)


class Row:
    def __init__(self, task, inputs, peer, peer_figure, labwire_figure):
        self.task, self.inputs, self.peer = task, inputs, peer
        self.peer_figure, self.labwire_figure = peer_figure, labwire_figure

    def ratio(self):
        """How many times faster labwire is (per byte, or per header)."""
        return self.labwire_figure.speed / self.peer_figure.speed


def print_table(rows, args):
    print("| task | input | peer | peer figure | labwire figure | labwire speed ÷ peer speed |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        ratio = row.ratio()
        print(f"| {row.task} | {row.inputs} | {row.peer} | {row.peer_figure.text} | "
              f"{row.labwire_figure.text} | {number(ratio)}× |")
    print()
    if getattr(args, "generated_sha256", None):
        print(f"Generated HL7 corpus: `hl7_generated.txt`, sha256 `{args.generated_sha256}`.")
    print(f"Python {platform.python_version()} ({platform.python_implementation()}); "
          f"MB = 10^6 bytes; figures are medians.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", required=True, help="the LABWIRE_PEERS_OUT directory")
    parser.add_argument("--criterion", required=True, help="<target dir>/criterion")
    parser.add_argument("--min-time", type=float, default=5.0,
                        help="seconds of measurement per python peer and input set (default 5)")
    parser.add_argument("--only", default="hl7,astm,dicom", help="comma-separated tasks")
    parser.add_argument("--hl7apy-messages", type=int, default=300,
                        help="hl7apy parses about 0.1 MB/s: time it on this many messages of "
                             "the generated corpus (default 300, about 3 MB; 0 for all)")
    parser.add_argument("--hl7-corpora", default="fixtures,generated",
                        help="comma-separated HL7 corpora (default fixtures,generated)")
    args = parser.parse_args()
    criterion = criterion_results(args.criterion)
    rows = []
    tasks = set(args.only.split(","))
    if "hl7" in tasks:
        bench_hl7(args, criterion, rows)
    if "astm" in tasks:
        bench_astm(args, criterion, rows)
    if "dicom" in tasks:
        bench_dicom(args, criterion, rows)
    print_table(rows, args)


if __name__ == "__main__":
    main()
