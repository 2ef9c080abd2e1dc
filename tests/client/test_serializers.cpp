// Serializers: round trips, "serialize replaces the buffer", malformed payloads giving
// Errc::serialization (directly, and through SharedMemory and the ring, which name the
// segment), and
// a user-written serializer satisfying the concept.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "values.hpp"

using namespace stella;

namespace {

std::vector<std::byte> bytes(std::initializer_list<int> list) {
  std::vector<std::byte> v;
  for (int b : list) v.push_back(static_cast<std::byte>(b));
  return v;
}

std::vector<std::byte> bytes(const std::string& s) {
  std::vector<std::byte> v(s.size());
  std::memcpy(v.data(), s.data(), s.size());
  return v;
}

template <class T, class S>
T round_trip(const S& serializer, const T& value) {
  std::vector<std::byte> buffer(777, std::byte{0x55});  // stale contents must be replaced, not appended to
  serializer.serialize(value, buffer);
  std::vector<std::byte> fresh;
  serializer.serialize(value, fresh);
  CHECK(buffer == fresh);
  T result{};
  serializer.deserialize(buffer, result);
  return result;
}

template <class T, class S>
void check_malformed(const S& serializer, const std::vector<std::byte>& payload) {
  T result{};
  try {
    serializer.deserialize(payload, result);
    FAIL("malformed payload accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::serialization);
  }
}

// Malformed payloads also fail through SharedMemory::read, which names the segment.
template <class T, class S>
void check_malformed_in_segment(const S& serializer, const std::vector<std::byte>& payload) {
  const auto name = test::unique_name("bad-payload");
  test::SegmentCleanup cleanup(name);
  SharedMemory shm(name, SharedMemoryMode::Create, 4096);
  shm.write_bytes(payload);
  try {
    (void)shm.read<T>(serializer);
    FAIL("malformed payload accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::serialization);
    CHECK(e.segment() == name);
    CHECK(std::string(e.what()).find(name) != std::string::npos);
  }
  try {
    (void)shm.try_read<T>(serializer);
    FAIL("malformed payload accepted by try_read");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::serialization);
  }

  // And through a ring: read and try_read name the ring.
  const auto ring_name = test::unique_name("bad-ring-payload");
  test::SegmentCleanup ring_cleanup(ring_name);
  MultiWriterCircularBuffer writer(ring_name, SharedMemoryMode::Create, 4096);
  LockFreeBufferReader reader(ring_name);
  for (int i = 0; i < 2; ++i) {
    REQUIRE(writer.write_bytes(payload) == WriteResult::Ok);
    T result{};
    try {
      if (i == 0) {
        (void)reader.try_read(serializer, result);
      } else {
        (void)reader.read(serializer, result, std::chrono::seconds(10));
      }
      FAIL("malformed payload accepted from the ring");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::serialization);
      CHECK(e.segment() == ring_name);
      CHECK(std::string(e.what()).find("segment '" + ring_name + "'") != std::string::npos);
    }
  }
}

// A user-written serializer: stores a string reversed, refuses payloads with a '#'.
struct ReversingSerializer {
  void serialize(const std::string& value, std::vector<std::byte>& out) const {
    out.resize(value.size());
    std::transform(value.rbegin(), value.rend(), out.begin(), [](char c) { return static_cast<std::byte>(c); });
  }
  void deserialize(std::span<const std::byte> in, std::string& result) const {
    result.assign(in.size(), '\0');
    std::transform(in.rbegin(), in.rend(), result.begin(), [](std::byte b) { return static_cast<char>(b); });
    if (result.find('#') != std::string::npos) throw_serialization_error("'#' is not allowed");
  }
};

}  // namespace

static_assert(SerializerFor<BytesSerializer, std::vector<std::byte>>);
static_assert(SerializerFor<BytesSerializer, std::string>);
static_assert(!SerializerFor<BytesSerializer, int>);
static_assert(SerializerFor<TriviallyCopyableSerializer, test::Sample>);
static_assert(SerializerFor<TriviallyCopyableSerializer, double>);
static_assert(!SerializerFor<TriviallyCopyableSerializer, std::string>);
static_assert(SerializerFor<ReversingSerializer, std::string>);

TEST_CASE("BytesSerializer round trips raw bytes and strings") {
  const BytesSerializer s;
  CHECK(round_trip(s, test::canonical_bytes()) == test::canonical_bytes());
  CHECK(round_trip(s, test::canonical_string()) == test::canonical_string());
  CHECK(round_trip(s, std::string()).empty());
}

TEST_CASE("TriviallyCopyableSerializer is zero encoding and size-checked") {
  const TriviallyCopyableSerializer s;
  CHECK(round_trip(s, test::canonical_sample()) == test::canonical_sample());
  std::vector<std::byte> out;
  s.serialize(test::canonical_sample(), out);
  REQUIRE(out.size() == sizeof(test::Sample));
  const auto sample = test::canonical_sample();
  CHECK(std::memcmp(out.data(), &sample, sizeof sample) == 0);
  CHECK(round_trip(s, 2.5) == 2.5);

  check_malformed<test::Sample>(s, {});
  check_malformed<test::Sample>(s, std::vector<std::byte>(sizeof(test::Sample) - 1));
  check_malformed<test::Sample>(s, std::vector<std::byte>(sizeof(test::Sample) + 1));
  check_malformed_in_segment<test::Sample>(s, std::vector<std::byte>(3));
}

