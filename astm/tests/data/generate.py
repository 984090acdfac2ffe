#!/usr/bin/env python3
"""Writes the ASTM session fixtures under sessions/.

Every fixture is our own text, shaped after a public capture or vendor specification (see
SOURCES.md for which one and which quirk). A fixture is what the instrument puts on the line,
one direction only, as a serial or TCP capture holds it: ENQ, frames
(STX FN text ETB|ETX C1 C2 CR LF), EOT. `raw_*` fixtures are E1394 records sent without
E1381 framing. For the NAK and duplicate-frame sessions a `.script` file also holds the host's
expected replies, for the driver test.

The checksums are computed here, independently of the Rust frame encoder, so the fixtures
also check it. The output is deterministic; CI does not run this script, it uses the
committed files. Run it after editing a fixture, then re-bless the goldens:

    python3 astm/tests/data/generate.py
    LABWIRE_BLESS=1 cargo test -p labwire-astm --test it sessions
"""

import base64
import hashlib
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
SESSIONS = HERE / "sessions"

STX, ETX, EOT, ENQ, ACK, NAK, ETB = 0x02, 0x03, 0x04, 0x05, 0x06, 0x15, 0x17
CR, LF = 0x0D, 0x0A

NAMES = {STX: "STX", ETX: "ETX", EOT: "EOT", ENQ: "ENQ", ACK: "ACK", NAK: "NAK",
         ETB: "ETB", CR: "CR", LF: "LF"}


def checksum(number: int, body: bytes, terminator: int) -> int:
    """E1381 §6.3.3: the sum of the frame number digit, the text and ETB/ETX, modulo 256."""
    return (ord(str(number)) + sum(body) + terminator) & 0xFF


def records(*lines: str, separator: str = "\r", encoding: str = "latin-1") -> bytes:
    """E1394 records, each followed by its separator (CR in the standard)."""
    return "".join(line + separator for line in lines).encode(encoding)


class Session:
    """The instrument's side of a capture, and the host replies the driver test expects."""

    def __init__(self, first_number: int = 1):
        self.wire = bytearray()
        self.script: list[tuple[str, bytes]] = []
        self.number = first_number
        self.first_number = first_number

    def send(self, data: bytes, reply: int | None):
        self.wire += data
        self.script.append((">", bytes(data)))
        if reply is not None:
            self.script.append(("<", bytes([reply])))

    def enq(self):
        self.number = self.first_number
        self.send(bytes([ENQ]), ACK)

    def eot(self):
        self.send(bytes([EOT]), None)

    def frame(self, body: bytes, last: bool, *, digits: str = "upper", trailer: bytes = b"\r\n",
              corrupt_at: int | None = None, number: int | None = None, reply: int = ACK):
        """One frame. `corrupt_at` flips a bit of that body byte after the checksum was
        computed (line noise); the frame number then does not advance."""
        number = self.number if number is None else number
        terminator = ETX if last else ETB
        value = checksum(number, body, terminator)
        if digits == "upper":
            text = f"{value:02X}"
        elif digits == "lower":
            text = f"{value:02x}"
        elif digits == "unpadded":
            # strtoupper(dechex($sum)): no zero padding.
            text = f"{value:X}"
        else:
            raise ValueError(digits)
        sent = bytearray(body)
        if corrupt_at is not None:
            sent[corrupt_at] ^= 0x02
            reply = NAK
        self.send(bytes([STX]) + str(number).encode() + bytes(sent) + bytes([terminator])
                  + text.encode() + trailer, reply)
        if reply == ACK:
            self.number = (number + 1) % 8

    def message(self, text: bytes, max_text: int = 240, **options):
        """A message split into frames of at most `max_text` bytes: ETB frames, then ETX."""
        chunks = [text[at:at + max_text] for at in range(0, len(text), max_text)] or [b""]
        for index, chunk in enumerate(chunks):
            self.frame(chunk, index == len(chunks) - 1, **options)

    def per_record(self, text: bytes, **options):
        """Each record its own message (one ETX frame each): Roche's "Elecsys type",
        LIS01 read as "an LIS01 message is one LIS02 record"."""
        for line in text.split(b"\r"):
            if line:
                self.frame(line + b"\r", True, **options)

    def etb_per_record(self, text: bytes, **options):
        """Each record its own frame, all ETB but the last (cobas c111)."""
        lines = [line + b"\r" for line in text.split(b"\r") if line]
        for index, line in enumerate(lines):
            self.frame(line, index == len(lines) - 1, **options)


def script_text(session: Session, title: str) -> str:
    """The session as lines: `>` instrument to host, `<` host to instrument. Control bytes and
    CR/LF are written `<NAME>`, other bytes outside printable ASCII `<xHH>`."""
    out = [f"# {title}",
           "# > instrument to host, < host to instrument (expected reply). Control bytes as <NAME>."]
    for direction, data in session.script:
        shown = ""
        for byte in data:
            if byte in NAMES:
                shown += f"<{NAMES[byte]}>"
            elif 0x20 <= byte < 0x7F:
                shown += chr(byte)
            else:
                shown += f"<x{byte:02X}>"
        out.append(f"{direction} {shown}")
    return "\n".join(out) + "\n"


FIXTURES: dict[str, bytes] = {}
SCRIPTS: dict[str, str] = {}


def fixture(function):
    FIXTURES[function.__name__] = function()
    return function


def framed(text: bytes, **options) -> bytes:
    session = Session()
    session.enq()
    session.message(text, **options)
    session.eot()
    return bytes(session.wire)


# --------------------------------------------------------------------------------------------
# Framing and link-layer shapes
# --------------------------------------------------------------------------------------------

