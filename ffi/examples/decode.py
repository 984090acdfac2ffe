#!/usr/bin/env python3
"""Decodes a lab instrument file (HL7 v2, ASTM, DICOM) into lab events, one JSON
object per line, with the labwire C library through ctypes.

    LABWIRE_LIB=target/debug/liblabwire.so python3 ffi/examples/decode.py FILE
"""
import ctypes as C, os, sys

class Error(C.Structure):  # struct labwire_error
    _fields_ = [("code", C.c_int), ("message", C.c_char_p), ("message_len", C.c_size_t),
                ("location", C.c_char_p), ("location_len", C.c_size_t), ("offset", C.c_uint64)]

lib = C.CDLL(os.environ.get("LABWIRE_LIB", "liblabwire.so"))
lib.labwire_result_name.restype = C.c_char_p
lib.labwire_decoder_decode.argtypes = [C.c_void_p, C.c_char_p, C.c_size_t]
lib.labwire_decoder_events_json.argtypes = [C.c_void_p, C.POINTER(C.c_void_p), C.POINTER(C.c_size_t)]

decoder = C.c_void_p()
if lib.labwire_decoder_new(C.byref(decoder)) != 0:
    sys.exit("labwire_decoder_new failed")
try:
    data = open(sys.argv[1], "rb").read()
    result = lib.labwire_decoder_decode(decoder, data, len(data))
    if result not in (0, 2):  # LABWIRE_RESULT_OK, LABWIRE_RESULT_PARTIAL
        error = Error()
        lib.labwire_decoder_last_error(decoder, C.byref(error))
        sys.exit(f"{sys.argv[1]}: {lib.labwire_result_name(result).decode()}: {error.message.decode()}")
    json, length = C.c_void_p(), C.c_size_t()
    lib.labwire_decoder_events_json(decoder, C.byref(json), C.byref(length))
    sys.stdout.write(C.string_at(json, length.value).decode())
finally:
    lib.labwire_decoder_free(decoder)
