#!/usr/bin/env python3
"""Writes the differential-conformance goldens under conformance/goldens/.

What independent reference implementations read from every fixture of the protocol crates,
for `cargo test -p labwire-conformance` to compare with what labwire reads. Run offline
through `generate.sh` (it pins the reference versions in a virtualenv); CI never runs this,
it uses the committed JSON. The output is deterministic: rerunning it without changing a
fixture or a reference version gives the same bytes.

    conformance/generate.sh            # all three protocols
    conformance/generate.sh hl7        # or one of hl7, astm, dicom

References (the versions are checked at start-up, see `EXPECTED_VERSIONS`):

* HL7 v2: python `hl7` (python-hl7) and `hl7apy`. python-hl7 splits the message and
  unescapes values (`Message.unescape`); hl7apy splits it by its own rules but has no
  unescaping, so it is a reference for the raw (escaped) text only.
* ASTM E1394: python `astm` 0.5 (its codec: `decode_message`, `decode_record`, `join`,
  `make_checksum`). Its link layer is not used, see `astm_session`.
* DICOM: pydicom, `dcmread(force=True, stop_before_pixels=True)`.

Every value longer than `VALUE_CAP` characters is stored as its first `VALUE_CAP`
characters plus its length and FNV-1a 64 hash (of its UTF-8 bytes), so goldens stay small
and the Rust test can still check the whole value.
"""

import json
import logging
import pathlib
import sys
import warnings

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
GOLDENS = HERE / "goldens"

HL7_DATA = ROOT / "hl7" / "tests" / "data"
ASTM_DATA = ROOT / "astm" / "tests" / "data"
DICOM_DATA = ROOT / "dicom-meta" / "tests" / "data"

EXPECTED_VERSIONS = {"hl7": "0.4.5", "hl7apy": "1.3.5", "astm": "0.5.0", "pydicom": "3.0.2"}

VALUE_CAP = 200


def fnv1a64(text: str) -> str:
    """FNV-1a, 64 bits, over the UTF-8 bytes; hex. Mirrored in conformance/tests/common."""
    value = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        value ^= byte
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def capped(text):
    """A string, or for a long one `{"head", "chars", "fnv1a64"}`."""
    if text is None or len(text) <= VALUE_CAP:
        return text
    return {"head": text[:VALUE_CAP], "chars": len(text), "fnv1a64": fnv1a64(text)}


def clear_goldens(kind: str) -> None:
    """Removes a protocol's goldens before they are written again, so none outlives its
    fixture."""
    for path in (GOLDENS / kind).glob("*.json"):
        path.unlink()


def write_golden(kind: str, name: str, golden: dict, one_line: str | None = None) -> None:
    """Pretty JSON, sorted keys; the items of the list `one_line` (records, elements) each
    on one line, so goldens stay short and diffs stay readable."""
    def dumps(value, indent=None):
        return json.dumps(value, indent=indent, ensure_ascii=False, sort_keys=True)

    text = dumps(golden, indent=1)
    if one_line is not None and golden.get(one_line):
        items = ",\n  ".join(dumps(item) for item in golden[one_line])
        placeholder = dumps({**golden, one_line: "@ITEMS@"}, indent=1)
        text = placeholder.replace('"@ITEMS@"', "[\n  " + items + "\n ]")
        assert json.loads(text) == json.loads(dumps(golden))
    path = GOLDENS / kind / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


# python-hl7 logs every escape sequence it cannot decode (and drops it) to a logger named
# after its source file; the goldens record what it returns, the log adds nothing.
logging.disable(logging.CRITICAL)


def versions() -> dict:
    from importlib.metadata import version

    found = {name: version(name) for name in EXPECTED_VERSIONS}
    if found != EXPECTED_VERSIONS:
        sys.exit(f"reference versions {found} differ from the pinned {EXPECTED_VERSIONS}; "
                 "run conformance/generate.sh")
    return found


# =============================================================================================
# HL7 v2
# =============================================================================================

