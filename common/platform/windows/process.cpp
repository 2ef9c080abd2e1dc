// Process identity on Windows: pid + creation time (a FILETIME, 100 ns ticks since 1601,
// from GetProcessTimes). A recycled pid has another creation time.
#include "stella/common/platform/process.hpp"

#include "windows_internal.hpp"

namespace stella::platform {

namespace {

std::optional<std::uint64_t> creation_time(HANDLE process) {
  FILETIME created{}, exited{}, kernel{}, user{};
  if (::GetProcessTimes(process, &created, &exited, &kernel, &user) == 0) return std::nullopt;
  return (static_cast<std::uint64_t>(created.dwHighDateTime) << 32) | created.dwLowDateTime;
}

}  // namespace

std::optional<std::uint64_t> process_start_time(std::uint64_t pid) {
  if (pid == 0 || pid > 0xFFFFFFFFull) return std::nullopt;
  HANDLE h = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (h == nullptr) return std::nullopt;
  auto t = creation_time(h);
  ::CloseHandle(h);
  return t;
}

ProcessIdentity current_process() {
  // Windows has no fork: one identity per process, computed once.
  static const ProcessIdentity me = [] {
    ProcessIdentity id;
    id.pid = ::GetCurrentProcessId();
    id.start_time = creation_time(::GetCurrentProcess()).value_or(0);
    return id;
  }();
  return me;
}

bool is_alive(const ProcessIdentity& id) {
  if (id.pid == 0 || id.pid > 0xFFFFFFFFull) return false;
  HANDLE h = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, static_cast<DWORD>(id.pid));
  if (h == nullptr) {
    // Access denied means the pid names a process we may not inspect (another user's or
    // a protected one): it exists, and a live process must never be reaped, so it counts
    // as alive. Any other failure (ERROR_INVALID_PARAMETER): no such process.
    return ::GetLastError() == ERROR_ACCESS_DENIED;
  }
  bool alive = creation_time(h) == std::optional<std::uint64_t>(id.start_time);  // else: pid recycled
  // A process object outlives its process while handles to it remain (Windows' zombie):
  // signalled means it has exited. Not GetExitCodeProcess: a process may exit with 259
  // (STILL_ACTIVE).
  if (alive) alive = ::WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
  ::CloseHandle(h);
  return alive;
}

}  // namespace stella::platform
