// The one small interface every benchmarked mechanism implements, Stella's ring and the
// baselines alike. A run creates one Channel in the parent (before fork), then each writer
// child opens a WriterEndpoint and each reader child a ReaderEndpoint on it, in its own
// process. The harness (harness.hpp) does everything else — timing, sequence checks,
// CPU time, latency samples — the same way for every transport, so results compare.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

namespace stella::bench {

using ConstBytes = std::span<const std::byte>;
using MutableBytes = std::span<std::byte>;

/// How a reader waits for data: burning its core, or asleep in the kernel.
enum class ReaderWait { spin, sleep };

/// What the harness tells a transport about the run it is set up for.
struct ChannelConfig {
  std::size_t message_size = 64;          // every message of the run has this payload size
  std::size_t ring_capacity = 1u << 20;   // bytes of buffering for shared-memory rings
  int writers = 1;                        // writer processes opening this channel
  int readers = 1;                        // reader processes opening this channel
  std::string unique_name;                // a prefix for named OS objects, unique to the run
};

class WriterEndpoint {
 public:
  virtual ~WriterEndpoint() = default;
  /// Sends one message; waits while the channel is full (or overwrites, in Overwrite mode).
  virtual void send(ConstBytes message) = 0;
  /// Zero-copy writing, for transports whose TransportInfo says zero_copy: space for `size`
  /// bytes to fill in place, published by commit().
  virtual MutableBytes claim(std::size_t /*size*/) { throw std::logic_error("no zero-copy claim"); }
  virtual void commit() { throw std::logic_error("no zero-copy claim"); }
};

class ReaderEndpoint {
 public:
  virtual ~ReaderEndpoint() = default;
  /// The copying API: copies the next message into a buffer this endpoint owns (as a user
  /// reads into their own buffer) and returns a view of it, valid until the next call.
  /// Returns nullopt when nothing arrived within a short bounded wait: lossy transports
  /// must, so that a reader whose end marker was overwritten still notices the end of the
  /// run. Lossless ones may block.
  virtual std::optional<ConstBytes> receive() = 0;
  /// Zero-copy reading: the next message in place (same nullopt rule), valid until release().
  virtual std::optional<ConstBytes> peek() { throw std::logic_error("no zero-copy view"); }
  /// Moves past the viewed message. False: it was overwritten while viewed (Overwrite
  /// mode), so whatever was read from the view must be discarded.
  virtual bool release() { throw std::logic_error("no zero-copy view"); }
  /// Messages the transport itself reports lost (Overwrite lapping); the harness also
  /// counts sequence gaps on its own.
  [[nodiscard]] virtual std::uint64_t reported_lost() const { return 0; }
};

/// One channel of a run. Created in the parent before fork; opened in the children; its
/// destructor (in the parent, after the children exited) removes any named OS object.
class Channel {
 public:
  virtual ~Channel() = default;
  virtual std::unique_ptr<WriterEndpoint> open_writer(int writer_index) = 0;
  virtual std::unique_ptr<ReaderEndpoint> open_reader(int reader_index) = 0;
};

enum class TransportKind { floor, baseline_os, baseline_lib, baseline_shm, stella };

struct TransportInfo {
  std::string name;         // stable, used in JSON and --transport filters
  TransportKind kind = TransportKind::baseline_os;
  std::string description;  // one line for the docs
  bool multi_writer = false;  // many writer processes may share one channel
  bool multi_reader = false;  // every reader of one channel receives every message (broadcast)
  bool zero_copy = false;     // claim/commit and peek/release work
  bool lossy = false;         // may drop messages when the reader falls behind (Overwrite)
  /// A single shared value (SharedMemory), not a queue: readers see the latest value, as
  /// often as they look. Its reader's receive() returns a copy of the current value (or
  /// nullopt when nothing was written). Used only by the blob scenario.
  bool blob = false;
  ReaderWait reader_wait = ReaderWait::sleep;
  /// Why this transport cannot run a configuration (message too large, ...), or nullopt.
  std::function<std::optional<std::string>(const ChannelConfig&)> unsupported;
  std::function<std::unique_ptr<Channel>(const ChannelConfig&)> create;
};

[[nodiscard]] const char* to_string(TransportKind kind) noexcept;

}  // namespace stella::bench