@fixture
def lis2a2_single_frame():
    # Ortho VISION shape (Genaux's example session): test ids without carets, sender with
    # four components, 14-digit birth date with time, one short message in one frame.
    return framed(records(
        "H|\\^&|||OCD^VISION^5.13.1^J60001234|||||||P|LIS2-A|20240311142633",
        "P|1|PID-4411||NID-4411|Doe^Jane^Q||19650102030400|F",
        "O|1|SID-305||ABO|N|20240311142136|||||||||CENTBLOOD",
        "R|1|ABO|A|||||F||Automatic||20240311142229|J60001234",
        "L|1|N",
    ))


@fixture
def records_span_frames_etb_240():
    # A chemistry panel longer than one E1381-95 frame: the text is cut every 240 bytes, so
    # records run across ETB frames and frames hold several records.
    results = [
        ("GLU", "5.40", "mmol/L", "3.9-6.1", "N"),
        ("UREA", "6.8", "mmol/L", "2.5-7.5", "N"),
        ("CREA", "112", "umol/L", "59-104", "H"),
        ("NA", "139", "mmol/L", "136-145", "N"),
        ("K", "5.9", "mmol/L", "3.5-5.1", "H"),
        ("CL", "101", "mmol/L", "98-107", "N"),
        ("ALT", "24", "U/L", "0-41", "N"),
        ("AST", "31", "U/L", "0-40", "N"),
        ("ALP", "88", "U/L", "40-129", "N"),
        ("TBIL", "14.2", "umol/L", "0-21", "N"),
        ("CRP", "38.5", "mg/L", "0-5", "HH"),
    ]
    lines = [
        "H|\\^&|||CHEM-800^3.2.1^SN40021|||||LIS||P|LIS2-A2|20240312091544",
        "P|1|MRN-200117||ALT-5521|Nguyen^Thi^Mai||19580817|F",
        "O|1|S24-004518|S24-004518^R12^4|" + "\\".join(f"^^^{code}" for code, *_ in results)
        + "|R|20240312073000|20240312071500||||N||||SER",
    ]
    for index, (code, value, unit, range_, flag) in enumerate(results, start=1):
        lines.append(f"R|{index}|^^^{code}|{value}|{unit}|{range_}|{flag}||F||OP7|"
                     f"20240312090112|20240312091502|CHEM-800")
    lines.append("L|1|N")
    return framed(records(*lines), max_text=240)


@fixture
def roche_elecsys_one_record_per_frame():
    # Roche "Elecsys type" (cobas e 411 host manual): one record per frame, every frame
    # ending in ETX, so each record is its own E1381 message; frame numbers run 1…7, 0, 1.
    session = Session()
    session.enq()
    session.per_record(records(
        "H|\\^&|||cobas-e411^1|||||host|RSUPL^BATCH|P|1",
        "P|1",
        "O|1|                  7720|0^50012^3^^S1^SC|^^^1510^1\\^^^1490^1|R||||||N||^^||SC|||"
        "      |                              ^                         ^                    ^"
        "               ^          |||20240313101544|||F",
        "R|1|^^^1510/1|2.41|uIU/mL||N||F||BMSERV||20240313101502|E1",
        "C|1|I|0|I",
        "R|2|^^^1490/1|14.6|pmol/L||N||F||BMSERV||20240313101544|E1",
        "C|1|I|0|I",
        "L|1|N",
    ))
    session.eot()
    return bytes(session.wire)


@fixture
def roche_cobas_c311_several_records_per_frame():
    # Roche "cobas type" (cobas c 311, senaite.astm capture shape): the whole message in one
    # frame longer than 240 bytes; test codes `^^^717/` (application code, dilution after
    # the slash); O-3 sample id padded with blanks; a comment record after each result.
    text = records(
        "H|\\^&|||c311^1|||||host|RSUPL^REAL|P|1",
        "P|1",
        "O|1|            S24-0370|0^R1^2^^S1^SC|^^^685/\\^^^687/\\^^^717/\\^^^690/|R||||||N||"
        "||SC|||||||20240314132011|||F",
        "R|1|^^^685/|22.4|U/l||A||F|||||P1",
        "C|1|I|43|I",
        "R|2|^^^687/|15.0|U/l||N||F|||||P1",
        "C|1|I|0|I",
        "R|3|^^^717/|5.85|mmol/l||N||F|||||P1",
        "C|1|I|0|I",
        "R|4|^^^690/|34|umol/l||A||F|||||P1",
        "C|1|I|43|I",
        "L|1|N",
    )
    assert len(text) > 240
    return framed(text, max_text=64000)


@fixture
def roche_cobas_c111_etb_after_every_record():
    # cobas c 111 (senaite.astm test): every record in its own frame, ETB after each but the
    # last, so the whole message is one E1381 message; manufacturer record with raw data;
    # operator `$SYS$`.
    session = Session()
    session.enq()
    session.etb_per_record(records(
        "H|\\^&|||c111^Roche^c111^4.2.2.1730^1^12345|||||host|RSUPL^REAL|P|1|20240315161021",
        "P|1||||||||||||||||||||||||||||||||",
        "O|1|QSX-0091||^^^690|R|20240315160810|||||N||||1||||||||||F",
        "R|1|^^^690^^0|97.1|umol/L||N||F||$SYS$||20240315161013|",
        "M|1|RR^BM^c111^1|690^CREA^1^1^2^0|1.234^0.987^1.001^20240315161013",
        "L|1|N",
    ))
    session.eot()
    return bytes(session.wire)


