// Liveness tokens on Windows: a file per process in the lock directory
// (win::lock_directory(), %ProgramData%\Stella\locks by default) named live.<16 hex>.lock,
// created CREATE_NEW with FILE_FLAG_DELETE_ON_CLOSE and held with LockFileEx (exclusive,
// one byte at offset 2^62). Windows releases the lock and deletes the file when the
// process ends, however it ends; handles are not inheritable, and Windows has no fork.
//
// Testing: open the file (sharing read, write and delete) and try the lock without
// waiting: refused with ERROR_LOCK_VIOLATION means alive; granted means dead (released at
// once); no such file means dead.
#include <atomic>
#include <cstdio>
#include <mutex>
#include <random>

#include "stella/common/platform/liveness.hpp"
#include "windows_internal.hpp"

namespace stella::platform {

namespace win = windows;

namespace {

std::mutex own_mutex;
HANDLE own_file = INVALID_HANDLE_VALUE;
std::atomic<LivenessToken> own_token{kNoLivenessToken};

std::wstring token_path(LivenessToken token) {
  char name[40];
  std::snprintf(name, sizeof name, "live.%016llx.lock", static_cast<unsigned long long>(token));
  return win::lock_directory() + L"\\" + win::widen(name);
}

LivenessToken random_token() {
  static std::mt19937_64 mix = [] {
    std::random_device rd;
    LARGE_INTEGER now{};
    ::QueryPerformanceCounter(&now);
    std::seed_seq seq{rd(), rd(), static_cast<unsigned>(now.QuadPart), static_cast<unsigned>(now.QuadPart >> 32),
                      static_cast<unsigned>(::GetCurrentProcessId())};
    return std::mt19937_64(seq);
  }();
  for (;;) {
    const LivenessToken t = mix();
    if (t != kNoLivenessToken) return t;
  }
}

// The locked byte lies far beyond the file's end: Windows locks are mandatory, and the
// pid text at offset 0 must stay readable while the holder lives.
OVERLAPPED lock_range() {
  OVERLAPPED ov{};
  ov.OffsetHigh = 0x40000000u;  // byte 2^62
  return ov;
}

bool try_lock(HANDLE file) {
  OVERLAPPED ov = lock_range();
  return ::LockFileEx(file, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov) != 0;
}

HANDLE open_existing(LivenessToken token) {
  return ::CreateFileW(token_path(token).c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
}

}  // namespace

std::string liveness_token_name(LivenessToken token) {
  const std::wstring path = token_path(token);
  return std::string(path.begin(), path.end());  // ASCII by construction, except a user's lock dir
}

LivenessToken current_liveness_token() {
  if (const LivenessToken t = own_token.load(std::memory_order_relaxed); t != kNoLivenessToken) return t;
  std::lock_guard lock(own_mutex);
  if (own_file != INVALID_HANDLE_VALUE) return own_token.load(std::memory_order_relaxed);
  ::CreateDirectoryW(win::lock_directory().c_str(), nullptr);  // ERROR_ALREADY_EXISTS is fine
  DWORD last = 0;
  for (int attempt = 0; attempt < 16; ++attempt) {
    const LivenessToken token = random_token();
    HANDLE h = ::CreateFileW(token_path(token).c_str(), GENERIC_READ | GENERIC_WRITE,
                             FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, CREATE_NEW,
                             FILE_ATTRIBUTE_NORMAL | FILE_FLAG_DELETE_ON_CLOSE, nullptr);
    if (h == INVALID_HANDLE_VALUE) {
      last = ::GetLastError();
      if (last == ERROR_FILE_EXISTS || last == ERROR_ALREADY_EXISTS) continue;
      throw win::win_error("creating the liveness token " + liveness_token_name(token), std::string(), last);
    }
    if (!try_lock(h)) {  // someone testing a (dead) token of that name this instant
      last = ::GetLastError();
      ::CloseHandle(h);
      continue;
    }
    char info[32];
    const int len = std::snprintf(info, sizeof info, "pid %lu\n", static_cast<unsigned long>(::GetCurrentProcessId()));
    DWORD written = 0;
    OVERLAPPED at{};  // offset 0, outside the locked byte
    if (len > 0) ::WriteFile(h, info, static_cast<DWORD>(len), &written, &at);
    own_file = h;
    own_token.store(token, std::memory_order_relaxed);
    return token;
  }
  throw win::win_error("creating a liveness token (16 attempts)", std::string(), last);
}

Liveness token_liveness(LivenessToken token) noexcept {
  if (token == kNoLivenessToken) return Liveness::dead;
  if (token == own_token.load(std::memory_order_relaxed)) return Liveness::alive;
  Liveness verdict = Liveness::unknown;
  try {
    HANDLE h = open_existing(token);
    if (h == INVALID_HANDLE_VALUE) {
      const DWORD err = ::GetLastError();
      return err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND ? Liveness::dead : Liveness::unknown;
    }
    if (try_lock(h)) {
      verdict = Liveness::dead;  // nobody held it; tokens are never reused, so nobody will
      OVERLAPPED ov = lock_range();
      ::UnlockFileEx(h, 0, 1, 0, &ov);
    } else if (::GetLastError() == ERROR_LOCK_VIOLATION) {
      verdict = Liveness::alive;
    }
    ::CloseHandle(h);
  } catch (...) {
    return Liveness::unknown;
  }
  return verdict;
}

std::optional<std::uint64_t> liveness_token_pid(LivenessToken token) noexcept {
  if (token == kNoLivenessToken) return std::nullopt;
  try {
    HANDLE h = open_existing(token);
    if (h == INVALID_HANDLE_VALUE) return std::nullopt;
    char buf[32] = {};
    DWORD got = 0;
    const BOOL ok = ::ReadFile(h, buf, sizeof buf - 1, &got, nullptr);
    ::CloseHandle(h);
    unsigned long pid = 0;
    if (!ok || std::sscanf(buf, "pid %lu", &pid) != 1 || pid == 0) return std::nullopt;
    return pid;
  } catch (...) {
    return std::nullopt;
  }
}

// The file of a dead holder is deleted with its last handle (FILE_FLAG_DELETE_ON_CLOSE):
// there is nothing to collect.
bool remove_dead_token(LivenessToken) noexcept { return false; }
std::size_t remove_dead_tokens() noexcept { return 0; }

void release_liveness_token() noexcept {
  std::lock_guard lock(own_mutex);
  if (own_file == INVALID_HANDLE_VALUE) return;
  ::CloseHandle(own_file);  // drops the lock and deletes the file
  own_file = INVALID_HANDLE_VALUE;
  own_token.store(kNoLivenessToken, std::memory_order_relaxed);
}

}  // namespace stella::platform
