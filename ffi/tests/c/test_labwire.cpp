// The labwire C API from C++: the header compiles as C++ (extern "C", no C-only
// constructs), the handles fit std::unique_ptr, and a gateway's round trip works:
// decode a file, read HL7 values, answer with an ACK framed for MLLP, receive an ASTM
// session, read a DICOM header, map the events to MQTT.
//
// Built by ffi/tests/it/c_api.rs with -std=c++17 -Wall -Wextra -Werror -pedantic
// against the static and the shared library.
//
//   test_labwire_cpp <fixture directory>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "labwire.h"

namespace {

int failures = 0;

void check(bool condition, const char *what, int line) {
  if (!condition) {
    ++failures;
    std::fprintf(stderr, "test_labwire.cpp:%d: check failed: %s\n", line, what);
  }
}

#define CHECK(condition) check((condition), #condition, __LINE__)

// Throws on anything but `expected`, naming the code.
void expect(labwire_result got, labwire_result expected, const char *call, int line) {
  if (got != expected) {
    ++failures;
    std::fprintf(stderr, "test_labwire.cpp:%d: %s returned %s, expected %s\n", line, call,
                 labwire_result_name(got), labwire_result_name(expected));
  }
}

#define OK(call) expect((call), LABWIRE_RESULT_OK, #call, __LINE__)
#define EXPECT(call, expected) expect((call), (expected), #call, __LINE__)

// A handle owned by a unique_ptr that calls its _free function.
template <typename T, void (*Free)(T *)>
struct Deleter {
  void operator()(T *handle) const { Free(handle); }
};
template <typename T, void (*Free)(T *)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

using Decoder = Owned<labwire_decoder, labwire_decoder_free>;
using Hl7Message = Owned<labwire_hl7_message, labwire_hl7_message_free>;
using MllpDecoder = Owned<labwire_mllp_decoder, labwire_mllp_decoder_free>;
using AstmLink = Owned<labwire_astm_link, labwire_astm_link_free>;
using DicomHeader = Owned<labwire_dicom_header, labwire_dicom_header_free>;
using MqttMapper = Owned<labwire_mqtt_mapper, labwire_mqtt_mapper_free>;

template <typename Handle, typename New>
Handle make(New create) {
  typename Handle::pointer raw = nullptr;
  OK(create(&raw));
  if (raw == nullptr) {
    throw std::runtime_error("a _new function failed");
  }
  return Handle(raw);
}

std::string_view view(const void *ptr, size_t len) {
  return std::string_view(static_cast<const char *>(ptr), len);
}

std::vector<uint8_t> read(const std::string &dir, const char *name) {
  std::ifstream file(dir + "/" + name, std::ios::binary);
  if (!file) {
    throw std::runtime_error(std::string("cannot open ") + name);
  }
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(file), {});
}

std::string last_error_message(const labwire_hl7_message *message) {
  labwire_error error{};
  OK(labwire_hl7_message_last_error(message, &error));
  return std::string(error.message, error.message_len);
}