TEST_CASE("a user-written serializer plugs in") {
  const ReversingSerializer s;
  CHECK(round_trip(s, std::string("stella")) == "stella");
  const auto name = test::unique_name("custom");
  test::SegmentCleanup cleanup(name);
  SharedMemory shm(name, SharedMemoryMode::Create, 64);
  shm.write(std::string("abc"), s);
  CHECK(shm.read_bytes() == bytes("cba"));
  CHECK(shm.read<std::string>(s) == "abc");
  check_malformed_in_segment<std::string>(s, bytes("a#b"));
}

#ifdef STELLA_TEST_HAVE_JSON
TEST_CASE("JsonSerializer: typed values, nlohmann::json as the dynamic type, malformed JSON") {
  const JsonSerializer s;
  CHECK(round_trip(s, test::canonical_greeting()) == test::canonical_greeting());
  std::vector<std::byte> out;
  s.serialize(test::Greeting{"hi", 1, {}}, out);
  CHECK(out == bytes(R"({"message":"hi","samples":[],"value":1})"));

  const auto dynamic = round_trip(s, nlohmann::json(test::canonical_greeting()));
  CHECK(dynamic["message"] == "Hello from Process A");
  CHECK(dynamic["value"] == 42);

  check_malformed<test::Greeting>(s, bytes("{not json"));
  check_malformed<test::Greeting>(s, {});
  check_malformed<test::Greeting>(s, bytes(R"({"message": 5, "value": 1, "samples": []})"));  // wrong type
  check_malformed<test::Greeting>(s, bytes(R"({"message": "no value"})"));                     // missing key
  check_malformed<test::Greeting>(s, bytes({0xff, 0xfe, 0x00}));
  check_malformed<nlohmann::json>(s, bytes("[1, 2"));
  check_malformed_in_segment<test::Greeting>(s, bytes("{\"message\":"));

  // Invalid UTF-8 cannot be encoded as JSON: an error, not a crash.
  const auto name = test::unique_name("json-enc");
  test::SegmentCleanup cleanup(name);
  SharedMemory shm(name, SharedMemoryMode::Create, 64);
  try {
    shm.write(test::Greeting{"\xff\xfe", 1, {}}, s);
    FAIL("invalid UTF-8 encoded");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::serialization);
    CHECK(e.segment() == name);
  }
  const auto ring_name = test::unique_name("json-enc-ring");
  test::SegmentCleanup ring_cleanup(ring_name);
  MultiWriterCircularBuffer ring(ring_name, SharedMemoryMode::Create, 4096);
  try {
    (void)ring.write(test::Greeting{"\xff\xfe", 1, {}}, s);
    FAIL("invalid UTF-8 encoded into the ring");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::serialization);
    CHECK(e.segment() == ring_name);
  }
}
#endif

#ifdef STELLA_TEST_HAVE_MSGPACK
TEST_CASE("MessagePackSerializer: MSGPACK_DEFINE types, malformed and hostile payloads") {
  const MessagePackSerializer s;
  CHECK(round_trip(s, test::canonical_reading()) == test::canonical_reading());
  CHECK(round_trip(s, std::vector<int>{1, 2, 3}) == std::vector<int>{1, 2, 3});

  std::vector<std::byte> good;
  s.serialize(test::canonical_reading(), good);
  check_malformed<test::Reading>(s, {});
  check_malformed<test::Reading>(s, bytes({0xc1}));                           // a byte MessagePack never uses
  check_malformed<test::Reading>(s, std::vector<std::byte>(good.begin(), good.end() - 3));  // truncated
  auto trailing = good;
  trailing.push_back(std::byte{0x01});
  check_malformed<test::Reading>(s, trailing);                                 // trailing bytes
  check_malformed<test::Reading>(s, bytes({0x2a}));                            // an int, not the struct
  check_malformed<test::Reading>(s, bytes({0xdd, 0xff, 0xff, 0xff, 0xff}));    // "4 billion elements"
  check_malformed<test::Reading>(s, bytes({0xdf, 0xff, 0xff, 0xff, 0xff}));    // "4 billion pairs"
  check_malformed<test::Reading>(s, bytes({0xdb, 0xff, 0xff, 0xff, 0xff, 0x61}));  // a 4 GiB string
  check_malformed<std::vector<int>>(s, std::vector<std::byte>(1000, std::byte{0x91}));  // nested too deep
  check_malformed_in_segment<test::Reading>(s, bytes({0x93, 0xa1}));
}
#endif

#ifdef STELLA_TEST_HAVE_PROTOBUF
TEST_CASE("ProtobufSerializer: generated messages, malformed payloads") {
  const ProtobufSerializer s;
  CHECK(test::same_record(round_trip(s, test::canonical_record()), test::canonical_record()));
  CHECK(round_trip(s, stella::test::TestRecord()).name().empty());

  check_malformed<stella::test::TestRecord>(s, bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                      0xff, 0xff}));               // a varint tag too long
  check_malformed<stella::test::TestRecord>(s, bytes({0x0a, 0x05, 0x61}));       // field 1: 5 bytes promised, 1 given
  check_malformed<stella::test::TestRecord>(s, bytes({0x0f}));                    // wire type 7 does not exist
  check_malformed<stella::test::TestRecord>(s, bytes({0x00}));                    // field number 0
  check_malformed_in_segment<stella::test::TestRecord>(s, bytes({0x12, 0x80}));  // truncated varint
}
#endif
