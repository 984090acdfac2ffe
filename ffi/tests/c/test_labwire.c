/*
 * The labwire C API from C: every function, on the fixtures in ffi/tests/data, and
 * every error path (NULL pointers, bad UTF-8, malformed input, too-small buffers,
 * out-of-range arguments and indexes, wrong states).
 *
 * Built by ffi/tests/it/c_api.rs with -std=c11 -Wall -Wextra -Werror -pedantic against
 * the static and the shared library, and run (under valgrind with LABWIRE_VALGRIND=1).
 *
 *   test_labwire <fixture directory>
 *
 * Prints one line per failed check and exits with 1 if any failed.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labwire.h"

static int failures = 0;
static int checks = 0;

#define CHECK(condition)                                                               \
  do {                                                                                 \
    checks++;                                                                          \
    if (!(condition)) {                                                                \
      failures++;                                                                      \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);  \
    }                                                                                  \
  } while (0)

/* A call must return `expected`. */
#define EXPECT(call, expected)                                                         \
  do {                                                                                 \
    labwire_result got_ = (call);                                                      \
    checks++;                                                                          \
    if (got_ != (expected)) {                                                          \
      failures++;                                                                      \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__, __LINE__,      \
              #call, labwire_result_name((uint32_t)got_),                              \
              labwire_result_name((uint32_t)(expected)));                              \
    }                                                                                  \
  } while (0)

#define OK(call) EXPECT(call, LABWIRE_RESULT_OK)

/* (ptr, len) equals a C string. */
static int equals(const void *ptr, size_t len, const char *text) {
  return len == strlen(text) && memcmp(ptr, text, len) == 0;
}

/* (ptr, len) contains a C string. */
static int contains(const void *ptr, size_t len, const char *text) {
  size_t needle = strlen(text);
  const char *hay = (const char *)ptr;
  size_t i;
  if (needle > len) {
    return 0;
  }
  for (i = 0; i + needle <= len; i++) {
    if (memcmp(hay + i, text, needle) == 0) {
      return 1;
    }
  }
  return 0;
}

/* Every handle-owned output is NUL-terminated after its length. */
static int nul_terminated(const void *ptr, size_t len) {
  return ((const char *)ptr)[len] == '\0';
}

typedef struct bytes {
  uint8_t *data;
  size_t len;
} bytes;

static bytes read_fixture(const char *dir, const char *name) {
  char path[4096];
  bytes out = {NULL, 0};
  FILE *file;
  long size;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  file = fopen(path, "rb");
  if (file == NULL) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  fseek(file, 0, SEEK_END);
  size = ftell(file);
  fseek(file, 0, SEEK_SET);
  out.data = (uint8_t *)malloc((size_t)size + 1);
  if (out.data == NULL || fread(out.data, 1, (size_t)size, file) != (size_t)size) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  out.len = (size_t)size;
  out.data[out.len] = 0;
  fclose(file);
  return out;
}

static const char *NOT_UTF8 = "OBX\xff-5";
static const uint8_t *SOME_BYTES = (const uint8_t *)"x";

/* ------------------------------------------------------------------------------- */

