// Test messages: writer id, per-writer sequence, size and a checksum over the payload, so
// a reader can prove nothing is torn, corrupt, duplicated or out of order per writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace stella::test {

struct MessageHead {
  std::uint32_t writer;
  std::uint32_t size;
  std::uint64_t seq;
  std::uint64_t checksum;  // over the bytes after the head, seeded with writer and seq
};
inline constexpr std::size_t kMessageHead = sizeof(MessageHead);
/// Writer id of the chaos driver's end-of-run markers.
inline constexpr std::uint32_t kEndMarker = 0xFFFFFFFFu;

inline std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

/// Size of message `seq` of `writer`, in [min, max] (min >= kMessageHead).
inline std::size_t message_size(std::uint32_t writer, std::uint64_t seq, std::size_t min, std::size_t max) {
  if (min < kMessageHead) min = kMessageHead;
  if (max <= min) return min;
  return min + mix(seq * 31 + writer) % (max - min + 1);
}

inline std::uint64_t payload_checksum(std::uint32_t writer, std::uint64_t seq, std::span<const std::byte> body) {
  std::uint64_t h = mix(seq ^ (std::uint64_t{writer} << 48)) | 1;
  for (std::byte b : body) h = (h ^ static_cast<std::uint8_t>(b)) * 0x100000001b3ull;
  return h;
}

inline void fill_message(std::span<std::byte> out, std::uint32_t writer, std::uint64_t seq) {
  std::byte* body = out.data() + kMessageHead;
  const std::size_t body_len = out.size() - kMessageHead;
  std::uint64_t x = mix(seq + writer * 7919ull);
  for (std::size_t i = 0; i < body_len; ++i) {
    if (i % 8 == 0) x = mix(x + i);
    body[i] = static_cast<std::byte>(x >> ((i % 8) * 8));
  }
  MessageHead h{writer, static_cast<std::uint32_t>(out.size()), seq,
                payload_checksum(writer, seq, std::span<const std::byte>(body, body_len))};
  std::memcpy(out.data(), &h, sizeof h);
}

/// Checks messages as they arrive.
class MessageChecker {
 public:
  MessageChecker(std::uint32_t writers, std::uint64_t per_writer, bool expect_every_message)
      : next_(writers, 0), seen_(writers, 0), per_writer_(per_writer), strict_(expect_every_message) {}

  void check(std::span<const std::byte> msg) {
    if (msg.size() < kMessageHead) {
      ++torn_;
      return;
    }
    MessageHead h;
    std::memcpy(&h, msg.data(), sizeof h);
    if (h.writer >= next_.size() || h.size != msg.size() ||
        h.checksum != payload_checksum(h.writer, h.seq, msg.subspan(kMessageHead))) {
      ++torn_;
      return;
    }
    // In order per writer; with every message expected, exactly the next one.
    if (h.seq < next_[h.writer] || (strict_ && h.seq != next_[h.writer])) ++order_errors_;
    next_[h.writer] = h.seq + 1;
    ++seen_[h.writer];
  }
  [[nodiscard]] std::uint64_t torn() const { return torn_; }
  [[nodiscard]] std::uint64_t order_errors() const { return order_errors_; }
  [[nodiscard]] bool complete() const {
    for (std::size_t i = 0; i < next_.size(); ++i) {
      if (next_[i] != per_writer_ || seen_[i] != per_writer_) return false;
    }
    return true;
  }
  [[nodiscard]] std::string shares() const {
    std::string s = "seen=";
    for (std::size_t i = 0; i < seen_.size(); ++i) s += (i ? "," : "") + std::to_string(seen_[i]);
    return s;
  }

 private:
  std::vector<std::uint64_t> next_, seen_;
  std::uint64_t per_writer_;
  bool strict_;
  std::uint64_t torn_ = 0, order_errors_ = 0;
};

/// For the chaos test: writers come and go (each incarnation has its own id), readers may
/// join late. Per writer id, sequences must be contiguous from the first one seen (from 0
/// when `from_zero`): a gap is a lost committed message, a repeat is a duplicate.
class ChaosChecker {
 public:
  explicit ChaosChecker(bool from_zero) : from_zero_(from_zero) {}
  /// Returns false if the message is torn/corrupt or out of order.
  bool check(std::span<const std::byte> msg) {
    if (msg.size() < kMessageHead) {
      ++torn_;
      return false;
    }
    MessageHead h;
    std::memcpy(&h, msg.data(), sizeof h);
    if (h.size != msg.size() || h.checksum != payload_checksum(h.writer, h.seq, msg.subspan(kMessageHead))) {
      ++torn_;
      return false;
    }
    auto it = next_.find(h.writer);
    if (it == next_.end()) {
      if (from_zero_ && h.seq != 0) ++gaps_;
      next_[h.writer] = h.seq + 1;
      return !(from_zero_ && h.seq != 0);
    }
    const bool ok = h.seq == it->second;
    if (!ok) (h.seq > it->second ? gaps_ : duplicates_) += 1;
    it->second = h.seq + 1;
    return ok;
  }
  [[nodiscard]] std::uint64_t received_from(std::uint32_t writer) const {
    auto it = next_.find(writer);
    return it == next_.end() ? 0 : it->second;
  }
  [[nodiscard]] std::uint64_t torn() const { return torn_; }
  [[nodiscard]] std::uint64_t gaps() const { return gaps_; }
  [[nodiscard]] std::uint64_t duplicates() const { return duplicates_; }
  [[nodiscard]] std::size_t writers_seen() const { return next_.size(); }

 private:
  bool from_zero_;
  std::unordered_map<std::uint32_t, std::uint64_t> next_;
  std::uint64_t torn_ = 0, gaps_ = 0, duplicates_ = 0;
};

}  // namespace stella::test