void run(const std::string &dir) {
  const auto hl7 = read(dir, "labwire_oru_r01_sn_values.hl7");
  const auto astm = read(dir, "lis2a2_single_frame.bin");
  const auto dicom = read(dir, "sm_image.dcm");
  const auto config = read(dir, "mapping.json");

  const char *version = nullptr;
  size_t version_len = 0;
  OK(labwire_version(&version, &version_len));
  CHECK(view(version, version_len).find('.') != std::string_view::npos);
  EXPECT(labwire_check_panic_boundary(), LABWIRE_RESULT_PANIC);

  labwire_format format = LABWIRE_FORMAT_UNKNOWN;
  OK(labwire_detect_format(dicom.data(), dicom.size(), &format));
  CHECK(format == LABWIRE_FORMAT_DICOM);

  // Any file to events.
  auto decoder = make<Decoder>(labwire_decoder_new);
  std::string events;
  for (const auto *input : {&hl7, &astm, &dicom}) {
    OK(labwire_decoder_decode(decoder.get(), input->data(), input->size()));
    const char *json = nullptr;
    size_t json_len = 0;
    OK(labwire_decoder_events_json(decoder.get(), &json, &json_len));
    CHECK(json_len > 0 && json[json_len - 1] == '\n');
    events.append(json, json_len);
  }
  EXPECT(labwire_decoder_decode(decoder.get(), nullptr, 1), LABWIRE_RESULT_NULL_PARAMETER);

  // An HL7 message received over MLLP, read, and answered.
  auto mllp = make<MllpDecoder>([](labwire_mllp_decoder **out) {
    return labwire_mllp_decoder_new(0, false, out);
  });
  size_t frame_len = 0;
  EXPECT(labwire_mllp_encode(hl7.data(), hl7.size(), nullptr, 0, &frame_len),
         LABWIRE_RESULT_INSUFFICIENT_SIZE);
  std::vector<uint8_t> frame(frame_len + 1);
  OK(labwire_mllp_encode(hl7.data(), hl7.size(), frame.data(), frame.size(), &frame_len));
  OK(labwire_mllp_decoder_push(mllp.get(), frame.data(), frame_len));
  const uint8_t *payload = nullptr;
  size_t payload_len = 0;
  OK(labwire_mllp_decoder_next(mllp.get(), &payload, &payload_len));
  auto message = make<Hl7Message>(labwire_hl7_message_new);
  OK(labwire_hl7_message_parse(message.get(), payload, payload_len, false));
  const char *value = nullptr;
  size_t value_len = 0;
  const std::string_view path = "OBX(4)-5.2";
  OK(labwire_hl7_message_get(message.get(), path.data(), path.size(), &value, &value_len));
  CHECK(view(value, value_len) == "11.30");
  EXPECT(labwire_hl7_message_get(message.get(), "OBX(", 4, &value, &value_len),
         LABWIRE_RESULT_HL7_PATH);
  CHECK(!last_error_message(message.get()).empty());
  const std::string_view id = "ACK-1", time = "20240302091501";
  const uint8_t *ack = nullptr;
  size_t ack_len = 0;
  OK(labwire_hl7_message_ack(message.get(), LABWIRE_ACK_CODE_APPLICATION_ACCEPT, id.data(),
                             id.size(), time.data(), time.size(), &ack, &ack_len));
  CHECK(view(ack, ack_len).find("MSA|AA|AU-55120") != std::string_view::npos);
  EXPECT(labwire_mllp_decoder_next(mllp.get(), &payload, &payload_len), LABWIRE_RESULT_NEED_MORE);

  // An ASTM session received through the link.
  auto link = make<AstmLink>([](labwire_astm_link **out) {
    return labwire_astm_link_new(LABWIRE_ASTM_ROLE_COMPUTER, out);
  });
  OK(labwire_astm_link_handle_bytes(link.get(), astm.data(), astm.size(), 0));
  const uint8_t *reply = nullptr;
  size_t reply_len = 0;
  OK(labwire_astm_link_take_output(link.get(), &reply, &reply_len));
  CHECK(view(reply, reply_len) == "\x06\x06");
  int received = 0;
  labwire_astm_event event{};
  while (labwire_astm_link_poll_event(link.get(), &event) == LABWIRE_RESULT_OK) {
    if (event.kind == LABWIRE_ASTM_EVENT_KIND_MESSAGE_RECEIVED) {
      ++received;
      CHECK(view(event.text, event.text_len).substr(0, 5) == "H|\\^&");
    }
  }
  CHECK(received == 1);

  // A DICOM header.
  auto header = make<DicomHeader>(labwire_dicom_header_new);
  OK(labwire_dicom_header_parse(header.get(), dicom.data(), dicom.size(), false));
  const std::string_view keyword = "ContainerIdentifier";
  OK(labwire_dicom_header_get_by_keyword(header.get(), keyword.data(), keyword.size(), &value,
                                         &value_len));
  CHECK(view(value, value_len) == "S19-1_A_1_1");
  char buf[3];
  EXPECT(labwire_dicom_header_get_into(header.get(), 0x00080060u, buf, 2, &value_len),
         LABWIRE_RESULT_INSUFFICIENT_SIZE);
  OK(labwire_dicom_header_get_into(header.get(), 0x00080060u, buf, sizeof buf, &value_len));
  CHECK(std::string(buf) == "SM");

  // Everything to MQTT.
  auto mapper = make<MqttMapper>(labwire_mqtt_mapper_new);
  OK(labwire_mqtt_mapper_configure(mapper.get(), reinterpret_cast<const char *>(config.data()),
                                   config.size(), 42));
  const std::string_view now = "2024-03-02T09:15:03Z";
  size_t count = 0;
  OK(labwire_mqtt_mapper_map(mapper.get(), events.data(), events.size(), now.data(), now.size(),
                             &count));
  CHECK(count == 3);
  std::vector<std::string> topics;
  for (size_t i = 0; i < count; ++i) {
    labwire_mqtt_message out{};
    OK(labwire_mqtt_mapper_message(mapper.get(), i, &out));
    topics.emplace_back(out.topic, out.topic_len);
  }
  CHECK(topics.size() == 3 && topics[0].find("/result") != std::string::npos);
  CHECK(topics[2].find("/imaging") != std::string::npos);
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <fixture directory>\n", argv[0]);
    return 2;
  }
  try {
    run(argv[1]);
  } catch (const std::exception &error) {
    std::fprintf(stderr, "test_labwire.cpp: %s\n", error.what());
    return 1;
  }
  std::printf("C++: %d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
