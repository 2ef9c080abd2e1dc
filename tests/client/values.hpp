// Values shared by the client tests and client_helper: one canonical value per
// serializer (written by one process, checked by the other), and the checksummed
// records of the torn-read test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stella/stella.hpp"

#ifdef STELLA_TEST_HAVE_JSON
#include "stella/serializers/json.hpp"
#endif
#ifdef STELLA_TEST_HAVE_MSGPACK
#include "stella/serializers/msgpack.hpp"
#endif
#ifdef STELLA_TEST_HAVE_PROTOBUF
#include "stella/serializers/protobuf.hpp"
#include "stella_test.pb.h"
#endif

namespace stella::test {

// ---- Canonical values ----

inline std::vector<std::byte> canonical_bytes() {
  std::vector<std::byte> v(1000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::byte>((i * 7 + 3) % 256);  // zeros included
  return v;
}

inline std::string canonical_string() {
  std::string s("Hello\0from Process A ", 21);  // an embedded NUL survives
  for (int i = 0; i < 300; ++i) s += static_cast<char>('a' + i % 26);
  return s;
}

/// No padding bytes, so equality of fields is equality of bytes.
struct Sample {
  std::uint64_t stamp;
  double value;
  std::int32_t id;
  char tag[4];
  friend bool operator==(const Sample& a, const Sample& b) {
    return a.stamp == b.stamp && a.value == b.value && a.id == b.id && std::memcmp(a.tag, b.tag, 4) == 0;
  }
};
static_assert(sizeof(Sample) == 24);

inline Sample canonical_sample() { return Sample{0x1122334455667788ull, 3.25, -42, {'a', 'b', 'c', 'd'}}; }

#ifdef STELLA_TEST_HAVE_JSON
struct Greeting {
  std::string message;
  int value = 0;
  std::vector<double> samples;
  friend bool operator==(const Greeting&, const Greeting&) = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Greeting, message, value, samples)

inline Greeting canonical_greeting() { return Greeting{"Hello from Process A", 42, {1.5, -2.0, 1e10}}; }
#endif

#ifdef STELLA_TEST_HAVE_MSGPACK
struct Reading {
  std::string sensor;
  std::int64_t ticks = 0;
  std::vector<std::int32_t> values;
  friend bool operator==(const Reading&, const Reading&) = default;
  MSGPACK_DEFINE(sensor, ticks, values)
};

inline Reading canonical_reading() { return Reading{"thermo-7", -1234567890123ll, {1, -2, 300000, 0}}; }
#endif

#ifdef STELLA_TEST_HAVE_PROTOBUF
inline stella::test::TestRecord canonical_record() {
  stella::test::TestRecord r;
  r.set_name("protobuf record");
  r.set_id(987654321012ll);
  r.add_values(0.5);
  r.add_values(-7.25);
  r.set_blob(std::string("\0\1\2\3", 4));
  return r;
}
inline bool same_record(const stella::test::TestRecord& a, const stella::test::TestRecord& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}
#endif

/// The serializer names this build supports, for the cross-process tests.
inline std::vector<std::string> serializer_names() {
  std::vector<std::string> names{"bytes", "string", "trivial"};
#ifdef STELLA_TEST_HAVE_JSON
  names.emplace_back("json");
#endif
#ifdef STELLA_TEST_HAVE_MSGPACK
  names.emplace_back("msgpack");
#endif
#ifdef STELLA_TEST_HAVE_PROTOBUF
  names.emplace_back("protobuf");
#endif
  return names;
}

/// Writes the canonical value of serializer `kind`. False for an unknown kind.
inline bool write_canonical(SharedMemory& shm, const std::string& kind) {
  if (kind == "bytes") return shm.write(canonical_bytes(), BytesSerializer{}), true;
  if (kind == "string") return shm.write(canonical_string(), BytesSerializer{}), true;
  if (kind == "trivial") return shm.write(canonical_sample(), TriviallyCopyableSerializer{}), true;
#ifdef STELLA_TEST_HAVE_JSON
  if (kind == "json") return shm.write(canonical_greeting(), JsonSerializer{}), true;
#endif
#ifdef STELLA_TEST_HAVE_MSGPACK
  if (kind == "msgpack") return shm.write(canonical_reading(), MessagePackSerializer{}), true;
#endif
#ifdef STELLA_TEST_HAVE_PROTOBUF
  if (kind == "protobuf") return shm.write(canonical_record(), ProtobufSerializer{}), true;
#endif
  return false;
}

/// Reads the value and checks it is the canonical value of serializer `kind`.
inline bool read_is_canonical(const SharedMemory& shm, const std::string& kind) {
  if (kind == "bytes") return shm.read<std::vector<std::byte>>(BytesSerializer{}) == canonical_bytes();
  if (kind == "string") return shm.read<std::string>(BytesSerializer{}) == canonical_string();
  if (kind == "trivial") return shm.read<Sample>(TriviallyCopyableSerializer{}) == canonical_sample();
#ifdef STELLA_TEST_HAVE_JSON
  if (kind == "json") return shm.read<Greeting>(JsonSerializer{}) == canonical_greeting();
#endif
#ifdef STELLA_TEST_HAVE_MSGPACK
  if (kind == "msgpack") return shm.read<Reading>(MessagePackSerializer{}) == canonical_reading();
#endif
#ifdef STELLA_TEST_HAVE_PROTOBUF
  if (kind == "protobuf") return same_record(shm.read<stella::test::TestRecord>(ProtobufSerializer{}), canonical_record());
#endif
  return false;
}

// ---- Checksummed records for the torn-read test ----
//
//   u32 writer id | u32 payload length | u64 counter | payload | u64 FNV-1a of all before
// The payload length varies with the counter, so a torn read also mixes sizes.

inline constexpr std::size_t kRecordOverhead = 4 + 4 + 8 + 8;
inline constexpr std::size_t kMaxRecordPayload = 4000;

inline std::uint64_t fnv1a(std::span<const std::byte> bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::byte b : bytes) {
    h ^= static_cast<std::uint64_t>(b);
    h *= 0x100000001b3ull;
  }
  return h;
}

inline void make_record(std::uint32_t writer, std::uint64_t counter, std::vector<std::byte>& out) {
  const auto length = static_cast<std::uint32_t>((counter * 37 + writer * 101) % kMaxRecordPayload);
  out.resize(kRecordOverhead + length);
  std::memcpy(out.data(), &writer, 4);
  std::memcpy(out.data() + 4, &length, 4);
  std::memcpy(out.data() + 8, &counter, 8);
  for (std::uint32_t i = 0; i < length; ++i) out[16 + i] = static_cast<std::byte>((counter + i * 13 + writer) & 0xff);
  const std::uint64_t sum = fnv1a(std::span<const std::byte>(out.data(), 16 + length));
  std::memcpy(out.data() + 16 + length, &sum, 8);
}

struct RecordId {
  std::uint32_t writer;
  std::uint64_t counter;
};

/// The record's identity if it is intact (sizes agree, checksum matches), else nullopt.
inline std::optional<RecordId> check_record(std::span<const std::byte> bytes) {
  if (bytes.size() < kRecordOverhead) return std::nullopt;
  RecordId id{};
  std::uint32_t length = 0;
  std::memcpy(&id.writer, bytes.data(), 4);
  std::memcpy(&length, bytes.data() + 4, 4);
  std::memcpy(&id.counter, bytes.data() + 8, 8);
  if (bytes.size() != kRecordOverhead + length) return std::nullopt;
  std::uint64_t sum = 0;
  std::memcpy(&sum, bytes.data() + 16 + length, 8);
  if (sum != fnv1a(bytes.first(16 + length))) return std::nullopt;
  return id;
}

}  // namespace stella::test