def hl7_text(data: bytes) -> tuple[str, dict]:
    """The fixture as the text both references take (they work on `str` with CR segment
    terminators). The references do not read MSH-18 or strip a byte order mark, so the
    bytes are decoded here the way labwire's default options do: MSH-18 `UNICODE UTF-8`
    as UTF-8, `8859/1` as Latin-1, anything else UTF-8 when valid, else Windows-1252
    (`Charset::Auto`); LF and CRLF terminators become CR."""
    notes = {}
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        notes["bom_stripped"] = True
    first = data.replace(b"\r\n", b"\r").replace(b"\n", b"\r").split(b"\r", 1)[0]
    fields = first.split(first[3:4]) if len(first) > 3 else []
    msh18 = fields[17].split(b"~")[0].decode("ascii", "replace") if len(fields) > 17 else ""
    if msh18 == "UNICODE UTF-8":
        encoding = "utf-8"
    elif msh18 == "8859/1":
        encoding = "latin-1"
    else:
        try:
            data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "cp1252"
    notes["text_encoding"] = encoding
    if b"\n" in data:
        notes["terminators"] = "LF or CRLF replaced by CR"
    text = data.decode(encoding).replace("\r\n", "\r").replace("\n", "\r")
    return text, notes


def hl7_path(segment: str, occurrence: int, position: tuple) -> str:
    """`OBX(2)-5(3).1.2` in labwire's path notation, with only the levels given."""
    head = segment if occurrence == 1 else f"{segment}({occurrence})"
    field, *rest = position
    text = f"{head}-{field}"
    if rest:
        repetition, *rest = rest
        if repetition is not None:
            text += f"({repetition})"
        for level in rest:
            text += f".{level}"
    return text


def python_hl7_leaves(message) -> tuple[list, dict]:
    """python-hl7: segment ids, and path → (raw, unescaped) for every non-empty leaf.

    python-hl7 splits a piece one level further only when the piece contains one of the
    lower delimiters (`_ParsePlan.applies`), so the depth of a leaf in its tree is the
    depth labwire's path notation needs: `PID-8` for a plain field, `PID-5.2` for a
    component of a field with one repetition, `PID-3(2).4` when there are several."""
    ids = []
    values = {}
    seen: dict[str, int] = {}
    for segment in message:
        sid = str(segment[0])
        ids.append(sid)
        seen[sid] = seen.get(sid, 0) + 1
        occurrence = seen[sid]
        for number in range(1, len(segment)):
            field = segment[number]
            pieces = list(field)
            if len(pieces) == 1 and isinstance(pieces[0], str):
                leaves = [((number,), pieces[0])]
            else:
                leaves = []
                several = len(pieces) > 1
                for r, repetition in enumerate(pieces, start=1):
                    rep = r if several else None
                    if isinstance(repetition, str):
                        leaves.append(((number, rep), repetition))
                        continue
                    parts = list(repetition)
                    if len(parts) == 1 and isinstance(parts[0], str):
                        leaves.append(((number, rep), parts[0]))
                        continue
                    for c, component in enumerate(parts, start=1):
                        if isinstance(component, str):
                            leaves.append(((number, rep, c), component))
                            continue
                        subs = list(component)
                        if len(subs) == 1 and isinstance(subs[0], str):
                            leaves.append(((number, rep, c), subs[0]))
                            continue
                        for s, sub in enumerate(subs, start=1):
                            leaves.append(((number, rep, c, s), str(sub)))
            for position, raw in leaves:
                if raw == "":
                    continue
                # MSH-1 and MSH-2 are the delimiters themselves, never unescaped.
                header_delimiters = sid in ("MSH", "BHS", "FHS") and number in (1, 2)
                unescaped = raw if header_delimiters else message.unescape(raw)
                values[hl7_path(sid, occurrence, position)] = (raw, unescaped)
    return ids, values