static void test_general(void) {
  const char *version = NULL;
  size_t version_len = 0;
  labwire_format format = LABWIRE_FORMAT_DICOM;

  OK(labwire_version(&version, &version_len));
  CHECK(version != NULL && version_len > 0 && strlen(version) == version_len);
  EXPECT(labwire_version(NULL, &version_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_version(&version, NULL), LABWIRE_RESULT_NULL_PARAMETER);

  CHECK(strcmp(labwire_result_name(LABWIRE_RESULT_OK), "LABWIRE_RESULT_OK") == 0);
  CHECK(strcmp(labwire_result_name(LABWIRE_RESULT_HL7_SYNTAX), "LABWIRE_RESULT_HL7_SYNTAX") == 0);
  CHECK(strcmp(labwire_result_name(LABWIRE_RESULT_INVALID_TIMESTAMP),
               "LABWIRE_RESULT_INVALID_TIMESTAMP") == 0);
  CHECK(strcmp(labwire_result_name(12345), "LABWIRE_RESULT_UNKNOWN") == 0);

  OK(labwire_detect_format((const uint8_t *)"MSH|^~\\&|", 9, &format));
  CHECK(format == LABWIRE_FORMAT_HL7);
  OK(labwire_detect_format((const uint8_t *)"\x05\x02" "1H|", 5, &format));
  CHECK(format == LABWIRE_FORMAT_ASTM);
  OK(labwire_detect_format((const uint8_t *)"DICM", 4, &format));
  CHECK(format == LABWIRE_FORMAT_DICOM);
  OK(labwire_detect_format((const uint8_t *)"hello", 5, &format));
  CHECK(format == LABWIRE_FORMAT_UNKNOWN);
  OK(labwire_detect_format(NULL, 0, &format));
  CHECK(format == LABWIRE_FORMAT_UNKNOWN);
  EXPECT(labwire_detect_format(NULL, 5, &format), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_detect_format(SOME_BYTES, 1, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_detect_format(SOME_BYTES, SIZE_MAX, &format), LABWIRE_RESULT_INVALID_ARGUMENT);

  EXPECT(labwire_check_panic_boundary(), LABWIRE_RESULT_PANIC);
}

/* ------------------------------------------------------------------------------- */

static void test_decoder(const bytes *hl7, const bytes *astm, const bytes *dicom) {
  labwire_decoder *decoder = NULL;
  const char *json = NULL;
  size_t json_len = 0, count = 0, needed = 0;
  labwire_format format = LABWIRE_FORMAT_UNKNOWN;
  labwire_error error;
  char small[8];
  char *copy;
  /* Two messages, the second of a type that is not mapped: one event, one error. */
  const char *partial =
      "MSH|^~\\&|AN|LAB|LIS|HOSP|20240301101502||ORU^R01|M1|P|2.5.1\r"
      "OBR|1|P-1|F-1|GLU\r"
      "OBX|1|NM|2345-7^Glucose^LN||5.40|mmol/L|||||F\r"
      "MSH|^~\\&|AN|LAB|LIS|HOSP|20240301101502||XYZ^Q99|M2|P|2.5.1\r";
  /* LF terminators: accepted with a warning. */
  const char *with_lf =
      "MSH|^~\\&|AN|LAB|LIS|HOSP|20240301101502||ORU^R01|M1|P|2.5.1\n"
      "OBR|1|P-1|F-1|GLU\n"
      "OBX|1|NM|2345-7^Glucose^LN||5.40|mmol/L|||||F\n";

  EXPECT(labwire_decoder_new(NULL), LABWIRE_RESULT_NULL_PARAMETER);
  OK(labwire_decoder_new(&decoder));
  CHECK(decoder != NULL);

  /* Before any input: nothing. */
  OK(labwire_decoder_event_count(decoder, &count));
  CHECK(count == 0);
  OK(labwire_decoder_format(decoder, &format));
  CHECK(format == LABWIRE_FORMAT_UNKNOWN);
  OK(labwire_decoder_events_json(decoder, &json, &json_len));
  CHECK(json_len == 0 && json != NULL && json[0] == '\0');

  /* HL7 */
  OK(labwire_decoder_decode(decoder, hl7->data, hl7->len));
  OK(labwire_decoder_event_count(decoder, &count));
  CHECK(count == 1);
  OK(labwire_decoder_format(decoder, &format));
  CHECK(format == LABWIRE_FORMAT_HL7);
  OK(labwire_decoder_events_json(decoder, &json, &json_len));
  CHECK(json_len > 0 && json[json_len - 1] == '\n' && nul_terminated(json, json_len));
  CHECK(contains(json, json_len, "\"1988-5\""));
  OK(labwire_decoder_last_error(decoder, &error));
  CHECK(error.code == LABWIRE_RESULT_OK && error.message_len == 0);

  /* The same JSON into a caller buffer: size query, too small, exact. */
  EXPECT(labwire_decoder_copy_events_json(decoder, NULL, 0, &needed),
         LABWIRE_RESULT_INSUFFICIENT_SIZE);
  CHECK(needed == json_len);
  EXPECT(labwire_decoder_copy_events_json(decoder, small, sizeof small, &needed),
         LABWIRE_RESULT_INSUFFICIENT_SIZE);
  CHECK(needed == json_len);
  copy = (char *)malloc(needed + 1);
  EXPECT(labwire_decoder_copy_events_json(decoder, copy, needed, &needed),
         LABWIRE_RESULT_INSUFFICIENT_SIZE); /* no room for the NUL */
  OK(labwire_decoder_copy_events_json(decoder, copy, needed + 1, &needed));
  CHECK(strlen(copy) == json_len && memcmp(copy, json, json_len) == 0);
  free(copy);
  EXPECT(labwire_decoder_copy_events_json(decoder, NULL, 1000000, &needed),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_copy_events_json(decoder, small, sizeof small, NULL),
         LABWIRE_RESULT_NULL_PARAMETER);

  /* ASTM, an E1381 capture, with the options set. */
  OK(labwire_decoder_set_astm_dialect(decoder, LABWIRE_ASTM_DIALECT_GENERIC));
  OK(labwire_decoder_set_astm_charset(decoder, LABWIRE_ASTM_CHARSET_LATIN1));
  OK(labwire_decoder_set_format(decoder, LABWIRE_FORMAT_ASTM));
  OK(labwire_decoder_decode(decoder, astm->data, astm->len));
  OK(labwire_decoder_format(decoder, &format));
  CHECK(format == LABWIRE_FORMAT_ASTM);
  OK(labwire_decoder_event_count(decoder, &count));
  CHECK(count == 1);
  OK(labwire_decoder_set_format(decoder, LABWIRE_FORMAT_UNKNOWN));
  OK(labwire_decoder_set_astm_charset(decoder, LABWIRE_ASTM_CHARSET_UTF8));

  /* DICOM */
  OK(labwire_decoder_decode(decoder, dicom->data, dicom->len));
  OK(labwire_decoder_format(decoder, &format));
  CHECK(format == LABWIRE_FORMAT_DICOM);
  OK(labwire_decoder_events_json(decoder, &json, &json_len));
  CHECK(contains(json, json_len, "S19-1_A_1_1"));

  /* Warnings */
  OK(labwire_decoder_decode(decoder, (const uint8_t *)with_lf, strlen(with_lf)));
  OK(labwire_decoder_warning_count(decoder, &count));
  CHECK(count >= 1);
  OK(labwire_decoder_warning(decoder, 0, &error));
  CHECK(error.code == LABWIRE_RESULT_HL7_SYNTAX && error.message_len > 0);
  CHECK(nul_terminated(error.message, error.message_len));
  CHECK(error.offset != LABWIRE_NO_OFFSET);
  EXPECT(labwire_decoder_warning(decoder, count, &error), LABWIRE_RESULT_INDEX_OUT_OF_RANGE);
  EXPECT(labwire_decoder_warning(decoder, 0, NULL), LABWIRE_RESULT_NULL_PARAMETER);

  /* A partly rejected input: events and errors. */
  EXPECT(labwire_decoder_decode(decoder, (const uint8_t *)partial, strlen(partial)),
         LABWIRE_RESULT_PARTIAL);
  OK(labwire_decoder_event_count(decoder, &count));
  CHECK(count == 1);
  OK(labwire_decoder_error_count(decoder, &count));
  CHECK(count == 1);
  OK(labwire_decoder_error(decoder, 0, &error));
  CHECK(error.code == LABWIRE_RESULT_HL7_MAPPING);
  CHECK(equals(error.location, error.location_len, "message 2"));
  EXPECT(labwire_decoder_error(decoder, 1, &error), LABWIRE_RESULT_INDEX_OUT_OF_RANGE);
  EXPECT(labwire_decoder_error(decoder, 0, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  OK(labwire_decoder_last_error(decoder, &error));
  CHECK(error.code == LABWIRE_RESULT_HL7_MAPPING && error.message_len > 0);

  /* Rejected as a whole: the first error's code, no events. */
  OK(labwire_decoder_set_strict(decoder, true));
  EXPECT(labwire_decoder_decode(decoder, (const uint8_t *)with_lf, strlen(with_lf)),
         LABWIRE_RESULT_HL7_SYNTAX);
  OK(labwire_decoder_event_count(decoder, &count));
  CHECK(count == 0);
  OK(labwire_decoder_last_error(decoder, &error));
  CHECK(error.code == LABWIRE_RESULT_HL7_SYNTAX && error.offset != LABWIRE_NO_OFFSET);
  OK(labwire_decoder_set_strict(decoder, false));
  OK(labwire_decoder_set_format(decoder, LABWIRE_FORMAT_ASTM));
  EXPECT(labwire_decoder_decode(decoder, (const uint8_t *)"\x05\x04", 2), LABWIRE_RESULT_ASTM_RECORD);
  OK(labwire_decoder_set_format(decoder, LABWIRE_FORMAT_DICOM));
  EXPECT(labwire_decoder_decode(decoder, (const uint8_t *)"not dicom", 9),
         LABWIRE_RESULT_DICOM_PARSE);
  OK(labwire_decoder_set_format(decoder, LABWIRE_FORMAT_UNKNOWN));

  /* Unknown format */
  EXPECT(labwire_decoder_decode(decoder, (const uint8_t *)"hello", 5), LABWIRE_RESULT_UNKNOWN_FORMAT);
  OK(labwire_decoder_format(decoder, &format));
  CHECK(format == LABWIRE_FORMAT_UNKNOWN);
  OK(labwire_decoder_last_error(decoder, &error));
  CHECK(error.code == LABWIRE_RESULT_UNKNOWN_FORMAT && error.offset == 0);

  /* Arguments */
  EXPECT(labwire_decoder_set_format(decoder, 99), LABWIRE_RESULT_INVALID_ARGUMENT);
  OK(labwire_decoder_last_error(decoder, &error));
  CHECK(error.code == LABWIRE_RESULT_INVALID_ARGUMENT &&
        equals(error.location, error.location_len, "format"));
  EXPECT(labwire_decoder_set_astm_dialect(decoder, 3), LABWIRE_RESULT_INVALID_ARGUMENT);
  EXPECT(labwire_decoder_set_astm_charset(decoder, 3), LABWIRE_RESULT_INVALID_ARGUMENT);
  OK(labwire_decoder_set_astm_dialect(decoder, LABWIRE_ASTM_DIALECT_SYSMEX_XN));
  OK(labwire_decoder_set_astm_dialect(decoder, LABWIRE_ASTM_DIALECT_ROCHE_COBAS));
  OK(labwire_decoder_set_astm_charset(decoder, LABWIRE_ASTM_CHARSET_WINDOWS1252));
  EXPECT(labwire_decoder_decode(decoder, NULL, 3), LABWIRE_RESULT_NULL_PARAMETER);
  OK(labwire_decoder_last_error(decoder, &error));
  CHECK(error.code == LABWIRE_RESULT_NULL_PARAMETER && equals(error.location, error.location_len, "bytes"));
  EXPECT(labwire_decoder_decode(decoder, SOME_BYTES, SIZE_MAX), LABWIRE_RESULT_INVALID_ARGUMENT);

  /* NULL handles and out pointers */
  EXPECT(labwire_decoder_set_format(NULL, 0), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_set_strict(NULL, false), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_set_astm_dialect(NULL, 0), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_set_astm_charset(NULL, 0), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_decode(NULL, SOME_BYTES, 1), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_events_json(NULL, &json, &json_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_events_json(decoder, NULL, &json_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_events_json(decoder, &json, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_copy_events_json(NULL, small, sizeof small, &needed),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_event_count(NULL, &count), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_event_count(decoder, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_format(NULL, &format), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_format(decoder, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_warning_count(NULL, &count), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_warning_count(decoder, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_warning(NULL, 0, &error), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_error_count(NULL, &count), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_error_count(decoder, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_error(NULL, 0, &error), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_last_error(NULL, &error), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_decoder_last_error(decoder, NULL), LABWIRE_RESULT_NULL_PARAMETER);

  labwire_decoder_free(decoder);
  labwire_decoder_free(NULL);
}

/* ------------------------------------------------------------------------------- */

static void test_hl7(const bytes *hl7) {
  labwire_hl7_message *message = NULL;
  const char *value = NULL;
  const uint8_t *ack = NULL;
  size_t value_len = 0, ack_len = 0, count = 0;
  char buf[64];
  labwire_error error;
  const char *id = "ACK-0001", *time = "20240302091501";
  /* Strict parsing keeps bytes that do not match MSH-18; decoding them then fails. */
  const char *bad_charset = "MSH|^~\\&||||||||||||||||UNICODE UTF-8\rNTE|1||4\\5 \xff\r";
  /* LF terminators and a lower-case segment id: refused in strict mode. */
  const char *with_lf = "MSH|^~\\&|A|B|C|D|2024||ORU^R01|X9|P|2.5.1\npid|1\n";

  EXPECT(labwire_hl7_message_new(NULL), LABWIRE_RESULT_NULL_PARAMETER);
  OK(labwire_hl7_message_new(&message));

  /* Nothing parsed yet */
  EXPECT(labwire_hl7_message_get(message, "MSH-9", 5, &value, &value_len), LABWIRE_RESULT_INVALID_STATE);
  EXPECT(labwire_hl7_message_ack(message, LABWIRE_ACK_CODE_APPLICATION_ACCEPT, id, strlen(id), time,
                                 strlen(time), &ack, &ack_len),
         LABWIRE_RESULT_INVALID_STATE);
  EXPECT(labwire_hl7_message_segment_count(message, &count), LABWIRE_RESULT_INVALID_STATE);

  OK(labwire_hl7_message_parse(message, hl7->data, hl7->len, false));
  OK(labwire_hl7_message_segment_count(message, &count));
  CHECK(count == 11);
  OK(labwire_hl7_message_get(message, "MSH-9.1", 7, &value, &value_len));
  CHECK(equals(value, value_len, "ORU") && nul_terminated(value, value_len));
  OK(labwire_hl7_message_get(message, "OBX(2)-3.1", 10, &value, &value_len));
  CHECK(equals(value, value_len, "5048-4"));
  OK(labwire_hl7_message_get(message, "OBX(6)-5", 8, &value, &value_len));
  CHECK(equals(value, value_len, "4.10"));
  OK(labwire_hl7_message_get(message, "PID-5", 5, &value, &value_len));
  CHECK(equals(value, value_len, "Okafor^Chidi"));
  OK(labwire_hl7_message_get(message, "OBX(1)-4", 8, &value, &value_len)); /* present, empty */
  CHECK(value_len == 0);
  EXPECT(labwire_hl7_message_get(message, "OBX(9)-5", 8, &value, &value_len), LABWIRE_RESULT_NOT_FOUND);
  EXPECT(labwire_hl7_message_get(message, "ZZZ-1", 5, &value, &value_len), LABWIRE_RESULT_NOT_FOUND);
  EXPECT(labwire_hl7_message_get(message, "OBX(x)-5", 8, &value, &value_len), LABWIRE_RESULT_HL7_PATH);
  OK(labwire_hl7_message_last_error(message, &error));
  CHECK(error.code == LABWIRE_RESULT_HL7_PATH && error.offset != LABWIRE_NO_OFFSET);
  EXPECT(labwire_hl7_message_get(message, NOT_UTF8, strlen(NOT_UTF8), &value, &value_len),
         LABWIRE_RESULT_INVALID_UTF8);
  OK(labwire_hl7_message_last_error(message, &error));
  CHECK(error.code == LABWIRE_RESULT_INVALID_UTF8 && error.offset == 3);
  EXPECT(labwire_hl7_message_get(message, NULL, 5, &value, &value_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_hl7_message_get(message, "PID-5", 5, NULL, &value_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_hl7_message_get(message, "PID-5", 5, &value, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_hl7_message_get(NULL, "PID-5", 5, &value, &value_len), LABWIRE_RESULT_NULL_PARAMETER);

  /* Into a caller buffer */
  OK(labwire_hl7_message_get_into(message, "PID-5.1", 7, buf, sizeof buf, &value_len));
  CHECK(strcmp(buf, "Okafor") == 0 && value_len == 6);
  EXPECT(labwire_hl7_message_get_into(message, "PID-5.1", 7, NULL, 0, &value_len),
         LABWIRE_RESULT_INSUFFICIENT_SIZE);
  CHECK(value_len == 6);
  EXPECT(labwire_hl7_message_get_into(message, "PID-5.1", 7, buf, 6, &value_len),
         LABWIRE_RESULT_INSUFFICIENT_SIZE);
  OK(labwire_hl7_message_last_error(message, &error));
  CHECK(error.code == LABWIRE_RESULT_INSUFFICIENT_SIZE);
  EXPECT(labwire_hl7_message_get_into(message, "PID-5.1", 7, NULL, 7, &value_len),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_hl7_message_get_into(message, "PID-5.1", 7, buf, sizeof buf, NULL),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_hl7_message_get_into(message, "PV1-2", 5, buf, sizeof buf, &value_len),
         LABWIRE_RESULT_NOT_FOUND);
  EXPECT(labwire_hl7_message_get_into(message, "PV1(", 4, buf, sizeof buf, &value_len),
         LABWIRE_RESULT_HL7_PATH);
  EXPECT(labwire_hl7_message_get_into(message, NOT_UTF8, strlen(NOT_UTF8), buf, sizeof buf, &value_len),
         LABWIRE_RESULT_INVALID_UTF8);
  EXPECT(labwire_hl7_message_get_into(NULL, "PID-5", 5, buf, sizeof buf, &value_len),
         LABWIRE_RESULT_NULL_PARAMETER);

  /* The ACK */
  OK(labwire_hl7_message_ack(message, LABWIRE_ACK_CODE_APPLICATION_ACCEPT, id, strlen(id), time,
                             strlen(time), &ack, &ack_len));
  CHECK(contains(ack, ack_len, "MSA|AA|AU-55120\r"));
  CHECK(contains(ack, ack_len, "|ACK-0001|"));
  CHECK(contains(ack, ack_len, "|20240302091501|"));
  CHECK(nul_terminated(ack, ack_len));
  OK(labwire_hl7_message_ack(message, LABWIRE_ACK_CODE_APPLICATION_ERROR, id, strlen(id), time,
                             strlen(time), &ack, &ack_len));
  CHECK(contains(ack, ack_len, "MSA|AE|"));
  OK(labwire_hl7_message_ack(message, LABWIRE_ACK_CODE_APPLICATION_REJECT, id, strlen(id), NULL, 0,
                             &ack, &ack_len));
  CHECK(contains(ack, ack_len, "MSA|AR|"));
  OK(labwire_hl7_message_ack(message, LABWIRE_ACK_CODE_COMMIT_ACCEPT, id, strlen(id), time,
                             strlen(time), &ack, &ack_len));
  CHECK(contains(ack, ack_len, "MSA|CA|"));
  OK(labwire_hl7_message_ack(message, LABWIRE_ACK_CODE_COMMIT_ERROR, id, strlen(id), time,
                             strlen(time), &ack, &ack_len));
  CHECK(contains(ack, ack_len, "MSA|CE|"));
  OK(labwire_hl7_message_ack(message, LABWIRE_ACK_CODE_COMMIT_REJECT, id, strlen(id), time,
                             strlen(time), &ack, &ack_len));
  CHECK(contains(ack, ack_len, "MSA|CR|"));
  EXPECT(labwire_hl7_message_ack(message, 6, id, strlen(id), time, strlen(time), &ack, &ack_len),
         LABWIRE_RESULT_INVALID_ARGUMENT);
  EXPECT(labwire_hl7_message_ack(message, 0, NOT_UTF8, strlen(NOT_UTF8), time, strlen(time), &ack,
                                 &ack_len),
         LABWIRE_RESULT_INVALID_UTF8);
  EXPECT(labwire_hl7_message_ack(message, 0, id, strlen(id), NOT_UTF8, strlen(NOT_UTF8), &ack,
                                 &ack_len),
         LABWIRE_RESULT_INVALID_UTF8);
  EXPECT(labwire_hl7_message_ack(message, 0, NULL, 3, time, strlen(time), &ack, &ack_len),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_hl7_message_ack(message, 0, id, strlen(id), time, strlen(time), NULL, &ack_len),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_hl7_message_ack(message, 0, id, strlen(id), time, strlen(time), &ack, NULL),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_hl7_message_ack(NULL, 0, id, strlen(id), time, strlen(time), &ack, &ack_len),
         LABWIRE_RESULT_NULL_PARAMETER);

  /* A value that does not decode (strict) */
  OK(labwire_hl7_message_parse(message, (const uint8_t *)bad_charset, strlen(bad_charset), true));
  EXPECT(labwire_hl7_message_get(message, "NTE-3", 5, &value, &value_len), LABWIRE_RESULT_HL7_VALUE);
  OK(labwire_hl7_message_last_error(message, &error));
  CHECK(error.code == LABWIRE_RESULT_HL7_VALUE && error.offset != LABWIRE_NO_OFFSET);
  CHECK(equals(error.location, error.location_len, "NTE-3"));

  /* A message that does not parse: the error, then the reject ACK. */
  EXPECT(labwire_hl7_message_parse(message, (const uint8_t *)with_lf, strlen(with_lf), true),
         LABWIRE_RESULT_HL7_SYNTAX);
  OK(labwire_hl7_message_last_error(message, &error));
  CHECK(error.code == LABWIRE_RESULT_HL7_SYNTAX && error.message_len > 0 && error.offset != LABWIRE_NO_OFFSET);
  EXPECT(labwire_hl7_message_get(message, "MSH-10", 6, &value, &value_len), LABWIRE_RESULT_INVALID_STATE);
  EXPECT(labwire_hl7_message_segment_count(message, &count), LABWIRE_RESULT_INVALID_STATE);
  OK(labwire_hl7_message_ack(message, LABWIRE_ACK_CODE_APPLICATION_ACCEPT, id, strlen(id), time,
                             strlen(time), &ack, &ack_len));
  CHECK(contains(ack, ack_len, "MSA|AR|X9"));
  CHECK(contains(ack, ack_len, "\rERR|"));
  EXPECT(labwire_hl7_message_parse(message, (const uint8_t *)"not hl7", 7, false), LABWIRE_RESULT_HL7_SYNTAX);
  OK(labwire_hl7_message_ack(message, LABWIRE_ACK_CODE_APPLICATION_ACCEPT, id, strlen(id), time,
                             strlen(time), &ack, &ack_len));
  CHECK(contains(ack, ack_len, "\rMSA|AR")); /* minimal: no MSH-10 to echo */
  EXPECT(labwire_hl7_message_parse(message, NULL, 4, false), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_hl7_message_parse(message, SOME_BYTES, SIZE_MAX, false), LABWIRE_RESULT_INVALID_ARGUMENT);
  EXPECT(labwire_hl7_message_parse(NULL, hl7->data, hl7->len, false), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_hl7_message_segment_count(NULL, &count), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_hl7_message_segment_count(message, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_hl7_message_last_error(NULL, &error), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_hl7_message_last_error(message, NULL), LABWIRE_RESULT_NULL_PARAMETER);

  labwire_hl7_message_free(message);
  labwire_hl7_message_free(NULL);
}

/* ------------------------------------------------------------------------------- */

static void test_mllp(const bytes *hl7) {
  labwire_mllp_decoder *decoder = NULL;
  const uint8_t *payload = NULL;
  size_t payload_len = 0, frame_len = 0, at;
  uint8_t *wire;
  uint8_t small[4];
  labwire_error error;

  /* Encode: size query, too small, then for real. */
  EXPECT(labwire_mllp_encode(hl7->data, hl7->len, NULL, 0, &frame_len), LABWIRE_RESULT_INSUFFICIENT_SIZE);
  CHECK(frame_len == hl7->len + 3);
  EXPECT(labwire_mllp_encode(hl7->data, hl7->len, small, sizeof small, &frame_len),
         LABWIRE_RESULT_INSUFFICIENT_SIZE);
  wire = (uint8_t *)malloc(2 * (frame_len + 1));
  OK(labwire_mllp_encode(hl7->data, hl7->len, wire, frame_len + 1, &frame_len));
  CHECK(wire[0] == 0x0b && wire[frame_len - 2] == 0x1c && wire[frame_len - 1] == 0x0d);
  memcpy(wire + frame_len, wire, frame_len); /* two frames back to back */
  EXPECT(labwire_mllp_encode((const uint8_t *)"a\x0b" "b", 3, small, sizeof small, &frame_len),
         LABWIRE_RESULT_MLLP);
  EXPECT(labwire_mllp_encode(hl7->data, hl7->len, NULL, 1000000, &frame_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mllp_encode(hl7->data, hl7->len, small, sizeof small, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mllp_encode(NULL, 5, small, sizeof small, &frame_len), LABWIRE_RESULT_NULL_PARAMETER);
  frame_len = hl7->len + 3;

  /* Decode, pushed in chunks of 7 bytes. */
  EXPECT(labwire_mllp_decoder_new(0, false, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  OK(labwire_mllp_decoder_new(0, false, &decoder));
  EXPECT(labwire_mllp_decoder_next(decoder, &payload, &payload_len), LABWIRE_RESULT_NEED_MORE);
  CHECK(payload_len == 0);
  {
    int frames = 0;
    for (at = 0; at < 2 * frame_len; at += 7) {
      size_t chunk = 2 * frame_len - at < 7 ? 2 * frame_len - at : 7;
      labwire_result result;
      OK(labwire_mllp_decoder_push(decoder, wire + at, chunk));
      while ((result = labwire_mllp_decoder_next(decoder, &payload, &payload_len)) == LABWIRE_RESULT_OK) {
        CHECK(payload_len == hl7->len && memcmp(payload, hl7->data, hl7->len) == 0);
        CHECK(nul_terminated(payload, payload_len));
        frames++;
      }
      CHECK(result == LABWIRE_RESULT_NEED_MORE);
    }
    CHECK(frames == 2);
  }
  EXPECT(labwire_mllp_decoder_finish(decoder, &payload, &payload_len), LABWIRE_RESULT_NOT_FOUND);

  /* End of stream: a last frame without its CR (lenient), then one cut off. */
  OK(labwire_mllp_decoder_push(decoder, (const uint8_t *)"\x0blast\x1c", 6));
  EXPECT(labwire_mllp_decoder_next(decoder, &payload, &payload_len), LABWIRE_RESULT_NEED_MORE);
  OK(labwire_mllp_decoder_finish(decoder, &payload, &payload_len));
  CHECK(equals(payload, payload_len, "last"));
  OK(labwire_mllp_decoder_push(decoder, (const uint8_t *)"\x0b" "cut", 4));
  EXPECT(labwire_mllp_decoder_next(decoder, &payload, &payload_len), LABWIRE_RESULT_NEED_MORE);
  EXPECT(labwire_mllp_decoder_finish(decoder, &payload, &payload_len), LABWIRE_RESULT_MLLP);
  OK(labwire_mllp_decoder_last_error(decoder, &error));
  CHECK(error.code == LABWIRE_RESULT_MLLP && error.offset != LABWIRE_NO_OFFSET && error.message_len > 0);

  EXPECT(labwire_mllp_decoder_push(decoder, NULL, 2), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mllp_decoder_push(NULL, SOME_BYTES, 1), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mllp_decoder_push(decoder, SOME_BYTES, SIZE_MAX), LABWIRE_RESULT_INVALID_ARGUMENT);
  EXPECT(labwire_mllp_decoder_next(NULL, &payload, &payload_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mllp_decoder_next(decoder, NULL, &payload_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mllp_decoder_next(decoder, &payload, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mllp_decoder_finish(NULL, &payload, &payload_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mllp_decoder_finish(decoder, NULL, &payload_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mllp_decoder_finish(decoder, &payload, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mllp_decoder_last_error(NULL, &error), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mllp_decoder_last_error(decoder, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  labwire_mllp_decoder_free(decoder);

  /* A small maximum: an oversized frame is an error and decoding goes on; a full
   * buffer refuses more until drained. */
  OK(labwire_mllp_decoder_new(4, false, &decoder));
  OK(labwire_mllp_decoder_push(decoder, (const uint8_t *)"\x0b" "123456789\x1c\r\x0bok\x1c\r", 17));
  EXPECT(labwire_mllp_decoder_push(decoder, (const uint8_t *)"more", 4), LABWIRE_RESULT_BUFFER_FULL);
  EXPECT(labwire_mllp_decoder_next(decoder, &payload, &payload_len), LABWIRE_RESULT_MLLP);
  OK(labwire_mllp_decoder_last_error(decoder, &error));
  CHECK(error.code == LABWIRE_RESULT_MLLP && error.offset == 0);
  OK(labwire_mllp_decoder_next(decoder, &payload, &payload_len));
  CHECK(equals(payload, payload_len, "ok"));
  EXPECT(labwire_mllp_decoder_next(decoder, &payload, &payload_len), LABWIRE_RESULT_NEED_MORE);
  OK(labwire_mllp_decoder_push(decoder, (const uint8_t *)"more", 4));
  labwire_mllp_decoder_free(decoder);

  /* Strict: an end block without its CR is an error. */
  OK(labwire_mllp_decoder_new(0, true, &decoder));
  OK(labwire_mllp_decoder_push(decoder, (const uint8_t *)"\x0b" "A\x1c\x0b" "B\x1c\r", 7));
  EXPECT(labwire_mllp_decoder_next(decoder, &payload, &payload_len), LABWIRE_RESULT_MLLP);
  labwire_mllp_decoder_free(decoder);
  labwire_mllp_decoder_free(NULL);
  free(wire);
}

/* ------------------------------------------------------------------------------- */

/* Drains a frame decoder, counting item kinds; returns the number of errors. */
static int drain_frames(labwire_astm_frame_decoder *decoder, int counts[3], int *last_frames) {
  labwire_astm_frame_item item;
  labwire_result result;
  int errors = 0;
  for (;;) {
    result = labwire_astm_frame_decoder_next(decoder, &item);
    if (result == LABWIRE_RESULT_NEED_MORE) {
      return errors;
    }
    if (result != LABWIRE_RESULT_OK) {
      errors++;
      continue;
    }
    counts[item.kind]++;
    CHECK(nul_terminated(item.text, item.text_len));
    if (item.kind == LABWIRE_ASTM_ITEM_KIND_FRAME && item.last) {
      (*last_frames)++;
    }
  }
}

static void test_astm_frames(const bytes *astm) {
  labwire_astm_frame_decoder *decoder = NULL;
  labwire_astm_frame_item item;
  labwire_error error;
  int counts[3] = {0, 0, 0}, last_frames = 0;
  size_t at;
  uint8_t *big;

  EXPECT(labwire_astm_frame_decoder_new(0, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  decoder = (labwire_astm_frame_decoder *)&counts; /* must be overwritten with NULL */
  EXPECT(labwire_astm_frame_decoder_new(64001, &decoder), LABWIRE_RESULT_INVALID_ARGUMENT);
  CHECK(decoder == NULL);
  OK(labwire_astm_frame_decoder_new(0, &decoder));

  /* The capture, byte by byte: ENQ, one frame, EOT. */
  for (at = 0; at < astm->len; at++) {
    OK(labwire_astm_frame_decoder_push(decoder, astm->data + at, 1));
    CHECK(drain_frames(decoder, counts, &last_frames) == 0);
  }
  CHECK(counts[LABWIRE_ASTM_ITEM_KIND_FRAME] == 1);
  CHECK(counts[LABWIRE_ASTM_ITEM_KIND_CONTROL] == 2);
  CHECK(last_frames == 1);

  /* One frame, looked at closely. */
  OK(labwire_astm_frame_decoder_push(decoder, (const uint8_t *)"\x02" "1L|1|N\r\x03" "04\r\n", 13));
  OK(labwire_astm_frame_decoder_next(decoder, &item));
  CHECK(item.kind == LABWIRE_ASTM_ITEM_KIND_FRAME && item.frame_number == '1' && item.last);
  CHECK(item.checksum == LABWIRE_ASTM_CHECKSUM_VALID && item.checksum_computed == 0x04);
  CHECK(item.checksum_received == 0x04);
  CHECK(equals(item.text, item.text_len, "L|1|N\r"));
  CHECK(item.offset == astm->len);
  EXPECT(labwire_astm_frame_decoder_next(decoder, &item), LABWIRE_RESULT_NEED_MORE);

  /* Checksum forms, junk and control characters. */
  OK(labwire_astm_frame_decoder_push(decoder, (const uint8_t *)"\x02" "2AB\x17" "FF\r\nnoise\x06", 15));
  OK(labwire_astm_frame_decoder_next(decoder, &item));
  CHECK(item.kind == LABWIRE_ASTM_ITEM_KIND_FRAME && !item.last);
  CHECK(item.checksum == LABWIRE_ASTM_CHECKSUM_MISMATCH && item.checksum_received == 0xff);
  OK(labwire_astm_frame_decoder_next(decoder, &item));
  CHECK(item.kind == LABWIRE_ASTM_ITEM_KIND_JUNK && equals(item.text, item.text_len, "noise"));
  OK(labwire_astm_frame_decoder_next(decoder, &item));
  CHECK(item.kind == LABWIRE_ASTM_ITEM_KIND_CONTROL && item.control == 0x06);
  OK(labwire_astm_frame_decoder_push(decoder, (const uint8_t *)"\x02" "3LM\x03" "cf\r\n", 9));
  OK(labwire_astm_frame_decoder_next(decoder, &item));
  CHECK(item.checksum == LABWIRE_ASTM_CHECKSUM_LOWERCASE);
  OK(labwire_astm_frame_decoder_push(decoder, (const uint8_t *)"\x02" "3L\x03\r\n", 6));
  OK(labwire_astm_frame_decoder_next(decoder, &item));
  CHECK(item.checksum == LABWIRE_ASTM_CHECKSUM_MISSING);
  EXPECT(labwire_astm_frame_decoder_next(decoder, &item), LABWIRE_RESULT_NEED_MORE);

  /* A frame cut off by a control character: an error, then decoding goes on. */
  OK(labwire_astm_frame_decoder_push(decoder, (const uint8_t *)"\x02" "4abc\x04", 6));
  EXPECT(labwire_astm_frame_decoder_next(decoder, &item), LABWIRE_RESULT_ASTM_LINK);
  OK(labwire_astm_frame_decoder_last_error(decoder, &error));
  CHECK(error.code == LABWIRE_RESULT_ASTM_LINK && error.offset != LABWIRE_NO_OFFSET);
  OK(labwire_astm_frame_decoder_next(decoder, &item));
  CHECK(item.kind == LABWIRE_ASTM_ITEM_KIND_CONTROL && item.control == 0x04);

  /* More than 1 MiB waiting is refused until drained. */
  big = (uint8_t *)calloc((1 << 20) + 1, 1);
  OK(labwire_astm_frame_decoder_push(decoder, big, (1 << 20) + 1));
  EXPECT(labwire_astm_frame_decoder_push(decoder, big, 1), LABWIRE_RESULT_BUFFER_FULL);
  OK(labwire_astm_frame_decoder_last_error(decoder, &error));
  CHECK(error.code == LABWIRE_RESULT_BUFFER_FULL);
  counts[0] = counts[1] = counts[2] = 0;
  drain_frames(decoder, counts, &last_frames);
  CHECK(counts[LABWIRE_ASTM_ITEM_KIND_JUNK] >= 1);
  OK(labwire_astm_frame_decoder_push(decoder, big, 1));
  free(big);

  EXPECT(labwire_astm_frame_decoder_push(decoder, NULL, 1), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_frame_decoder_push(NULL, SOME_BYTES, 1), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_frame_decoder_push(decoder, SOME_BYTES, SIZE_MAX), LABWIRE_RESULT_INVALID_ARGUMENT);
  EXPECT(labwire_astm_frame_decoder_next(decoder, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_frame_decoder_next(NULL, &item), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_frame_decoder_last_error(NULL, &error), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_frame_decoder_last_error(decoder, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  labwire_astm_frame_decoder_free(decoder);

  /* A frame longer than the maximum. */
  OK(labwire_astm_frame_decoder_new(4, &decoder));
  OK(labwire_astm_frame_decoder_push(decoder, (const uint8_t *)"\x02" "1TOO LONG\x03" "00\r\n", 14));
  EXPECT(labwire_astm_frame_decoder_next(decoder, &item), LABWIRE_RESULT_ASTM_LINK);
  labwire_astm_frame_decoder_free(decoder);
  labwire_astm_frame_decoder_free(NULL);
}

/* ------------------------------------------------------------------------------- */

typedef struct seen {
  int started, ended, received, partial, delivered, failed, warnings, errors;
  uint64_t delivered_id, failed_id;
  char text[512];
  size_t text_len;
} seen;

static void drain_events(labwire_astm_link *link, seen *s) {
  labwire_astm_event event;
  labwire_result result;
  while ((result = labwire_astm_link_poll_event(link, &event)) == LABWIRE_RESULT_OK) {
    CHECK(nul_terminated(event.text, event.text_len));
    CHECK(nul_terminated(event.detail, event.detail_len));
    switch (event.kind) {
      case LABWIRE_ASTM_EVENT_KIND_SESSION_STARTED:
        s->started++;
        CHECK(equals(event.detail, event.detail_len, "sending") ||
              equals(event.detail, event.detail_len, "receiving"));
        break;
      case LABWIRE_ASTM_EVENT_KIND_SESSION_ENDED:
        s->ended++;
        break;
      case LABWIRE_ASTM_EVENT_KIND_MESSAGE_RECEIVED:
        s->received++;
        CHECK(event.frames >= 1);
        if (event.text_len < sizeof s->text) {
          memcpy(s->text, event.text, event.text_len);
          s->text_len = event.text_len;
        }
        break;
      case LABWIRE_ASTM_EVENT_KIND_PARTIAL_MESSAGE:
        s->partial++;
        CHECK(event.detail_len > 0);
        break;
      case LABWIRE_ASTM_EVENT_KIND_DELIVERED:
        s->delivered++;
        s->delivered_id = event.message_id;
        break;
      case LABWIRE_ASTM_EVENT_KIND_FAILED:
        s->failed++;
        s->failed_id = event.message_id;
        CHECK(event.text_len > 0 && event.detail_len > 0);
        break;
      case LABWIRE_ASTM_EVENT_KIND_WARNING:
        s->warnings++;
        CHECK(event.detail_len > 0);
        break;
      case LABWIRE_ASTM_EVENT_KIND_PROTOCOL_ERROR:
        s->errors++;
        CHECK(event.detail_len > 0 && event.offset != LABWIRE_NO_OFFSET);
        break;
      case LABWIRE_ASTM_EVENT_KIND_OTHER:
        break;
    }
  }
  CHECK(result == LABWIRE_RESULT_NEED_MORE);
}

/* Takes a link's output into `out` (at most `cap` bytes); returns its length. */
static size_t output(labwire_astm_link *link, uint8_t *out, size_t cap) {
  const uint8_t *bytes = NULL;
  size_t len = 0;
  OK(labwire_astm_link_take_output(link, &bytes, &len));
  CHECK(len <= cap);
  if (len > cap) {
    len = cap;
  }
  memcpy(out, bytes, len);
  return len;
}

static void test_astm_link(const bytes *astm) {
  labwire_astm_link *computer = NULL, *instrument = NULL;
  const uint8_t *bytes_out = NULL;
  size_t len = 0, at;
  uint64_t deadline = 0, id = 99, now;
  uint8_t wire[1024];
  labwire_error error;
  labwire_astm_event event;
  seen s;
  const char *text = "H|\\^&\rP|1\rO|1|S-1||^^^GLU\rR|1|^^^GLU|5.4|mmol/L\rL|1|N\r";

  EXPECT(labwire_astm_link_new(LABWIRE_ASTM_ROLE_COMPUTER, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_link_new(2, &computer), LABWIRE_RESULT_INVALID_ARGUMENT);
  CHECK(computer == NULL);
  OK(labwire_astm_link_new(LABWIRE_ASTM_ROLE_COMPUTER, &computer));

  /* Receive the capture byte by byte: ACK to ENQ and to the frame. */
  memset(&s, 0, sizeof s);
  for (at = 0; at < astm->len; at++) {
    OK(labwire_astm_link_handle_bytes(computer, astm->data + at, 1, 1000 + at));
    OK(labwire_astm_link_take_output(computer, &bytes_out, &len));
    CHECK(len == 0 || (len == 1 && bytes_out[0] == 0x06));
    CHECK(nul_terminated(bytes_out, len));
    drain_events(computer, &s);
  }
  CHECK(s.started == 1 && s.ended == 1 && s.received == 1);
  CHECK(s.text_len > 2 && s.text[0] == 'H' && s.text[s.text_len - 2] == 'N');
  OK(labwire_astm_link_next_deadline(computer, &deadline));
  CHECK(deadline == LABWIRE_NO_DEADLINE);

  /* A frame with a bad checksum: NAK and a protocol error; EOT mid-message: partial. */
  memset(&s, 0, sizeof s);
  OK(labwire_astm_link_handle_bytes(computer, (const uint8_t *)"\x05", 1, 5000));
  CHECK(output(computer, wire, sizeof wire) == 1 && wire[0] == 0x06);
  OK(labwire_astm_link_handle_bytes(computer, (const uint8_t *)"\x02" "1H|\\^&\r\x17" "00\r\n", 13, 5001));
  CHECK(output(computer, wire, sizeof wire) == 1 && wire[0] == 0x15);
  OK(labwire_astm_link_next_deadline(computer, &deadline));
  CHECK(deadline == 5001 + 30000);
  OK(labwire_astm_link_handle_bytes(computer, (const uint8_t *)"\x02" "1H|\\^&\r\x17" "F9\r\n", 13, 5002));
  CHECK(output(computer, wire, sizeof wire) == 1 && wire[0] == 0x06);
  OK(labwire_astm_link_handle_bytes(computer, (const uint8_t *)"\x04", 1, 5003));
  drain_events(computer, &s);
  CHECK(s.errors == 1 && s.partial == 1 && s.received == 0);

  /* Junk on a neutral line: a warning. A receive session left open: a timeout. */
  memset(&s, 0, sizeof s);
  OK(labwire_astm_link_handle_bytes(computer, (const uint8_t *)"hello", 5, 6000));
  OK(labwire_astm_link_handle_bytes(computer, (const uint8_t *)"\x05", 1, 6001));
  output(computer, wire, sizeof wire);
  OK(labwire_astm_link_next_deadline(computer, &deadline));
  CHECK(deadline == 36001);
  OK(labwire_astm_link_handle_timeout(computer, deadline));
  drain_events(computer, &s);
  CHECK(s.warnings >= 1 && s.ended == 1);

  /* An instrument sends to the computer: delivered. */
  OK(labwire_astm_link_new(LABWIRE_ASTM_ROLE_INSTRUMENT, &instrument));
  OK(labwire_astm_link_send(instrument, (const uint8_t *)text, strlen(text), 10000, &id));
  CHECK(id == 0);
  memset(&s, 0, sizeof s);
  for (now = 10000; now < 10020; now++) {
    size_t n = output(instrument, wire, sizeof wire);
    OK(labwire_astm_link_handle_bytes(computer, wire, n, now));
    n = output(computer, wire, sizeof wire);
    OK(labwire_astm_link_handle_bytes(instrument, wire, n, now));
    drain_events(computer, &s);
    drain_events(instrument, &s);
  }
  CHECK(s.received == 1 && s.delivered == 1 && s.delivered_id == 0);
  CHECK(s.text_len == strlen(text) && memcmp(s.text, text, s.text_len) == 0);

  /* Nobody answers: after 6 ENQs the message fails. */
  memset(&s, 0, sizeof s);
  OK(labwire_astm_link_send(instrument, (const uint8_t *)text, strlen(text), 20000, &id));
  CHECK(id == 1);
  for (at = 0; at < 50 && s.failed == 0; at++) {
    output(instrument, wire, sizeof wire);
    OK(labwire_astm_link_next_deadline(instrument, &deadline));
    if (deadline == LABWIRE_NO_DEADLINE) {
      break;
    }
    OK(labwire_astm_link_handle_timeout(instrument, deadline));
    drain_events(instrument, &s);
  }
  CHECK(s.failed == 1 && s.failed_id == 1);

  /* Refused messages */
  EXPECT(labwire_astm_link_send(instrument, (const uint8_t *)"H|\x02|\r", 5, 30000000, &id),
         LABWIRE_RESULT_ASTM_SEND);
  OK(labwire_astm_link_last_error(instrument, &error));
  CHECK(error.code == LABWIRE_RESULT_ASTM_SEND && error.message_len > 0);
  EXPECT(labwire_astm_link_send(instrument, NULL, 5, 0, &id), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_link_send(instrument, (const uint8_t *)text, strlen(text), 0, NULL),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_link_send(NULL, (const uint8_t *)text, strlen(text), 0, &id),
         LABWIRE_RESULT_NULL_PARAMETER);

  EXPECT(labwire_astm_link_handle_bytes(NULL, SOME_BYTES, 1, 0), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_link_handle_bytes(computer, NULL, 1, 0), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_link_handle_bytes(computer, SOME_BYTES, SIZE_MAX, 0), LABWIRE_RESULT_INVALID_ARGUMENT);
  EXPECT(labwire_astm_link_handle_timeout(NULL, 0), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_link_take_output(NULL, &bytes_out, &len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_link_take_output(computer, NULL, &len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_link_take_output(computer, &bytes_out, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_link_next_deadline(NULL, &deadline), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_link_next_deadline(computer, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_link_poll_event(NULL, &event), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_link_poll_event(computer, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_link_last_error(NULL, &error), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_astm_link_last_error(computer, NULL), LABWIRE_RESULT_NULL_PARAMETER);

  labwire_astm_link_free(instrument);
  labwire_astm_link_free(computer);
  labwire_astm_link_free(NULL);
}

/* ------------------------------------------------------------------------------- */

static void test_dicom(const bytes *dicom) {
  labwire_dicom_header *header = NULL;
  const char *value = NULL, *json = NULL;
  size_t value_len = 0, json_len = 0;
  char buf[64];
  labwire_error error;

  EXPECT(labwire_dicom_header_new(NULL), LABWIRE_RESULT_NULL_PARAMETER);
  OK(labwire_dicom_header_new(&header));
  EXPECT(labwire_dicom_header_get(header, 0x00080060, &value, &value_len), LABWIRE_RESULT_INVALID_STATE);
  EXPECT(labwire_dicom_header_event_json(header, &json, &json_len), LABWIRE_RESULT_INVALID_STATE);

  OK(labwire_dicom_header_parse(header, dicom->data, dicom->len, false));
  OK(labwire_dicom_header_get(header, 0x00080060, &value, &value_len));
  CHECK(equals(value, value_len, "SM") && nul_terminated(value, value_len));
  OK(labwire_dicom_header_get(header, 0x00100010, &value, &value_len));
  CHECK(contains(value, value_len, "Test"));
  OK(labwire_dicom_header_get(header, 0x00280010, &value, &value_len)); /* Rows, US */
  CHECK(value_len > 0);
  OK(labwire_dicom_header_get(header, 0x00020010, &value, &value_len)); /* file meta */
  CHECK(contains(value, value_len, "1.2.840.10008.1.2"));
  OK(labwire_dicom_header_get_by_keyword(header, "ContainerIdentifier", 19, &value, &value_len));
  CHECK(equals(value, value_len, "S19-1_A_1_1"));
  EXPECT(labwire_dicom_header_get(header, 0x00191001, &value, &value_len), LABWIRE_RESULT_NOT_FOUND);
  EXPECT(labwire_dicom_header_get(header, 0x00020001, &value, &value_len), LABWIRE_RESULT_DICOM_VALUE);
  OK(labwire_dicom_header_last_error(header, &error));
  CHECK(error.code == LABWIRE_RESULT_DICOM_VALUE && error.location_len > 0 && error.offset != LABWIRE_NO_OFFSET);
  EXPECT(labwire_dicom_header_get_by_keyword(header, "NoSuchKeyword", 13, &value, &value_len),
         LABWIRE_RESULT_DICOM_KEYWORD);
  EXPECT(labwire_dicom_header_get_by_keyword(header, NOT_UTF8, strlen(NOT_UTF8), &value, &value_len),
         LABWIRE_RESULT_INVALID_UTF8);
  EXPECT(labwire_dicom_header_get_by_keyword(header, "PatientID", 9, &value, &value_len), LABWIRE_RESULT_OK);

  /* Into a caller buffer */
  OK(labwire_dicom_header_get_into(header, 0x00080060, buf, sizeof buf, &value_len));
  CHECK(strcmp(buf, "SM") == 0 && value_len == 2);
  EXPECT(labwire_dicom_header_get_into(header, 0x00080060, NULL, 0, &value_len),
         LABWIRE_RESULT_INSUFFICIENT_SIZE);
  CHECK(value_len == 2);
  EXPECT(labwire_dicom_header_get_into(header, 0x00080060, buf, 2, &value_len),
         LABWIRE_RESULT_INSUFFICIENT_SIZE);
  EXPECT(labwire_dicom_header_get_into(header, 0x00080060, NULL, 3, &value_len),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_get_into(header, 0x00080060, buf, sizeof buf, NULL),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_get_into(header, 0x00191001, buf, sizeof buf, &value_len),
         LABWIRE_RESULT_NOT_FOUND);

  OK(labwire_dicom_header_event_json(header, &json, &json_len));
  CHECK(json[0] == '{' && json[json_len - 1] == '}' && nul_terminated(json, json_len));
  CHECK(contains(json, json_len, "S19-1_A_1_1"));

  /* Cut short: partial, what was read is usable. */
  EXPECT(labwire_dicom_header_parse(header, dicom->data, 1200, false), LABWIRE_RESULT_PARTIAL);
  OK(labwire_dicom_header_last_error(header, &error));
  CHECK(error.code == LABWIRE_RESULT_DICOM_PARSE && error.offset != LABWIRE_NO_OFFSET);
  OK(labwire_dicom_header_get(header, 0x00020010, &value, &value_len));

  /* Not DICOM, and strict mode on a file that deviates. */
  EXPECT(labwire_dicom_header_parse(header, (const uint8_t *)"not dicom", 9, false), LABWIRE_RESULT_DICOM_PARSE);
  OK(labwire_dicom_header_last_error(header, &error));
  CHECK(error.code == LABWIRE_RESULT_DICOM_PARSE && error.message_len > 0);
  EXPECT(labwire_dicom_header_get(header, 0x00080060, &value, &value_len), LABWIRE_RESULT_INVALID_STATE);
  EXPECT(labwire_dicom_header_parse(header, dicom->data, 1200, true), LABWIRE_RESULT_DICOM_PARSE);

  EXPECT(labwire_dicom_header_parse(header, NULL, 5, false), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_parse(header, SOME_BYTES, SIZE_MAX, false), LABWIRE_RESULT_INVALID_ARGUMENT);
  EXPECT(labwire_dicom_header_parse(NULL, dicom->data, dicom->len, false), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_get(NULL, 0, &value, &value_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_get(header, 0, NULL, &value_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_get(header, 0, &value, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_get_by_keyword(NULL, "Modality", 8, &value, &value_len),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_get_by_keyword(header, NULL, 8, &value, &value_len),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_get_by_keyword(header, "Modality", 8, NULL, &value_len),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_get_into(NULL, 0, buf, sizeof buf, &value_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_event_json(NULL, &json, &json_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_event_json(header, NULL, &json_len), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_event_json(header, &json, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_last_error(NULL, &error), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_dicom_header_last_error(header, NULL), LABWIRE_RESULT_NULL_PARAMETER);

  labwire_dicom_header_free(header);
  labwire_dicom_header_free(NULL);
}

/* ------------------------------------------------------------------------------- */

static void test_mqtt(const bytes *hl7, const bytes *config) {
  labwire_decoder *decoder = NULL;
  labwire_mqtt_mapper *mapper = NULL;
  labwire_mqtt_message message;
  labwire_error error;
  const char *events = NULL, *name = NULL, *value = NULL;
  size_t events_len = 0, count = 99, name_len = 0, value_len = 0, i;
  const char *now = "2024-03-02T09:15:03Z";
  const char *no_route = "{\"site\": \"s\", \"area\": \"a\", \"gateway\": \"g\", \"privacy\": \"full\"}";
  int schema_seen = 0;

  OK(labwire_decoder_new(&decoder));
  OK(labwire_decoder_decode(decoder, hl7->data, hl7->len));
  OK(labwire_decoder_events_json(decoder, &events, &events_len));

  EXPECT(labwire_mqtt_mapper_new(NULL), LABWIRE_RESULT_NULL_PARAMETER);
  OK(labwire_mqtt_mapper_new(&mapper));
  EXPECT(labwire_mqtt_mapper_map(mapper, events, events_len, now, strlen(now), &count),
         LABWIRE_RESULT_INVALID_STATE);
  CHECK(count == 0);

  EXPECT(labwire_mqtt_mapper_configure(mapper, "{\"site\": 1}", 11, 7), LABWIRE_RESULT_MQTT_CONFIG);
  OK(labwire_mqtt_mapper_last_error(mapper, &error));
  CHECK(error.code == LABWIRE_RESULT_MQTT_CONFIG && error.message_len > 0);
  EXPECT(labwire_mqtt_mapper_configure(mapper, NOT_UTF8, strlen(NOT_UTF8), 7), LABWIRE_RESULT_INVALID_UTF8);
  EXPECT(labwire_mqtt_mapper_configure(mapper, NULL, 3, 7), LABWIRE_RESULT_NULL_PARAMETER);
  OK(labwire_mqtt_mapper_configure(mapper, (const char *)config->data, config->len, 7));

  OK(labwire_mqtt_mapper_map(mapper, events, events_len, now, strlen(now), &count));
  CHECK(count == 1);
  OK(labwire_mqtt_mapper_message(mapper, 0, &message));
  CHECK(equals(message.topic, message.topic_len, "lab/v1/demo-hospital/core-lab/analyzer/result"));
  CHECK(nul_terminated(message.topic, message.topic_len));
  CHECK(message.qos == 1 && !message.retain);
  CHECK(equals(message.content_type, message.content_type_len, "application/json"));
  CHECK(message.payload_format_indicator == 1 && !message.has_message_expiry_interval);
  CHECK(message.payload_len > 0 && message.payload[0] == '{');
  CHECK(contains(message.payload, message.payload_len, "\"schema\":\"lab.result/1\""));
  CHECK(contains(message.payload, message.payload_len, "\"sent_at\":\"2024-03-02T09:15:03Z\""));
  CHECK(!contains(message.payload, message.payload_len, "MRN-300012")); /* pseudonymized */
  CHECK(message.user_property_count == 3);
  for (i = 0; i < message.user_property_count; i++) {
    OK(labwire_mqtt_mapper_user_property(mapper, 0, i, &name, &name_len, &value, &value_len));
    CHECK(nul_terminated(name, name_len) && nul_terminated(value, value_len));
    if (equals(name, name_len, "schema")) {
      schema_seen = equals(value, value_len, "lab.result/1");
    }
  }
  CHECK(schema_seen);
  EXPECT(labwire_mqtt_mapper_user_property(mapper, 0, 3, &name, &name_len, &value, &value_len),
         LABWIRE_RESULT_INDEX_OUT_OF_RANGE);
  EXPECT(labwire_mqtt_mapper_user_property(mapper, 1, 0, &name, &name_len, &value, &value_len),
         LABWIRE_RESULT_INDEX_OUT_OF_RANGE);
  EXPECT(labwire_mqtt_mapper_message(mapper, 1, &message), LABWIRE_RESULT_INDEX_OUT_OF_RANGE);

  /* Bad input maps nothing. */
  EXPECT(labwire_mqtt_mapper_map(mapper, "{\"nope\": true}", 14, now, strlen(now), &count),
         LABWIRE_RESULT_MODEL_JSON);
  CHECK(count == 0);
  OK(labwire_mqtt_mapper_last_error(mapper, &error));
  CHECK(error.code == LABWIRE_RESULT_MODEL_JSON && contains(error.location, error.location_len, "line 1"));
  EXPECT(labwire_mqtt_mapper_message(mapper, 0, &message), LABWIRE_RESULT_INDEX_OUT_OF_RANGE);
  EXPECT(labwire_mqtt_mapper_map(mapper, "", 0, now, strlen(now), &count), LABWIRE_RESULT_MODEL_JSON);
  EXPECT(labwire_mqtt_mapper_map(mapper, events, events_len, "yesterday", 9, &count),
         LABWIRE_RESULT_INVALID_TIMESTAMP);
  EXPECT(labwire_mqtt_mapper_map(mapper, NOT_UTF8, strlen(NOT_UTF8), now, strlen(now), &count),
         LABWIRE_RESULT_INVALID_UTF8);
  EXPECT(labwire_mqtt_mapper_map(mapper, events, events_len, NOT_UTF8, strlen(NOT_UTF8), &count),
         LABWIRE_RESULT_INVALID_UTF8);
  EXPECT(labwire_mqtt_mapper_map(mapper, NULL, 4, now, strlen(now), &count), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mqtt_mapper_map(mapper, events, events_len, now, strlen(now), NULL),
         LABWIRE_RESULT_NULL_PARAMETER);

  /* No route for the instrument. */
  OK(labwire_mqtt_mapper_configure(mapper, no_route, strlen(no_route), 7));
  EXPECT(labwire_mqtt_mapper_map(mapper, events, events_len, now, strlen(now), &count),
         LABWIRE_RESULT_MQTT_MAP);
  OK(labwire_mqtt_mapper_last_error(mapper, &error));
  CHECK(error.code == LABWIRE_RESULT_MQTT_MAP && equals(error.location, error.location_len, "event 1"));

  EXPECT(labwire_mqtt_mapper_configure(NULL, no_route, strlen(no_route), 7), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mqtt_mapper_map(NULL, events, events_len, now, strlen(now), &count),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mqtt_mapper_message(NULL, 0, &message), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mqtt_mapper_message(mapper, 0, NULL), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mqtt_mapper_user_property(NULL, 0, 0, &name, &name_len, &value, &value_len),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mqtt_mapper_user_property(mapper, 0, 0, NULL, &name_len, &value, &value_len),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mqtt_mapper_user_property(mapper, 0, 0, &name, NULL, &value, &value_len),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mqtt_mapper_user_property(mapper, 0, 0, &name, &name_len, NULL, &value_len),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mqtt_mapper_user_property(mapper, 0, 0, &name, &name_len, &value, NULL),
         LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mqtt_mapper_last_error(NULL, &error), LABWIRE_RESULT_NULL_PARAMETER);
  EXPECT(labwire_mqtt_mapper_last_error(mapper, NULL), LABWIRE_RESULT_NULL_PARAMETER);

  labwire_mqtt_mapper_free(mapper);
  labwire_mqtt_mapper_free(NULL);
  labwire_decoder_free(decoder);
}

/* ------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
  bytes hl7, astm, dicom, config;
  if (argc != 2) {
    fprintf(stderr, "usage: %s <fixture directory>\n", argv[0]);
    return 2;
  }
  hl7 = read_fixture(argv[1], "labwire_oru_r01_sn_values.hl7");
  astm = read_fixture(argv[1], "lis2a2_single_frame.bin");
  dicom = read_fixture(argv[1], "sm_image.dcm");
  config = read_fixture(argv[1], "mapping.json");

  test_general();
  test_decoder(&hl7, &astm, &dicom);
  test_hl7(&hl7);
  test_mllp(&hl7);
  test_astm_frames(&astm);
  test_astm_link(&astm);
  test_dicom(&dicom);
  test_mqtt(&hl7, &config);

  free(hl7.data);
  free(astm.data);
  free(dicom.data);
  free(config.data);
  printf("%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