@fixture
def several_messages_one_session():
    # One ENQ…EOT session carrying three H…L messages (go-astm multi-message tests); frame
    # numbers continue across the messages, as E1381 §6.3.2 says.
    session = Session()
    session.enq()
    for index, (sample, hba1c, flag) in enumerate(
            [("S24-1001", "5.4", "N"), ("S24-1002", "7.9", "H"), ("S24-1003", "6.1", "H")],
            start=1):
        session.message(records(
            f"H|\\^&|||A1C-100^2.0^77001|||||||P|LIS2-A2|2024031609{index:02d}30",
            f"P|1|PAT-{index:04d}",
            f"O|1|{sample}||^^^HBA1C|R||||||N",
            f"R|1|^^^HBA1C|{hba1c}|%|4.0-6.0|{flag}||F||||2024031609{index:02d}12",
            "L|1|N",
        ))
    session.eot()
    return bytes(session.wire)


def nak_session() -> Session:
    session = Session()
    session.enq()
    text = records(
        "H|\\^&|||IMMUNO-2^1.4|||||||P|LIS2-A2|20240317111502",
        "P|1|MRN-88812",
        "O|1|S24-7723||^^^TSH\\^^^FT4|R||||||N",
        "R|1|^^^TSH|2.35|mIU/L|0.27-4.20|N||F||||20240317111430",
        "R|2|^^^FT4|15.8|pmol/L|12.0-22.0|N||F||||20240317111450",
        "L|1|N",
    )
    cut = text.index(b"R|1|")
    first, second = text[:cut], text[cut:]
    session.frame(first, False)
    # Line noise flips a bit of the second frame ("2.35" becomes "2.15" on the wire); the
    # host computes another checksum, answers NAK, and the instrument sends the frame again.
    corrupt = second.index(b"2.35") + 2
    session.frame(second, True, corrupt_at=corrupt)
    session.frame(second, True)
    session.eot()
    return session


@fixture
def bad_checksum_nak_retransmission():
    session = nak_session()
    SCRIPTS["bad_checksum_nak_retransmission"] = script_text(
        session, "A frame corrupted by line noise is refused (NAK) and sent again.")
    return bytes(session.wire)


@fixture
def duplicate_frame_after_lost_ack():
    # The host's ACK to frame 2 reached the instrument garbled; the instrument took it for a
    # NAK and sent frame 2 again. E1381 §6.5.1 rule 3: ACK it and discard it.
    session = Session()
    session.enq()
    text = records(
        "H|\\^&|||COAG-3^5.1|||||||P|LIS2-A2|20240318083015",
        "P|1|MRN-30021",
        "O|1|S24-5510||^^^PT\\^^^INR\\^^^APTT|S||||||N",
        "R|1|^^^PT|13.9|s|11.0-13.5|H||F||||20240318082950",
        "R|2|^^^INR|1.21||0.8-1.2|H||F||||20240318082950",
        "R|3|^^^APTT|31.2|s|25.0-37.0|N||F||||20240318083005",
        "L|1|N",
    )
    first, second, third = text[:100], text[100:200], text[200:]
    session.frame(first, False)
    session.frame(second, False)
    session.frame(second, False, number=(session.number - 1) % 8)
    session.frame(third, True)
    session.eot()
    SCRIPTS["duplicate_frame_after_lost_ack"] = script_text(
        session, "A frame sent twice because its ACK was lost is acknowledged and discarded.")
    return bytes(session.wire)


@fixture
def lowercase_checksums():
    # Some instruments write the checksum in lowercase hex (senaite.astm accepts it: "B0 is
    # equal to b0").
    return framed(records(
        "H|\\^&|||URO-500^1.0.3|||||||P|1|20240319140211",
        "P|1|MRN-10233",
        "O|1|U24-0091||^^^UPROT\\^^^UALB|R||||||N||||URI",
        "R|1|^^^UPROT|0.28|g/L|<0.15|H||F||||20240319140150",
        "R|2|^^^UALB|31|mg/L|<20|H||F||||20240319140150",
        "L|1|N",
    ), max_text=100, digits="lower")


@fixture
def one_digit_checksums():
    # A home-grown sender formats the checksum without zero padding (the PHP client found in
    # public code: strtoupper(dechex($sum))), so a frame whose sum is below 16 carries one
    # hex digit. The sample number is one whose O record frame sums below 16.
    session = Session()
    session.enq()
    header = "H|\\^&|||CS-2500^00-12|||||||P|1|20240320101530"
    patient = "P|1|MRN-61120"
    number = 3  # frames 1 and 2 are H and P
    candidates = (f"{prefix}{serial}" for prefix in ("2403-", "S24-", "CS")
                  for serial in range(1, 100000))
    for sample in candidates:
        order = f"O|1|{sample}||^^^PT\\^^^FIB|R||||||N"
        if checksum(number, (order + "\r").encode(), ETX) < 0x10:
            break
    for operator in range(1, 100000):
        result = f"R|1|^^^PT|12.4|s|10.0-13.0|N||F||OP{operator}||20240320101512"
        if checksum(number + 1, (result + "\r").encode(), ETX) < 0x10:
            break
    session.per_record(records(
        header, patient, order, result,
        "R|2|^^^FIB|3.1|g/L|2.0-4.0|N||F||||20240320101518",
        "L|1|N",
    ), digits="unpadded")
    session.eot()
    return bytes(session.wire)