def full_position(path: str) -> tuple:
    """`OBX(2)-5.1` → ("OBX", 2, 5, 1, 1, 1): every level, absent ones 1."""
    head, _, rest = path.partition("-")
    segment, occurrence = head, 1
    if "(" in head:
        segment, occ = head[:-1].split("(")
        occurrence = int(occ)
    field_part, *levels = rest.split(".")
    repetition = 1
    if "(" in field_part:
        field_part, rep = field_part[:-1].split("(")
        repetition = int(rep)
    numbers = [int(level) for level in levels] + [1] * (2 - len(levels))
    return (segment, occurrence, int(field_part), repetition, numbers[0], numbers[1])


def hl7apy_text_of(sub) -> str:
    """The text hl7apy holds for a subcomponent, as it was in the message."""
    from hl7apy.base_datatypes import TextualDataType

    value = sub.value
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, TextualDataType):
        return "" if value.value is None else str(value.value)
    return value.to_er7()


def position_of(element, ordinal: int) -> int:
    """hl7apy names positioned children `XPN_2`, `VARIES_3`; children of primitive types
    have no number, and are then all present in order (hl7apy drops only empty named
    children), so their ordinal is their position."""
    name = element.name or ""
    tail = name.rsplit("_", 1)[-1]
    return int(tail) if "_" in name and tail.isdigit() else ordinal


def hl7apy_leaves(message) -> tuple[list, dict]:
    """hl7apy: segment ids, and full position → raw text for every non-empty leaf."""
    ids = []
    values = {}
    seen: dict[str, int] = {}
    for segment in message.children:
        sid = segment.name
        ids.append(sid)
        seen[sid] = seen.get(sid, 0) + 1
        occurrence = seen[sid]
        repetitions: dict[int, int] = {}
        for ordinal, field in enumerate(segment.children, start=1):
            number = position_of(field, ordinal)
            repetitions[number] = repetitions.get(number, 0) + 1
            repetition = repetitions[number]
            for c_ordinal, component in enumerate(field.children, start=1):
                c = position_of(component, c_ordinal)
                for s_ordinal, sub in enumerate(component.children, start=1):
                    s = position_of(sub, s_ordinal)
                    raw = hl7apy_text_of(sub)
                    if raw != "":
                        values[(sid, occurrence, number, repetition, c, s)] = raw
    return ids, values


def hl7_golden(path: pathlib.Path, found_versions: dict) -> dict:
    import hl7
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message

    text, notes = hl7_text(path.read_bytes())
    golden = {
        "fixture": f"hl7/tests/data/{path.name}",
        "references": {"hl7": found_versions["hl7"], "hl7apy": found_versions["hl7apy"]},
        "input": notes,
    }
    message = hl7.parse(text)
    ids, leaves = python_hl7_leaves(message)
    golden["segments"] = ids
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            apy = parse_message(text, validation_level=VALIDATION_LEVEL.TOLERANT,
                                find_groups=False)
        apy_ids, apy_leaves = hl7apy_leaves(apy)
    except Exception as error:  # noqa: BLE001 - a refusal is a result too
        golden["hl7apy_error"] = f"{type(error).__name__}: {error}"
        apy_ids, apy_leaves = None, None
    if apy_ids is not None and apy_ids != ids:
        golden["hl7apy_segments"] = apy_ids

    values = {}
    disagreements = []
    matched = set()
    for key, (raw, unescaped) in leaves.items():
        position = full_position(key)
        entry: dict = {}
        if apy_leaves is None:
            entry["raw"] = raw
        else:
            matched.add(position)
            other = apy_leaves.get(position)
            if other == raw:
                entry["raw"] = raw
            else:
                entry["hl7_raw"] = raw
                entry["hl7apy_raw"] = other
                disagreements.append(key)
        if unescaped != raw:
            entry["unescaped"] = unescaped
        if list(entry) == ["raw"]:
            values[key] = capped(raw)
        else:
            values[key] = {name: capped(value) for name, value in entry.items()}
    for position, raw in sorted((apy_leaves or {}).items()):
        if position in matched:
            continue
        segment, occurrence, *numbers = position
        key = hl7_path(segment, occurrence, tuple(numbers))
        values[key] = {"hl7_raw": None, "hl7apy_raw": capped(raw)}
        disagreements.append(key)
    golden["values"] = values
    if disagreements:
        golden["reference_disagreements"] = {
            key: why_references_disagree(values[key], values) for key in sorted(disagreements)
        }
    return golden


