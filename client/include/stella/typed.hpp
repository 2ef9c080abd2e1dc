// Typed channels: a ring whose header carries the payload's type tag, and a writer and a
// reader bound to one C++ type and one serializer, which refuse a ring of another type.
//
//   stella::TypedWriter<Quote, stella::JsonSerializer> w("quotes", "market.Quote@2",
//                                                        stella::SharedMemoryMode::OpenOrCreate, 1 << 20);
//   w.write(Quote{...});
//   stella::TypedReader<Quote, stella::JsonSerializer> r("quotes", "market.Quote@2");
//   Quote q;
//   if (r.read(q, std::chrono::seconds(1)) == stella::ReadResult::Ok) { ... }
//
// The tag is what the processes agree on (a name and a version, or a schema hash): up to
// 24 of [A-Za-z0-9._:@/+-]. Opening a ring that carries another tag, or none, throws
// stella::Error(type_mismatch) naming both. Untyped access (MultiWriterCircularBuffer and
// LockFreeBufferReader with an empty schema) still opens any ring, typed or not.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "stella/ring.hpp"

namespace stella {

/// Writes values of type T, encoded by S, to a typed ring.
template <class T, class S>
  requires SerializerFor<S, T>
class TypedWriter {
 public:
  /// Creates (with the tag) and/or opens (checking the tag) the ring `name`.
  TypedWriter(std::string_view name, std::string_view schema, SharedMemoryMode mode, std::size_t capacity = 0,
              WriteBehavior behavior = WriteBehavior::Overwrite, RingOptions options = {}, S serializer = S{})
      : ring_(name, mode, capacity, behavior, with_schema(std::move(options), schema)), serializer_(std::move(serializer)) {}

  /// Encodes `value` and writes it (Block mode: waits for space, at most `timeout`).
  WriteResult write(const T& value, std::optional<std::chrono::nanoseconds> timeout = std::nullopt) {
    return ring_.write(value, serializer_, timeout);
  }
  /// Like write(), but never waits: WouldBlock instead.
  [[nodiscard]] WriteResult try_write(const T& value) { return ring_.try_write(value, serializer_); }
  /// The ring's type tag.
  [[nodiscard]] std::string_view schema() const noexcept { return ring_.schema(); }
  /// The untyped writer underneath (zero copy, counters).
  [[nodiscard]] MultiWriterCircularBuffer& untyped() noexcept { return ring_; }

 private:
  static RingOptions with_schema(RingOptions o, std::string_view schema) {
    o.schema = std::string(schema);
    return o;
  }
  MultiWriterCircularBuffer ring_;
  S serializer_;
};

/// Reads values of type T, decoded by S, from a typed ring.
template <class T, class S>
  requires SerializerFor<S, T>
class TypedReader {
 public:
  /// Opens the ring `name`, refusing it unless it carries `schema`.
  TypedReader(std::string_view name, std::string_view schema, ReaderOptions options = {}, S serializer = S{})
      : reader_(name, with_schema(std::move(options), schema)), serializer_(std::move(serializer)) {}

  /// Never waits: the next value, or nullopt when there is none.
  [[nodiscard]] std::optional<T> try_read() {
    T value{};
    if (!reader_.try_read(serializer_, value)) return std::nullopt;
    return value;
  }
  /// Waits up to `timeout` (nullopt: forever) for the next value.
  ReadResult read(T& out, std::optional<std::chrono::nanoseconds> timeout = std::nullopt) {
    return reader_.read(serializer_, out, timeout);
  }
  /// The ring's type tag.
  [[nodiscard]] std::string_view schema() const noexcept { return reader_.schema(); }
  /// The untyped reader underneath (zero copy, counters).
  [[nodiscard]] LockFreeBufferReader& untyped() noexcept { return reader_; }

 private:
  static ReaderOptions with_schema(ReaderOptions o, std::string_view schema) {
    o.schema = std::string(schema);
    return o;
  }
  LockFreeBufferReader reader_;
  S serializer_;
};

}  // namespace stella
