// Helpers of the robustness catalogue: exact error checks, segment surgery, child processes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "stella/common/error.hpp"
#include "stella/common/segment.hpp"

namespace stella::robustness {

/// Runs `fn`, which must throw stella::Error with `code` and exactly `what` as what().
/// Fails the current doctest case otherwise (and says what happened instead).
void expect_error(const std::function<void()>& fn, Errc code, const std::string& what);

/// The shm object of segment `name` as raw bytes: lets a test scribble over a segment.
class RawSegment {
 public:
  explicit RawSegment(const std::string& name);
  ~RawSegment();
  RawSegment(const RawSegment&) = delete;
  RawSegment& operator=(const RawSegment&) = delete;
  [[nodiscard]] std::byte* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] SegmentHeader& header() const noexcept { return *reinterpret_cast<SegmentHeader*>(data_); }
  /// Recomputes the header checksum (after editing a header field on purpose).
  void reseal() const noexcept;
  /// Sets the object's size (ftruncate), as a truncated or grown file.
  static void resize(const std::string& name, std::size_t size);

 private:
  int fd_ = -1;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

/// Runs `body` in a forked child and returns its exit code (128 + signal if it was killed,
/// -1 if it did not finish within `seconds`: it is then killed). `body` returns the code.
int run_in_child(const std::function<int()>& body, unsigned seconds = 20);

}  // namespace stella::robustness