POSITION_ARTEFACT = ("hl7apy numbers fields and components past its version's definition of "
                     "the segment or data type by their order among the non-empty ones")


def plain(entry):
    """The raw text of a golden value entry from one reference's view, uncapped head."""
    if isinstance(entry, dict) and "head" in entry:
        return entry["head"]
    return entry


def why_references_disagree(entry: dict, values: dict) -> str:
    """A short reason for a python-hl7 / hl7apy disagreement, for the reader of the golden."""
    ours, theirs = plain(entry.get("hl7_raw")), plain(entry.get("hl7apy_raw"))
    if ours is not None and theirs is not None:
        if ours.strip() == theirs:
            return "hl7apy strips the spaces around the value"
        try:
            if float(ours) == float(theirs):
                return "hl7apy normalises the number of an SI/NM value"
        except ValueError:
            pass
        for key, candidate in values.items():
            text = candidate.get("hl7_raw", candidate.get("raw")) if isinstance(candidate, dict) \
                else candidate
            if plain(text) == theirs:
                return (f"hl7apy reads the value python-hl7 reads at {key} here: "
                        + POSITION_ARTEFACT)
        return "the references read different text here"
    present = ours if ours is not None else theirs
    if present is not None and present.strip() == "":
        return "hl7apy drops values that are only spaces"
    owner = "hl7apy" if ours is None else "hl7"
    other = "hl7_raw" if owner == "hl7apy" else "hl7apy_raw"
    for key, candidate in values.items():
        if isinstance(candidate, dict) and plain(candidate.get(other)) == present:
            where = key
            break
    else:
        where = None
    if where is not None:
        return (f"both read this value, at different positions ({owner} here, the other at "
                f"{where}): " + POSITION_ARTEFACT)
    return f"only {owner} reads a value here"


def generate_hl7(found_versions: dict) -> None:
    fixtures = sorted(HL7_DATA.glob("*.hl7"))
    clear_goldens("hl7")
    for path in fixtures:
        write_golden("hl7", path.stem, hl7_golden(path, found_versions))
    print(f"hl7: {len(fixtures)} goldens")


# =============================================================================================
# ASTM E1381 / E1394
# =============================================================================================

STX, ETX, EOT, ENQ, ETB = 0x02, 0x03, 0x04, 0x05, 0x17

# The text encoding of each session, as `astm/tests/it/sessions.rs` configures the
# instrument (labwire never guesses an ASTM charset); the rest are ASCII or UTF-8.
ASTM_ENCODINGS = {
    "latin1_patient_name_and_units": "latin-1",
    "shift_jis_patient_name_and_comment": "cp932",
}


class Refused(Exception):
    """python astm does not decode the session; the message says where and why."""


def astm_frames(data: bytes):
    """The items of a framed capture in order: ("ENQ",), ("EOT",) and ("frame", bytes) with
    each frame from STX to the end of its trailer. python astm's own reader cuts the stream
    at CR LF; frames are cut here at their trailer whatever it is, so that python's decoder
    (not this tokenizer) decides about frames with other trailers."""
    at = 0
    while at < len(data):
        byte = data[at]
        if byte == ENQ:
            yield ("ENQ",)
            at += 1
        elif byte == EOT:
            yield ("EOT",)
            at += 1
        elif byte == STX:
            end = at + 1
            while end < len(data) and data[end] not in (ETX, ETB, STX, EOT):
                end += 1
            if end >= len(data) or data[end] not in (ETX, ETB):
                raise Refused(f"byte {at}: frame without ETX or ETB")
            end += 1
            # Checksum digits, then the trailer: up to the next control byte.
            while end < len(data) and data[end] not in (STX, EOT, ENQ):
                end += 1
            yield ("frame", data[at:end])
            at = end
        else:
            raise Refused(f"byte {at}: 0x{byte:02X} outside a frame")


