// Error values and the one exception type of Stella.
//
// Hot paths return values (see the ring's result enums); constructors and opens that
// cannot proceed throw stella::Error, whose message names the segment, what was
// expected and what was found.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "stella/common/export.h"

namespace stella {

/// What went wrong: the code of every stella::Error (and, plus one, of the C API's stella_status).
enum class Errc {
  invalid_name,       ///< segment name breaks the naming rule
  not_found,          ///< no segment of that name
  already_exists,     ///< Create on a name that exists
  truncated,          ///< the file is smaller than its header says
  bad_magic,          ///< not a Stella segment
  version_mismatch,   ///< another layout version
  wrong_kind,         ///< blob where a ring was expected, or the reverse
  corrupt,            ///< header fields inconsistent or checksum wrong
  no_space,           ///< the memory could not be reserved (full /dev/shm)
  permission_denied,  ///< the OS refused access
  value_too_large,    ///< a value or message larger than allowed
  empty,              ///< nothing has been written yet
  serialization,      ///< a serializer could not encode or decode
  timeout,            ///< a bounded wait expired
  slots_full,         ///< every reader (or writer) slot is taken
  invalid_argument,   ///< a parameter out of its documented range
  io,                 ///< any other OS error
  evicted,            ///< a stalled reader was evicted from its slot
  type_mismatch,      ///< a typed open of a segment that carries another type tag (or none)
};

/// Short stable name of an error code ("not_found", ...).
[[nodiscard]] STELLA_API std::string_view to_string(Errc code) noexcept;

/// The exception thrown when an operation cannot be carried out.
/// what() reads "stella: segment 'NAME': MESSAGE" (or "stella: MESSAGE" without a segment).
class STELLA_API Error : public std::runtime_error {
 public:
  /// `segment` may be empty (an error about no segment in particular).
  Error(Errc code, std::string segment, const std::string& message);
  /// What went wrong, as a stable code.
  [[nodiscard]] Errc code() const noexcept { return code_; }
  /// The segment concerned ("" if none).
  [[nodiscard]] const std::string& segment() const noexcept { return segment_; }

 private:
  Errc code_;
  std::string segment_;
};

/// Builds an Error from the current errno, e.g. os_error("shm_open", name).
[[nodiscard]] STELLA_API Error os_error(std::string_view what, std::string segment, int err);

}  // namespace stella
