#include "stella/common/error.hpp"

#include <cerrno>
#include <cstring>

namespace stella {

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_name: return "invalid_name";
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::truncated: return "truncated";
    case Errc::bad_magic: return "bad_magic";
    case Errc::version_mismatch: return "version_mismatch";
    case Errc::wrong_kind: return "wrong_kind";
    case Errc::corrupt: return "corrupt";
    case Errc::no_space: return "no_space";
    case Errc::permission_denied: return "permission_denied";
    case Errc::value_too_large: return "value_too_large";
    case Errc::empty: return "empty";
    case Errc::serialization: return "serialization";
    case Errc::timeout: return "timeout";
    case Errc::slots_full: return "slots_full";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::io: return "io";
    case Errc::evicted: return "evicted";
    case Errc::type_mismatch: return "type_mismatch";
  }
  return "unknown";
}

namespace {
std::string compose(const std::string& segment, const std::string& message) {
  if (segment.empty()) return "stella: " + message;
  return "stella: segment '" + segment + "': " + message;
}
}  // namespace

Error::Error(Errc code, std::string segment, const std::string& message)
    : std::runtime_error(compose(segment, message)), code_(code), segment_(std::move(segment)) {}

Error os_error(std::string_view what, std::string segment, int err) {
  Errc code = Errc::io;
  switch (err) {
    case ENOENT: code = Errc::not_found; break;
    case EEXIST: code = Errc::already_exists; break;
    case EACCES:
    case EPERM: code = Errc::permission_denied; break;
    case ENOSPC:
    case ENOMEM: code = Errc::no_space; break;
    default: break;
  }
  std::string message(what);
  message += " failed: ";
  message += std::strerror(err);
  return Error(code, std::move(segment), message);
}

}  // namespace stella