def astm_session(data: bytes, encoding: str) -> list:
    """The records python astm's codec decodes from a framed capture.

    python astm 0.5's receiver (`astm.server.RequestHandler`) cannot be reused: it decides
    once per connection whether messages are chunked (`is_chunked_transfer` is never
    reset), so after a multi-frame message no later message is ever dispatched; it has no
    frame-number check (a frame repeated after a lost ACK would be decoded twice); and it
    only verifies the checksum of the joined message. So this driver plays the E1381
    receiver, using python astm's functions for everything they cover:

    * each frame must pass `astm.codec.decode_message` (ETX frames: STX, CR LF trailer,
      the checksum as `make_checksum` computes it, `CR ETX` at the end of the text) or, for
      an ETB frame, the same checks by hand with `make_checksum`; a frame that fails is
      refused (NAK) and must be followed by a retransmission with the same frame number,
      otherwise python astm could not receive the session (E1381: a NAKed frame is sent
      again);
    * a frame with the number of the frame accepted just before is a retransmission after
      a lost ACK and is discarded (E1381);
    * the ETB frames and the ETX frame of one message are joined with `astm.codec.join`
      and decoded with `astm.codec.decode_message`, as `RequestHandler.handle_message`
      does; a single ETX frame is decoded alone.
    """
    from astm.codec import decode_message, join, make_checksum

    def check(frame: bytes) -> None:
        """The framing checks of `decode_message`, without decoding the records (the
        text of one frame of a multi-frame message need not be whole records)."""
        if not (frame.startswith(bytes([STX])) and frame.endswith(b"\r\n")):
            raise ValueError("the frame does not end with CR LF")
        body, checksum = frame[1:-4], frame[-4:-2]
        if make_checksum(body) != checksum:
            raise AssertionError(f"checksum {checksum!r}, computed {make_checksum(body)!r}")

    records = []
    chunks: list[bytes] = []
    last_number = None
    refused_number = None
    refusal = ""
    for item in astm_frames(data):
        if item[0] == "ENQ":
            chunks, last_number, refused_number = [], None, None
            continue
        if item[0] == "EOT":
            if refused_number is not None:
                raise Refused(f"{refusal}; the frame is not sent again")
            if chunks:
                raise Refused(f"EOT after ETB frame {chunks[-1][1:2].decode()}: the message "
                              "has no ETX frame")
            continue
        frame = item[1]
        number = frame[1:2]
        if refused_number is not None and number != refused_number:
            raise Refused(f"{refusal}; the frame is not sent again")
        try:
            check(frame)
        except (ValueError, AssertionError) as error:
            if refused_number is not None:
                raise Refused(f"{refusal}; the frame sent again fails too: {error}") from None
            refused_number = number
            refusal = f"frame {number.decode()}: {type(error).__name__}: {error}"
            continue
        refused_number = None
        if number == last_number:
            continue
        last_number = number
        if frame[-5] == ETB:
            chunks.append(frame)
            continue
        if chunks:
            chunks.append(frame)
            message = join(chunks)
            chunks = []
        else:
            message = frame
        try:
            _, decoded, _ = decode_message(message, encoding)
        except (ValueError, AssertionError) as error:
            raise Refused(f"message ending in frame {number.decode()}: "
                          f"{type(error).__name__}: {error}") from None
        records.extend(decoded)
    if refused_number is not None:
        raise Refused(f"{refusal}; the frame is not sent again")
    return records


def astm_raw(data: bytes, encoding: str) -> list:
    """Records sent without E1381 framing: python astm's `decode` would read the whole
    stream as one record, so the stream is cut at the E1394 record terminator (CR) and
    each record decoded with `astm.codec.decode_record`."""
    from astm.codec import decode_record

    lines = data.split(b"\r")
    if lines and lines[-1] == b"":
        lines.pop()
    return [decode_record(line, encoding) for line in lines]