@fixture
def horiba_pentra_xlr_lf_only_trailers():
    # Horiba ABX Pentra XLR (senaite.astm capture shape): one record per frame, the trailer
    # after the checksum is LF only; 12-digit times; LOINC in component 5 of the test id;
    # `-----` as a value with flag HH.
    session = Session()
    session.enq()
    session.per_record(records(
        "H|\\^&|||ABX^PENTRA-XLR^1.0|||||||P|LIS2-A2|202403211045",
        "P|1||MRN-73371||Smith^Anna||19900214|F",
        "O|1|S24-9911||^^^DIF|R|202403210930|202403210915||||N||||BLD",
        "R|1|^^^WBC^6690-2^1|11.2|10^3/uL|4.0-10.0|H||F||||202403211044",
        "R|2|^^^HGB^718-7^1|12.1|g/dL|12.0-16.0|N||F||||202403211044",
        "R|3|^^^PLT^777-3^1|-----|10^3/uL|150-400|HH||F||||202403211044",
        "L|1|N",
    ), trailer=b"\n")
    session.eot()
    return bytes(session.wire)


@fixture
def first_frame_numbered_zero():
    # A sender that numbers the first frame of a session 0 instead of 1 (Mirth-style
    # `frameNumberStart`); numbering then continues 1, 2, …
    session = Session(first_number=0)
    session.enq()
    session.message(records(
        "H|\\^&|||GAS-7^2.4|||||||P|1|20240322060512",
        "P|1|MRN-45002",
        "O|1|A24-0007||^^^PH\\^^^PCO2\\^^^PO2|S||||||N||||ART",
        "R|1|^^^PH|7.31||7.35-7.45|L||F||||20240322060500",
        "R|2|^^^PCO2|52|mmHg|35-45|H||F||||20240322060500",
        "R|3|^^^PO2|71|mmHg|80-100|L||F||||20240322060500",
        "L|1|N",
    ), max_text=128)
    session.eot()
    return bytes(session.wire)


@fixture
def raw_records_over_tcp_no_framing():
    # "ASTM without the low-level protocol": records streamed over TCP with no ENQ, frames or
    # EOT, two messages run together (InterSystems EOTOPTIONAL, OpenELIS non-compliant mode).
    return records(
        "H|\\^&|||HEM-5^3.0|||||||P|LIS2-A2|20240323120001",
        "P|1|MRN-55501",
        "O|1|S24-3001||^^^HB|R||||||N",
        "R|1|^^^HB|13.2|g/dL|12.0-16.0|N||F||||20240323115958",
        "L|1|N",
        "H|\\^&|||HEM-5^3.0|||||||P|LIS2-A2|20240323120105",
        "P|1|MRN-55502",
        "O|1|S24-3002||^^^HB|R||||||N",
        "R|1|^^^HB|9.8|g/dL|12.0-16.0|L||F||||20240323120101",
        "L|1|N",
    )


@fixture
def enq_eot_keepalive_then_results():
    # Horiba Yumizen H550 sends ENQ EOT as a keep-alive (senaite.astm protocol comment):
    # empty sessions, no message; then a real session.
    session = Session()
    for _ in range(2):
        session.enq()
        session.eot()
    session.enq()
    session.message(records(
        "H|\\^&|||YUMIZEN H550^1.2.0|||||||P|LIS2-A2|20240324081200",
        "P|1|MRN-90011",
        "O|1|S24-6060||^^^CBC|R||||||N",
        "R|1|^^^WBC^804-5|6.32|10^3/uL|4.00-10.00|N||F||||20240324081150",
        "L|1|N",
    ))
    session.eot()
    return bytes(session.wire)


@fixture
def record_cr_missing_before_etx():
    # One record per frame, but the record's CR is left out before ETX (python-astm's decoder
    # refuses such frames): the frame boundary is the only record boundary.
    session = Session()
    session.enq()
    text = records(
        "H|\\^&|||ESR-40^1.1|||||||P|E 1394-97|20240325151000",
        "P|1|MRN-12001",
        "O|1|E24-0301||^^^ESR|R||||||N",
        "R|1|^^^ESR|22|mm/h|0-20|H||F||||20240325150955",
        "L|1|N|",
    )
    for line in text.split(b"\r"):
        if line:
            session.frame(line, True)
    session.eot()
    return bytes(session.wire)


# --------------------------------------------------------------------------------------------
# Vendor dialects
# --------------------------------------------------------------------------------------------

@fixture
def cepheid_genexpert_delimiters():
    # Cepheid GeneXpert (LIS interface spec 302-2261 shape, senaite.astm and OpenELIS mock
    # fixtures): delimiters `|@^\` (repeat `@`, escape `\`), message control id `URM-…`, test
    # id `^test^^panel^assay^version^analyte^complement`, qualitative values in component 1
    # (`NOT DETECTED^`) and Ct values in component 2 (`^24.7`), a comment after a result, two
    # tests ordered in one repeated O-5.
    return framed(records(
        "H|@^\\|URM-Q7x2Lm0A-01||GX-Site-2^GeneXpert^6.2|||||LIS||P|1394-97|20240326125515",
        "P|1||||^^^^",
        "O|1|PR24-0137||^^^MTB-RIF@^^^SARS-COV-2|R|20240326101638|||||||||ORH||||||||||F",
        "R|1|^MTB-RIF^^Xpert^Xpert MTB-RIF Ultra^4^MTB^|NOT DETECTED^|||||F||Lab Tech"
        "|20240326101638|20240326113103|Cepheid-4441S0^806149^653624^831583371",
        "C|1|I|Notes^^Sputum, second sample|I",
        "R|2|^MTB-RIF^^Xpert^^^SPC^Ct|^24.7|||",
        "R|3|^SARS-COV-2^^Xpress^Xpert Xpress SARS-CoV-2^3^SARS-CoV-2^|POSITIVE^|||||F||Lab Tech"
        "|20240326101638|20240326112845|Cepheid-4441S0^806149^653624^831583372",
        "R|4|^SARS-COV-2^^Xpress^^^E^Ct|^27.3|||",
        "L|1|N",
    ))


