// A spdlog sink that writes each log record into a Stella ring as one message (component
// stella::spdlog). The record carries time, level, logger, thread, pid, message and the
// structured fields in scope (stella::LogFields); its format is stella/log_record.hpp, which
// `stella tail --format log` and examples/log_aggregator read.
//
//   auto sink = std::make_shared<stella::ring_sink_mt>("logs");   // the ring must exist
//   auto log = std::make_shared<spdlog::logger>("api", sink);
//   stella::LogFields fields{{"request", id}};                       // this thread, this scope
//   log->info("served {} in {} us", path, us);
//
// Never blocks in Overwrite mode: a record is encoded into a reused buffer and written with
// one write_bytes (measured no slower than a zero-copy claim with the current ring), and an
// Overwrite ring never waits for readers (slow readers are lapped and count what they lost).
// On a Block ring the sink does not wait either, unless RingSinkOptions::block_timeout says
// how long it may: a record that finds no space is dropped and counted (dropped()). A record
// larger than the ring's largest message keeps its header and fields and has its message
// cut to fit (truncated()).
//
// Like every spdlog sink, one instance serialises its callers with its Mutex (ring_sink_mt)
// or must be used by one thread (ring_sink_st); the ring writer inside it is used by one
// thread at a time, as the ring requires.
#pragma once

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stella/common/platform/process.hpp"
#include "stella/log_record.hpp"
#include "stella/ring.hpp"

namespace stella {

/// Structured fields attached to every record this thread logs through a ring sink while the
/// object lives. Scopes nest; inner fields follow outer ones.
class LogFields {
 public:
  /// Pushes `fields` onto this thread's scope; the destructor pops them.
  LogFields(std::initializer_list<std::pair<std::string, std::string>> fields) : count_(fields.size()) {
    for (const auto& f : fields) stack().push_back(f);
  }
  ~LogFields() { stack().resize(stack().size() - count_); }
  LogFields(const LogFields&) = delete;
  LogFields& operator=(const LogFields&) = delete;

  /// The fields in scope on the calling thread, outermost first.
  static std::vector<std::pair<std::string, std::string>>& stack() {
    thread_local std::vector<std::pair<std::string, std::string>> fields;
    return fields;
  }

 private:
  std::size_t count_;
};

/// How a ring_sink behaves on a Block ring.
struct RingSinkOptions {
  /// Block rings only: how long a record may wait for space (nullopt: not at all; a record
  /// that finds the ring full is dropped). Overwrite rings never wait.
  std::optional<std::chrono::nanoseconds> block_timeout;
};

/// The spdlog sink: one ring message per log record (see the top of this header).
/// `Mutex` is std::mutex (ring_sink_mt) or spdlog's null_mutex (ring_sink_st).
template <class Mutex>
class ring_sink final : public spdlog::sinks::base_sink<Mutex> {
 public:
  /// Opens the existing ring `ring` as a writer (takes a writer slot). Throws stella::Error.
  explicit ring_sink(std::string_view ring, RingSinkOptions options = {})
      : writer_(ring, SharedMemoryMode::Open), options_(options) {}
  /// Writes through a writer the caller opened.
  explicit ring_sink(MultiWriterCircularBuffer writer, RingSinkOptions options = {})
      : writer_(std::move(writer)), options_(options) {}

  /// Records committed to the ring.
  [[nodiscard]] std::uint64_t written() const noexcept { return written_.load(std::memory_order_relaxed); }
  /// Records dropped: a Block ring without space (within block_timeout).
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  /// Records whose message was cut to fit the ring's largest message.
  [[nodiscard]] std::uint64_t truncated() const noexcept { return truncated_.load(std::memory_order_relaxed); }
  /// The ring's name.
  [[nodiscard]] const std::string& ring() const noexcept { return writer_.name(); }

 protected:
  /// Encodes `msg` and writes it (spdlog calls this under the sink's mutex).
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
    std::string_view message(msg.payload.data(), msg.payload.size());
    const auto& scope = LogFields::stack();
    fields_.clear();
    for (const auto& f : scope) fields_.emplace_back(f.first, f.second);

    std::size_t size = log_record_size(logger, message, fields_);
    const std::size_t limit = writer_.max_message_size();
    if (size > limit) {
      // Keep the header; give up the fields only if cutting the message is not enough.
      if (size - limit > message.size()) {
        fields_.clear();
        size = log_record_size(logger, message, fields_);
      }
      if (size > limit) message.remove_suffix(std::min(message.size(), size - limit));
      size = log_record_size(logger, message, fields_);
      truncated_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter, read for reports
    }

    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(msg.time.time_since_epoch()).count();
    const auto level = msg.level < spdlog::level::off ? static_cast<LogLevel>(msg.level) : LogLevel::critical;
    scratch_.resize(size);
    encode_log_record(scratch_, level, static_cast<std::uint64_t>(ns), static_cast<std::uint64_t>(msg.thread_id),
                      static_cast<std::uint32_t>(platform::current_process().pid), logger, message, fields_);
    const WriteResult r = writer_.behavior() == WriteBehavior::Overwrite ? writer_.write_bytes(scratch_)
                          : options_.block_timeout ? writer_.write_bytes(scratch_, *options_.block_timeout)
                                                   : writer_.try_write_bytes(scratch_);
    if (r != WriteResult::Ok) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    written_.fetch_add(1, std::memory_order_relaxed);
  }
  /// Nothing to do: every record is in the ring once sink_it_ returns.
  void flush_() override {}

 private:
  MultiWriterCircularBuffer writer_;
  RingSinkOptions options_;
  std::vector<std::byte> scratch_;  // reused
  std::vector<LogField> fields_;  // reused: no allocation per record once warm
  std::atomic<std::uint64_t> written_{0}, dropped_{0}, truncated_{0};
};

/// A ring_sink for loggers used by several threads.
using ring_sink_mt = ring_sink<std::mutex>;
/// A ring_sink for a logger used by one thread.
using ring_sink_st = ring_sink<spdlog::details::null_mutex>;

}  // namespace stella