def capped_record(record):
    """A decoded record with long strings capped, for the golden."""
    def cap(value):
        if isinstance(value, list):
            return [cap(item) for item in value]
        return capped(value)
    return [cap(field) for field in record]


def astm_golden(path: pathlib.Path, found_versions: dict) -> dict:
    data = path.read_bytes()
    encoding = ASTM_ENCODINGS.get(path.stem, "utf-8")
    framed = data[:1] in (bytes([ENQ]), bytes([STX]))
    golden = {
        "fixture": f"astm/tests/data/sessions/{path.name}",
        "references": {"astm": found_versions["astm"]},
        "input": {"text_encoding": encoding, "framed": framed},
    }
    try:
        records = astm_session(data, encoding) if framed else astm_raw(data, encoding)
    except Refused as error:
        golden["refused"] = str(error)
        return golden
    except (ValueError, AssertionError, UnicodeDecodeError) as error:
        golden["refused"] = f"{type(error).__name__}: {error}"
        return golden
    golden["records"] = [capped_record(record) for record in records]
    return golden


def generate_astm(found_versions: dict) -> None:
    sessions = sorted((ASTM_DATA / "sessions").glob("*.bin"))
    clear_goldens("astm")
    refused = 0
    for path in sessions:
        golden = astm_golden(path, found_versions)
        refused += "refused" in golden
        write_golden("astm", path.stem, golden, one_line="records")
    print(f"astm: {len(sessions)} goldens, {refused} sessions python astm refuses")


# =============================================================================================
# DICOM
# =============================================================================================

# The earlier pydicom goldens (`dicom-meta/tests/data/goldens.json`, written by
# `dicom-meta/tools/gen_goldens.py` with the same pydicom) already hold, per file, the
# transfer syntax, element counts and the flat text of some attributes; `labwire-dicom-meta`
# tests them itself and the conformance test reads the transfer syntax from there. These
# goldens add what that file lacks: every element with its VR, VM and length, and the lab
# attributes value by value (person names by group and component, every specimen).
DICOM_DIRS = ["pydicom", "highdicom", "charset"]

DICOM_TEXT_ATTRIBUTES = [
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "SOPClassUID",
    "Modality",
    "AccessionNumber",
    "Manufacturer",
    "ManufacturerModelName",
    "DeviceSerialNumber",
    "SoftwareVersions",
    "InstitutionName",
    "StudyDate",
    "StudyTime",
    "AcquisitionDateTime",
    "ContainerIdentifier",
]
SPECIMEN_ATTRIBUTES = ["SpecimenIdentifier", "SpecimenUID"]
UNDEFINED_LENGTH = 0xFFFFFFFF


def tag_text(tag) -> str:
    return f"({tag.group:04X},{tag.element:04X})"


def dicom_values(element) -> list:
    """The values of a text element as pydicom decodes them (Specific Character Set
    applied, padding removed), one string per value; [] when empty."""
    import pydicom

    value = element.value
    if value is None or value == "":
        return []
    if isinstance(value, (list, pydicom.multival.MultiValue)):
        return [capped(str(item)) for item in value]
    return [capped(str(value))]


def person_name_groups(value) -> list:
    """A PN value as pydicom reads it: its groups (alphabetic, ideographic, phonetic),
    each as its five components (family, given, middle, prefix, suffix). pydicom names the
    alphabetic components itself; the other groups it gives as text, split here at `^`."""
    groups = []
    for group in value.components:
        parts = group.split("^")
        groups.append((parts + [""] * 5)[:5] if len(parts) <= 5 else parts)
    alphabetic = [value.family_name, value.given_name, value.middle_name, value.name_prefix,
                  value.name_suffix]
    if groups:
        groups[0] = alphabetic
    # Trailing empty groups, and trailing `^` in a group, are insignificant (PS3.5
    # §6.2.1): `^^^^` is an empty name. The Rust test drops them from labwire's side too.
    while groups and all(component == "" for component in groups[-1]):
        groups.pop()
    return groups