@fixture
def sysmex_xn_decimal_comma():
    # Sysmex XN-L (XN-L ASTM host interface specification, senaite.astm XN-550 capture
    # shape): blanks before the sender name in H-5, patient name `^first^last`, sample number
    # padded in O-4 component 3, test code in component 5 with the dilution in 6
    # (`^^^^WBC^1`), values with decimal commas (European configuration), image paths with
    # `&R&` for the backslash, flag `W` (low reliability).
    tests = ["WBC", "RBC", "HGB", "HCT", "PLT", "NEUT%"]
    return framed(records(
        "H|\\^&|||    XN-550^00-24^22871^^^^BD63455||||||||E1394-97",
        "P|1|||30211|^Erik^Larsen||19841103|M|||||^DR.5||||||||||||^^^WARD3",
        "C|1||POST OP",
        "O|1||^^          S24-000777^B|" + "\\".join(f"^^^^{t}" for t in tests)
        + "|||||||N||||||||||||||F",
        "R|1|^^^^WBC^1|7,41|10*3/uL||N||F||||20240327135407",
        "R|2|^^^^RBC^1|4,52|10*6/uL||N||F||||20240327135407",
        "R|3|^^^^HGB^1|13,6|g/dL||N||F||||20240327135407",
        "R|4|^^^^HCT^1|40,2|%||N||F||||20240327135407",
        "R|5|^^^^PLT^1|98|10*3/uL||L||F||||20240327135407",
        "R|6|^^^^NEUT%^1|61,3|%||W||F||||20240327135407",
        "R|7|^^^^SCAT_WDF|PNG&R&20240327&R&2024_03_27_13_54_07_WDF.PNG|||N||F||||20240327135407",
        "L|1|N",
    ))


@fixture
def sysmex_xn_query():
    # Sysmex XN real-time query for a sample on the sampler (XN-L spec): Q-3 is
    # `adaptor^position^sample number^attribute`, Q-13 `N` (initial analysis).
    return framed(records(
        "H|\\^&|||    XN-550^00-24^22871^^^^BD63455||||||||E1394-97",
        "Q|1|2^1^          S24-000778^B||||20240327140012||||||N",
        "L|1|N",
    ))


@fixture
def abbott_architect_long_test_ids():
    # Abbott ARCHITECT (senaite.astm capture shape): H-5 `ARCHITECT^version^serial^H1P1O1R1C1Q1L1`;
    # universal test id `^^^assay number^name^dilution^status^reagent lot^serial^control lot^
    # result type` with one R per result type (F final value, I interpretation, P raw RLU);
    # comparator with a blank (`< 1.20`); range written `0.35 TO 4.94`; comment after R.
    return framed(records(
        "H|\\^&|||ARCHITECT^9.45^F3452430028^H1P1O1R1C1Q1L1|||||||P|1|20240328133346",
        "P|1|||PID-0013|Roe^Mary^A||19520122|F|||||Dr.Amesbury||||||||||||ParkClinic",
        "O|1|S24-0013|S24-0013^A123^5|^^^0021^B-hCG^UNDILUTED^P\\^^^0580^Anti-HBcII^UNDILUTED^P"
        "|R||20240328081223||||||||||||||||||F",
        "R|1|^^^0021^B-hCG^UNDILUTED^P^47331M100^00788^^F|< 1.20|mIU/mL|0.35 TO 4.94|<||F||||"
        "20240328131030|I2SR01234",
        "C|1|I|Example result comment|G",
        "R|2|^^^0021^B-hCG^UNDILUTED^P^47331M100^00788^^I|NEGATIVE|||||F||||20240328131030"
        "|I2SR01234",
        "R|3|^^^0021^B-hCG^UNDILUTED^P^47331M100^00788^^P|9245|RLU||||F||||20240328131030"
        "|I2SR01234",
        "R|4|^^^0580^Anti-HBcII^UNDILUTED^P^73294BE00^02130^^F|0.15|S/CO||||F||||"
        "20240328132511|I2SR01234",
        "R|5|^^^0580^Anti-HBcII^UNDILUTED^P^73294BE00^02130^^I|NonReactive|||||F||||"
        "20240328132511|I2SR01234",
        "L|1",
    ))


@fixture
def serology_comparators_and_text_values():
    # Immunoassay and PCR values as instruments write them (EUROIMMUN, go-astm and kardianos
    # corpora): comparators with and without a blank (`>8`, `< 0.5`), a decimal comma (`0,8`),
    # text results (`NOT DETECTED`, `Nonreactive`), the `-----` placeholder and an empty value.
    return framed(records(
        "H|\\^&|||ANALYZER-I^10.0|||||||P|LIS2-A2|20240329101010",
        "P|1|MRN-77001||||||U",
        "O|1|S24-2201||^^^COV-IGG\\^^^COV-IGA\\^^^CRP\\^^^RATIO\\^^^NAT\\^^^HBSAG\\^^^K\\^^^X|R"
        "||||||N",
        "R|1|^^^COV-IGG|>8|Ratio|<0.8|H||F||||20240329100501",
        "R|2|^^^COV-IGA|0,8|Ratio|<0.8|N||F||||20240329100501",
        "R|3|^^^CRP|< 0.5|mg/L|<5|N||F||||20240329100530",
        "R|4|^^^RATIO|>= 1.10||<1.10|H||F||||20240329100501",
        "R|5|^^^NAT|NOT DETECTED|||N||F||||20240329100801",
        "R|6|^^^HBSAG|Nonreactive|||N||F||||20240329100801",
        "R|7|^^^K|-----|mmol/L|3.5-5.1|||X||||20240329100830",
        "R|8|^^^X||||||X||||20240329100830",
        "L|1|N",
    ))


