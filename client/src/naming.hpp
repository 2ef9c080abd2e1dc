// Internal to the client library: errors from serializers carry no segment name; the
// object that ran the serializer adds its own.
#pragma once

#include <string>
#include <string_view>

#include "stella/common/error.hpp"

namespace stella::detail {

/// Called inside a catch handler for `e`: rethrows it unchanged if it names a segment,
/// else throws the same error naming `segment`.
[[noreturn]] inline void rethrow_naming(const Error& e, const std::string& segment) {
  if (!e.segment().empty()) throw;
  constexpr std::string_view prefix = "stella: ";
  const std::string what = e.what();
  throw Error(e.code(), segment, what.compare(0, prefix.size(), prefix) == 0 ? what.substr(prefix.size()) : what);
}

}  // namespace stella::detail