def dicom_elements(ds) -> list:
    """Every element pydicom read, nested ones included, in pydicom's (tag) order:
    `[path, VR, VM, length]`. The path is the tags from the top with 1-based item numbers
    (`(0040,0560)[1](0040,0512)`); file meta elements are under `meta`. The length is
    the value length the element header declares, `"undefined"` for 0xFFFFFFFF, or null
    where pydicom had already converted the element (it keeps no length then)."""
    from pydicom.dataelem import RawDataElement

    out = []
    stack = [("", ds)]
    pending = []
    while stack:
        prefix, dataset = stack.pop()
        for tag in dataset.keys():
            raw = dataset.get_item(tag)
            length = raw.length if isinstance(raw, RawDataElement) else None
            if length == UNDEFINED_LENGTH:
                length = "undefined"
            element = dataset[tag]
            path = f"{prefix}{tag_text(element.tag)}"
            out.append([path, element.VR, element.VM, length])
            if element.VR == "SQ":
                for index, item in enumerate(element.value, start=1):
                    pending.append((f"{path}[{index}]", item))
        stack.extend(reversed(pending))
        pending = []
    return out


def dicom_golden(path: pathlib.Path, key: str, found_versions: dict) -> dict:
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
        meta = getattr(ds, "file_meta", None) or pydicom.Dataset()
        elements = [["meta" + p, vr, vm, length] for p, vr, vm, length in dicom_elements(meta)]
        # Before `decode()`, which converts every text element and so loses the raw
        # lengths; each element is converted here with its data set's character set.
        elements += dicom_elements(ds)
        ds.decode()
        attributes = {}
        for keyword in DICOM_TEXT_ATTRIBUTES:
            if keyword in ds:
                attributes[keyword] = dicom_values(ds[keyword])
        if "PatientName" in ds:
            names = ds.PatientName
            names = names if isinstance(names, (list, pydicom.multival.MultiValue)) else [names]
            attributes["PatientName"] = [person_name_groups(name) for name in names if name]
        if "SpecimenDescriptionSequence" in ds:
            attributes["SpecimenDescriptionSequence"] = [
                {keyword: dicom_values(item[keyword])
                 for keyword in SPECIMEN_ATTRIBUTES if keyword in item}
                for item in ds.SpecimenDescriptionSequence
            ]
    return {
        "fixture": f"dicom-meta/tests/data/{key}",
        "references": {"pydicom": found_versions["pydicom"]},
        "read_with": "pydicom.dcmread(force=True, stop_before_pixels=True); Dataset.decode()",
        "elements": elements,
        "attributes": attributes,
    }


def generate_dicom(found_versions: dict) -> None:
    earlier = json.loads((DICOM_DATA / "goldens.json").read_text(encoding="utf-8"))["files"]
    count = 0
    clear_goldens("dicom")
    for directory in DICOM_DIRS:
        for path in sorted((DICOM_DATA / directory).glob("*.dcm")):
            key = f"{directory}/{path.name}"
            golden = dicom_golden(path, key, found_versions)
            # The element listing agrees with the earlier goldens' counts (same pydicom).
            listed = [e for e in golden["elements"] if not e[0].startswith("meta")]
            assert len(listed) == earlier[key]["all_elements"], key
            write_golden("dicom", f"{directory}__{path.stem}", golden, one_line="elements")
            count += 1
    print(f"dicom: {count} goldens")


# =============================================================================================
# main
# =============================================================================================

def main() -> None:
    wanted = set(sys.argv[1:]) or {"hl7", "astm", "dicom"}
    unknown = wanted - {"hl7", "astm", "dicom"}
    if unknown:
        sys.exit(f"unknown protocol(s) {sorted(unknown)}; use hl7, astm, dicom")
    found_versions = versions()
    if "hl7" in wanted:
        generate_hl7(found_versions)
    if "astm" in wanted:
        generate_astm(found_versions)
    if "dicom" in wanted:
        generate_dicom(found_versions)


if __name__ == "__main__":
    main()