@fixture
def microbiology_mic_sequence_restart():
    # A microbiology ID/AST system (kardianos/lis2a corpus shape): per drug a MIC result and
    # an interpretation result, `<=0.2500` and `>=32` MICs, result sequence numbers restarting
    # at 1 for each organism, comments after results, and a second patient numbered `P|1`
    # again.
    return framed(records(
        "H|\\^&|||MICRO-ID^4.02|||||||P|E 1394-97|20240330170512",
        "P|1|MRN-81001",
        "O|1|M24-0101^1||^^^ECOLI|R||||||N||||URI",
        "R|1|^^^AMK^MIC|<=0.2500|ug/mL||||F",
        "R|2|^^^AMK^INTERP|S|||||F",
        "C|1|I|Isolate 1: Escherichia coli|G",
        "R|1|^^^CIP^MIC|>=32|ug/mL||||F",
        "R|2|^^^CIP^INTERP|R|||||F",
        "C|1|I|Confirm fluoroquinolone resistance|G",
        "P|1|MRN-81002",
        "O|1|M24-0102^1||^^^SAUR|R||||||N||||WND",
        "R|1|^^^OXA^MIC|0.5|ug/mL||||F",
        "R|2|^^^OXA^INTERP|S|||||F",
        "L|1|N",
    ))


@fixture
def qc_run_action_code_q():
    # A control measured as a QC run (O-12 `Q`, LIS02-A2 "treat specimen as a QC test
    # specimen"), cobas-style codes, a comment on the control after the order.
    return framed(records(
        "H|\\^&|||c311^1|||||host|QCUPL^REAL|P|1|20240331070011",
        "P|1",
        "O|1|PCCC1||^^^717/\\^^^690/|R||||||Q||||QC|||||||20240331065940|||F",
        "C|1|I|Control lot 2304A, level 1|G",
        "R|1|^^^717/|5.62|mmol/l||N||F||||20240331065941|P1",
        "R|2|^^^690/|101|umol/l||N||F||||20240331065941|P1",
        "L|1|N",
    ), max_text=64000)


@fixture
def yumizen_h500_qc_message_h12_q():
    # Horiba Yumizen H500 QC results (senaite.astm capture shape): processing id `Q` in H-12
    # marks the whole message as QC; LOINC in component 5; ranges `low-high^REFERENCE_RANGE`;
    # operator `LABOR^^USER`.
    return framed(records(
        "H|\\^&|||Yumizen H500^1.0.6^109YAH0035|||||||Q|LIS2-A2|20240401081530",
        "P|1",
        "O|1|QC-1023 N||^^^CBC|R|20240401081200|||||Q|||||||||||||||F",
        "R|1|^^^WBC^804-5|7.81|10^3/uL|7.20-8.40^REFERENCE_RANGE|N||F||LABOR^^USER"
        "|20240401081200|20240401081410|",
        "R|2|^^^HGB^718-7|13.9|g/dL|13.2-14.4^REFERENCE_RANGE|N||F||LABOR^^USER"
        "|20240401081200|20240401081410|",
        "R|3|^^^PLT^777-3|244|10^3/uL|220-260^REFERENCE_RANGE|N||F||LABOR^^USER"
        "|20240401081200|20240401081410|",
        "L|1|N",
    ))


def histogram(size: int) -> str:
    """`size` characters of base64, deterministic (a SHA-256 chain), like a deflated and
    base64-encoded Yumizen histogram."""
    data = bytearray()
    block = b"labwire histogram"
    while len(data) * 4 // 3 < size + 4:
        block = hashlib.sha256(block).digest()
        data += block
    return base64.b64encode(bytes(data)).decode()[:size]


@fixture
def yumizen_h500_histogram_m_record_26kb():
    # Yumizen H500 patient result with manufacturer records holding histograms, the largest
    # 26 KB of base64 (senaite.astm capture: a 26,652-byte record), before the results; the
    # message is cut into E1381-95 frames of 240 bytes, so frame numbers wrap many times.
    big = histogram(26_000)
    text = records(
        "H|\\^&|||Yumizen H500^1.0.6^109YAH0035|||||||P|LIS2-A2|20240402101530",
        "P|1||MRN-33002||Garcia^Luis||19770605|M",
        "O|1|S24-8080||^^^DIF|R|20240402101200|||||N|||||||||||||||F",
        "M|1|HISTOGRAM|RBC|0^250^fL|FLOATLE-stream/deflate:base64^" + big,
        "M|2|HISTOGRAM|PLT|0^40^fL|FLOATLE-stream/deflate:base64^" + histogram(1_200),
        "R|1|^^^WBC^804-5|5.12|10^3/uL|4.00-10.00^REFERENCE_RANGE|N||F||LABOR^^USER"
        "|20240402101200|20240402101415|",
        "R|2|^^^RBC^789-8|4.81|10^6/uL|4.50-5.90^REFERENCE_RANGE|N||F||LABOR^^USER"
        "|20240402101200|20240402101415|",
        "R|3|^^^MCV^787-2|101.2|fL|80.0-100.0^REFERENCE_RANGE|H||F||LABOR^^USER"
        "|20240402101200|20240402101415|",
        "L|1|N",
    )
    return framed(text, max_text=240)


