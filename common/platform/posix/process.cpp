// Process identity on Linux: pid + start time (field 22 of /proc/<pid>/stat).
#include "stella/common/platform/process.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <string>

namespace stella::platform {

namespace {

struct ProcStat {
  char state = '?';
  std::uint64_t start_time = 0;
};

std::optional<ProcStat> read_proc_stat(std::uint64_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::array<char, 1024> buf{};
  const ssize_t n = ::read(fd, buf.data(), buf.size() - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  buf[static_cast<std::size_t>(n)] = '\0';
  // The command name (field 2) is in parentheses and may itself hold spaces or ')':
  // everything after the last ')' is space-separated numeric fields starting at field 3.
  const char* p = std::strrchr(buf.data(), ')');
  if (p == nullptr) return std::nullopt;
  ++p;
  ProcStat st;
  int field = 2;
  while (*p != '\0') {
    while (*p == ' ') ++p;
    if (*p == '\0') break;
    ++field;
    if (field == 3) st.state = *p;
    if (field == 22) {
      st.start_time = std::strtoull(p, nullptr, 10);
      return st;
    }
    while (*p != ' ' && *p != '\0') ++p;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> process_start_time(std::uint64_t pid) {
  auto st = read_proc_stat(pid);
  if (!st) return std::nullopt;
  return st->start_time;
}

ProcessIdentity current_process() {
  // Cached per pid so a forked child computes its own identity.
  static thread_local ProcessIdentity cached{};
  const auto pid = static_cast<std::uint64_t>(::getpid());
  if (cached.pid != pid) {
    cached.pid = pid;
    cached.start_time = process_start_time(pid).value_or(0);
  }
  return cached;
}

bool is_alive(const ProcessIdentity& id) {
  if (id.pid == 0) return false;
  auto st = read_proc_stat(id.pid);
  if (!st) return false;                     // no such pid
  if (st->start_time != id.start_time) return false;  // pid recycled by another process
  return st->state != 'Z' && st->state != 'X';         // a zombie has already died
}

}  // namespace stella::platform
