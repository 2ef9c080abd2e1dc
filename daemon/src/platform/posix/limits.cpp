#include "platform/limits.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace stella::daemon::sys {

namespace {
std::string text(rlim_t v) { return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v); }
}  // namespace

std::string raise_open_file_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return std::string("cannot read RLIMIT_NOFILE: ") + std::strerror(errno);
  if (r.rlim_cur == r.rlim_max) return "open-file limit " + text(r.rlim_cur) + " (soft = hard)";
  const rlim_t before = r.rlim_cur;
  r.rlim_cur = r.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &r) != 0) {
    return "open-file limit " + text(before) + ": cannot raise it to the hard limit " + text(r.rlim_max) + ": " +
           std::strerror(errno);
  }
  return "open-file limit raised from " + text(before) + " to the hard limit " + text(r.rlim_max);
}

std::optional<std::uint64_t> open_file_limit() noexcept {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return std::nullopt;
  return static_cast<std::uint64_t>(r.rlim_cur);
}

}  // namespace stella::daemon::sys