@fixture
def host_query_q_record():
    # An instrument asking the host for work on two tubes it has just read (LIS02-A2 Q record,
    # AQUALink-style range `^specimen^rack^position`); one query names tests, one asks for
    # ALL; request status `O`.
    return framed(records(
        "H|\\^&|||A9000P^2.1|||||LIS|TSREQ^REAL|P|LIS2-A2|20240403091501",
        "Q|1|^S24-004601^R07^3||^^^GLU\\^^^CRP|||||||||O",
        "Q|2|^S24-004602^R07^4||ALL|||||||||O",
        "L|1|N",
    ))


@fixture
def comments_after_patient_order_result():
    # Comment records after P (from the information system, waiting for the order), after O
    # (the specimen) and after R (instrument flags), with components and repeats in C-4.
    return framed(records(
        "H|\\^&|||CHEM-800^3.2.1^SN40021|||||||P|LIS2-A2|20240404120000",
        "C|1|L|Header note, not about a specimen|G",
        "P|1|MRN-64001|||Kowalski^Jan",
        "C|1|L|Fasting since 22:00|G",
        "O|1|S24-4410||^^^TG\\^^^CHOL|R||||||N||||SER",
        "C|1|I|Lipemic^index 3|I",
        "R|1|^^^TG|4.82|mmol/L|<1.70|H||F||||20240404115930",
        "C|1|I|Result above linearity, diluted 1:2|I",
        "C|2|I|Repeat\\Confirmed|G",
        "R|2|^^^CHOL|6.1|mmol/L|<5.2|H||F||||20240404115940",
        "L|1|N",
    ))


@fixture
def latin1_patient_name_and_units():
    # Latin-1 bytes (E1394 §5.1 says ISO 8859-1): `Müller`, `µmol/L`, `°C`; read with
    # Charset::Latin1, never guessed.
    return framed(records(
        "H|\\^&|||CHEM-DE^2.0|||||||P|LIS2-A2|20240405094512",
        "P|1|PID-2040|||Müller^Jürgen||19610312|M",
        "O|1|S24-5050||^^^CREA\\^^^BILI|R||||||N||||SER",
        "C|1|L|Probe bei 4 °C gelagert|G",
        "R|1|^^^CREA|97|µmol/L|59-104|N||F||||20240405094450",
        "R|2|^^^BILI|23,5|µmol/L|<21|H||F||||20240405094450",
        "L|1|N",
    ))


@fixture
def timestamps_8_12_14_digits():
    # Dates and times as instruments write them: 8-digit birth date, 12-digit ordered and
    # collected times (Pentra XLR, OmniLab), 14-digit message and result times, a 10-digit
    # received time.
    return framed(records(
        "H|\\^&|||ELECTRO-3^1.2|||||||P|LIS2-A2|20240406071502",
        "P|1|MRN-15001|||||19790228|F",
        "O|1|S24-0606||^^^NA\\^^^K|R|202404060630|202404060615||||N|||2024040607|SER",
        "R|1|^^^NA|141|mmol/L|136-145|N||F|||202404060710|20240406071455",
        "R|2|^^^K|4.1|mmol/L|3.5-5.1|N||F|||202404060710|20240406071455",
        "L|1|N",
    ))


@fixture
def phadia_immunocap_zero_dates():
    # Phadia ImmunoCAP (tgenaux PhadiaLIS2 sample shape): the Delphi zero date `18991230`
    # (and `18991230000000`) for "no date"; O → R → C three levels; allergen codes.
    return framed(records(
        "H|\\^&|||Phadia 250^3.1||||||||1|20240407153012",
        "P|1|PID-7070|||||18991230|U",
        "O|1|S24-7070||^^^f1\\^^^t3|R|18991230000000|18991230||||N",
        "R|1|^^^f1^Egg white|<0.10|kUA/l||N||F||||20240407152901",
        "C|1|I|Class 0|G",
        "R|2|^^^t3^Birch|12.4|kUA/l||H||F||||20240407152930",
        "C|1|I|Class 3|G",
        "L|1|N",
    ))


@fixture
def missing_l_record():
    # A message whose L record never came (go-astm returns an error for this): the session
    # carries it as its own E1381 message, then a complete message. The first is kept and
    # marked incomplete.
    session = Session()
    session.enq()
    session.message(records(
        "H|\\^&|||HEM-9^1.0|||||||P|LIS2-A2|20240408110000",
        "P|1|MRN-91001",
        "O|1|S24-9101||^^^HB|R||||||N",
        "R|1|^^^HB|14.1|g/dL|12.0-16.0|N||F||||20240408105958",
    ))
    session.message(records(
        "H|\\^&|||HEM-9^1.0|||||||P|LIS2-A2|20240408110100",
        "P|1|MRN-91002",
        "O|1|S24-9102||^^^HB|R||||||N",
        "R|1|^^^HB|8.9|g/dL|12.0-16.0|L||F||||20240408110058",
        "L|1|N",
    ))
    session.eot()
    return bytes(session.wire)


