#!/usr/bin/env python3
"""Generates tests/data/goldens.json: what pydicom reads from every fixture, for the
integration tests to compare against. Run offline, once, with pydicom 3.0.2; the
JSON is committed so CI never needs Python.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pydicom==3.0.2
    /tmp/venv/bin/python tools/gen_goldens.py      # from the crate directory

Each file is read with `dcmread(force=True, stop_before_pixels=True)`, the header
reading the crate does by default. Recorded per file: whether pydicom read it, the
transfer syntax, element counts (file meta; top level; every element at every
level; every sequence item), and the attributes the lab model maps, decoded.
"""

import json
import pathlib
import warnings

import pydicom
from pydicom.dataset import Dataset

CRATE = pathlib.Path(__file__).resolve().parent.parent
DATA = CRATE / "tests" / "data"
DIRS = ["pydicom", "highdicom", "charset", "hostile"]

TEXT_KEYWORDS = [
    "SpecificCharacterSet",
    "PatientID",
    "AccessionNumber",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "SOPClassUID",
    "Modality",
    "StudyDate",
    "StudyTime",
    "AcquisitionDateTime",
    "Manufacturer",
    "ManufacturerModelName",
    "DeviceSerialNumber",
    "InstitutionName",
    "ContainerIdentifier",
    "PatientBirthDate",
    "PatientSex",
]


def text(value):
    if value is None:
        return None
    if isinstance(value, (list, pydicom.multival.MultiValue)):
        return "\\".join(str(v) for v in value)
    return str(value)


def count(ds: Dataset):
    elements = 0
    items = 0
    stack = [ds]
    while stack:
        current = stack.pop()
        for element in current:
            elements += 1
            if element.VR == "SQ":
                items += len(element.value)
                stack.extend(element.value)
    return elements, items


def person_name(value):
    if value is None:
        return None
    name = pydicom.valuerep.PersonName(value) if not isinstance(value, pydicom.valuerep.PersonName) else value
    return {
        "text": str(name),
        "family": name.family_name,
        "given": name.given_name,
        "ideographic": name.ideographic,
        "phonetic": name.phonetic,
    }


def golden(path: pathlib.Path):
    out = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
            ds.decode()
    except Exception as error:  # noqa: BLE001 - any failure is the golden
        out["pydicom"] = f"error: {type(error).__name__}"
        return out
    out["pydicom"] = "ok"
    meta = getattr(ds, "file_meta", None) or Dataset()
    out["transfer_syntax"] = text(meta.get("TransferSyntaxUID", None) and meta.TransferSyntaxUID)
    out["meta_elements"] = len(meta)
    out["top_level_elements"] = len(ds)
    out["all_elements"], out["items"] = count(ds)
    attributes = {}
    for keyword in TEXT_KEYWORDS:
        if keyword in ds and ds[keyword].value not in (None, ""):
            attributes[keyword] = text(ds[keyword].value)
    if "PatientName" in ds and ds.PatientName not in (None, ""):
        attributes["PatientName"] = person_name(ds.PatientName)
    specimens = ds.get("SpecimenDescriptionSequence", None)
    if specimens:
        attributes["SpecimenIdentifier"] = text(specimens[0].get("SpecimenIdentifier", None))
        attributes["SpecimenPreparationSteps"] = len(specimens[0].get("SpecimenPreparationSequence", []))
    out["attributes"] = attributes
    return out


def main() -> None:
    result = {"generator": f"tools/gen_goldens.py with pydicom {pydicom.__version__}"}
    files = {}
    for directory in DIRS:
        for path in sorted((DATA / directory).glob("*.dcm")):
            files[f"{directory}/{path.name}"] = golden(path)
    result["files"] = files
    (DATA / "goldens.json").write_text(json.dumps(result, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(files)} files")


if __name__ == "__main__":
    main()