@fixture
def biorad_ih_double_cr_lowercase_extra_fields():
    # Bio-Rad IH-1000 (go-astm corpus shape): records end with CR CR; a result record with 17
    # fields; lowercase record type letters as some specifications allow ("R" or "r");
    # reaction grades as components (`4+^4+^0`).
    return framed(records(
        "H|\\^&|||Bio-Rad|IH v5.2||||||||20240409101500",
        "P|1||PID-4242||Novak^Petra||19880101|F",
        "O|1|B24-0420||^^^ABD|R||||||N",
        "r|1|^^^A|4+^4+^0|||||F||||20240409101400||Rack 3|Pos 2|Cassette 1",
        "r|2|^^^B|0^0^0|||||F||||20240409101400||Rack 3|Pos 2|Cassette 1",
        "R|3|^^^D|4+^4+^0|||||F||||20240409101400||Rack 3|Pos 2|Cassette 1",
        "R|4|^^^ABO|A POS|||||F||||20240409101400",
        "L|1|N",
        separator="\r\r",
    ))


# --------------------------------------------------------------------------------------------
# Shift-JIS and calibration
# --------------------------------------------------------------------------------------------

def framed_etb_per_record(text: bytes) -> bytes:
    """Each record its own frame, ETB after all but the last (cobas c111)."""
    session = Session()
    session.enq()
    session.etb_per_record(text)
    session.eot()
    return bytes(session.wire)


@fixture
def shift_jis_patient_name_and_comment():
    # A Japanese chemistry analyzer (Hitachi 7600 / cobas "cobas type" records) writing
    # Shift-JIS (code page 932). The second byte of a double-byte character can be a
    # delimiter's byte: ソ is 83 5C (`\`), タ 83 5E (`^`), ポ 83 7C (`|`), 表 95 5C. The
    # name `ソノダ^タロウ` is two components; the comment holds ポ and 表. Frames of 204
    # bytes cut ポ between its two bytes. Read with Charset::ShiftJis.
    session = Session()
    session.enq()
    session.message(records(
        "H|\\^&|||H7600^1|||||host|RSUPL^REAL|P|1|20240405101530",
        "P|1||PID-3391||ソノダ^タロウ||19720915|M",
        "O|1|S24-7070|0^50005^005^^S1^SC|^^^717^\\^^^690^|R||20240405093000||||N||||1"
        "|||||||20240405101500|||F",
        "C|1|I|ポンプ表示異常のため再測定|G",
        "R|1|^^^717/|5.8|mmol/l||N||F||OP1|||P1",
        "C|1|I|溶血^軽度|G",
        "R|2|^^^690/|71|umol/l||N||F||OP1|||P1",
        "L|1|N",
        encoding="cp932",
    ), max_text=204)
    session.eot()
    return bytes(session.wire)


@fixture
def roche_cobas_c111_calibration_m_cr():
    # Two calibrations as cobas c 111 manufacturer records of type CR (host interface
    # manual §5.2.2.10): a photometric two-point calibration accepted by the system
    # (`A^$SYS$`), and an ISE calibration calculated with flags and not accepted (`F`),
    # with one replicate and a data alarm. Every record its own ETB frame, as the c111
    # sends results. A comment after the first record. Values and lots invented.
    return framed_etb_per_record(records(
        "H|\\^&|||c111^Roche^c111^4.2.2.1730^1^13147|||||host|RSUPL^REAL|P|1|20240402072000",
        "M|1|CR^BM^c111^1|717^GLUC2|61472301|mmol/L|BS^GLUC2||N^R|2|20240402071522|A^$SYS$||"
        "3.364000E+01^-7.064000E-02|SD^^^17354601|0^0.0021^0.0019^0.0023^0^0\\"
        "16.2^0.4817^0.4809^0.4825^0^0",
        "C|1|I|Calibration after reagent lot change|G",
        "M|2|CR^BM^c111^1|989^NA|EL240311|mmol/L|EL^NA||N^R|1|20240402071948|F^OPER2||"
        "58.2^1.012|SD^^^ISE24031|150^0.1521^0.1521^1^0",
        "L|1|N",
    ))


@fixture
def calibrator_orders_specimen_descriptor():
    # Calibrator runs sent as ordinary orders, marked by the specimen descriptor `CAL` in
    # O-16: LIS02-A2 has no calibrator code, so the site configures the marker
    # (CalibrationMarkers::specimen_types). Two calibrator levels of one test, a comment on
    # the second, then a patient order in the same message, which stays a result report.
    return framed(records(
        "H|\\^&|||CHEM-1^3.1^A1902|||||LIS||P|LIS2-A2|20240403061210",
        "P|1",
        "O|1|CAL-GLU-1||^^^GLU|R|20240403060000|||||N||||CAL",
        "R|1|^^^GLU|0.0120|Abs||N||F||OP7|20240403060412|20240403060530",
        "R|2|^^^GLU|0.0131|Abs||N||F||OP7|20240403060412|20240403060530",
        "O|2|CAL-GLU-2||^^^GLU|R|20240403060000|||||N||||CAL",
        "R|1|^^^GLU|0.4817|Abs||N||F||OP7|20240403060412|20240403060611",
        "C|1|I|Calibrator lot 17354601|G",
        "P|2|PID-77",
        "O|1|S24-9001||^^^GLU|R|20240403055000|||||N||||SER",
        "R|1|^^^GLU|5.2|mmol/L|3.9-6.1|N||F||OP7|20240403060412|20240403060650",
        "L|1|N",
    ))


def main():
    SESSIONS.mkdir(parents=True, exist_ok=True)
    for stale in list(SESSIONS.glob("*.bin")) + list(SESSIONS.glob("*.script")):
        stale.unlink()
    for name, data in FIXTURES.items():
        (SESSIONS / f"{name}.bin").write_bytes(data)
    for name, text in SCRIPTS.items():
        (SESSIONS / f"{name}.script").write_text(text)
    print(f"{len(FIXTURES)} sessions, {len(SCRIPTS)} scripts written to {SESSIONS}")


if __name__ == "__main__":
    main()
