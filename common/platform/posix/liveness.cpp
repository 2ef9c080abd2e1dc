// Liveness tokens on POSIX: a file per process in the segment directory, held with a
// POSIX record lock (fcntl F_SETLK) that the kernel drops when the process dies.
//
// Why process-associated record locks and not open-file-description (F_SETLK) locks:
// an OFD lock belongs to the open file description, which fork shares with the child, so
// until the child closes its copy (in an atfork handler, at the child's first moment on a
// CPU, or never if it is stopped first) the parent's token would read alive after the
// parent died. A record lock belongs to the process and is never inherited by fork (nor
// kept across exec: the descriptor is close-on-exec). Its one trap: closing ANY descriptor
// of the file in the holding process drops it. So this process never opens its own token
// file a second time: every entry point below answers for its own token without opening it.
//
// Lock protocol on byte 0 of `stella-live.<hex>`:
//   holder      F_WRLCK for as long as it lives
//   tester      F_GETLK probing F_WRLCK: any conflicting lock means alive
//   collector   F_RDLCK (non-blocking): granted only when nobody holds the write lock, then
//               unlinks the name — a creator that lost that race sees its own lock refused
//               or its name gone, and starts again with a new token.
// Tokens are random 64-bit numbers created O_EXCL, never reused: once dead, dead forever.
#include "stella/common/platform/liveness.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "posix_internal.hpp"
#include "stella/common/error.hpp"

namespace stella::platform {

namespace {

constexpr char kTokenPrefix[] = "stella-live.";
constexpr std::size_t kTokenPrefixLength = sizeof kTokenPrefix - 1;
constexpr std::size_t kTokenHexDigits = 16;
// Creating a token fails only on a collision with another random token (never in
// practice) or a race with a collector: a few rounds always settle it.
constexpr int kCreateAttempts = 16;

using FileName = char[kTokenPrefixLength + kTokenHexDigits + 1];

void token_file_name(LivenessToken token, FileName& out) noexcept {
  std::snprintf(out, sizeof out, "%s%016" PRIx64, kTokenPrefix, token);
}

// The process's own token. `fd` holds the write lock. Guarded by `mutex` (also across fork:
// see the atfork handlers); `own_token` mirrors `token` for lock-free reads.
pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
int own_fd = -1;
LivenessToken own_token_locked = kNoLivenessToken;
std::atomic<LivenessToken> own_token{kNoLivenessToken};
bool atfork_registered = false;
bool atexit_registered = false;

void atfork_prepare() noexcept { pthread_mutex_lock(&mutex); }
void atfork_parent() noexcept { pthread_mutex_unlock(&mutex); }
void atfork_child() noexcept {
  // The child does not hold its parent's record lock (fork never passes one on); it drops
  // its copy of the descriptor (closing it releases only the child's own locks: none) and
  // forgets the parent's token, so it takes its own on first use. close() is
  // async-signal-safe, as a child of a multithreaded fork requires.
  if (own_fd >= 0) ::close(own_fd);
  own_fd = -1;
  own_token_locked = kNoLivenessToken;
  own_token.store(kNoLivenessToken, std::memory_order_relaxed);
  pthread_mutex_unlock(&mutex);
}

struct flock byte0(short type) noexcept {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  return fl;
}

LivenessToken random_token() {
  for (;;) {
    LivenessToken t = 0;
    const ssize_t n = ::getrandom(&t, sizeof t, 0);
    if (n == static_cast<ssize_t>(sizeof t)) {
      if (t != kNoLivenessToken) return t;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    throw os_error("getrandom (a liveness token)", std::string(), n < 0 ? errno : EIO);
  }
}

bool same_file(int fd, int dir, const char* name) noexcept {
  struct stat by_fd {}, by_name {};
  if (::fstat(fd, &by_fd) != 0 || ::fstatat(dir, name, &by_name, AT_SYMLINK_NOFOLLOW) != 0) return false;
  return by_fd.st_dev == by_name.st_dev && by_fd.st_ino == by_name.st_ino && by_fd.st_nlink > 0;
}

void release_locked() noexcept {
  if (own_fd < 0) return;
  FileName name;
  token_file_name(own_token_locked, name);
  if (const int dir = posix::try_open_segment_directory(); dir >= 0) {
    if (same_file(own_fd, dir, name)) ::unlinkat(dir, name, 0);
    ::close(dir);
  }
  ::close(own_fd);  // drops the lock: from here on the token reads dead
  own_fd = -1;
  own_token_locked = kNoLivenessToken;
  own_token.store(kNoLivenessToken, std::memory_order_relaxed);
}

void release_at_exit() noexcept {
  pthread_mutex_lock(&mutex);
  release_locked();
  pthread_mutex_unlock(&mutex);
}

// Creates and locks a new token file; called with `mutex` held.
void create_locked() {
  const int dir = posix::open_segment_directory(std::string());
  int last_error = 0;
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    const LivenessToken token = random_token();
    FileName name;
    token_file_name(token, name);
    // 0444: anyone who can see the directory may test it, nobody writes it. O_CLOEXEC: an
    // exec'd program never keeps the lock (exec closes the descriptor, which drops it).
    const int fd = ::openat(dir, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (fd < 0) {
      last_error = errno;
      if (errno == EEXIST || errno == EINTR) continue;
      ::close(dir);
      throw os_error(std::string("creating the liveness token ") + posix::segment_directory_path() + "/" + name,
                     std::string(), last_error);
    }
    struct flock fl = byte0(F_WRLCK);
    if (::fcntl(fd, F_SETLK, &fl) != 0) {
      last_error = errno;
      ::close(fd);
      if (last_error == EAGAIN || last_error == EACCES) continue;  // a collector holds it: it will unlink it
      ::close(dir);
      throw os_error("locking the liveness token (F_SETLK)", std::string(), last_error);
    }
    if (!same_file(fd, dir, name)) {  // a collector unlinked it before we locked it
      ::close(fd);
      last_error = ENOENT;
      continue;
    }
    char info[32];
    const int len = std::snprintf(info, sizeof info, "pid %ld\n", static_cast<long>(::getpid()));
    if (len > 0) (void)!::pwrite(fd, info, static_cast<std::size_t>(len), 0);  // information only
    ::close(dir);
    own_fd = fd;
    own_token_locked = token;
    own_token.store(token, std::memory_order_relaxed);
    return;
  }
  ::close(dir);
  throw os_error("creating a liveness token (" + std::to_string(kCreateAttempts) + " attempts)", std::string(),
                 last_error == 0 ? EIO : last_error);
}

// Opens the token's file for reading: the fd, or -1 with `verdict` set.
int open_token(LivenessToken token, Liveness& verdict) noexcept {
  const int dir = posix::try_open_segment_directory();
  if (dir < 0) {
    verdict = Liveness::unknown;  // we cannot see where tokens live: we cannot tell
    return -1;
  }
  FileName name;
  token_file_name(token, name);
  const int fd = ::openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  const int err = errno;
  ::close(dir);
  if (fd < 0) {
    // No such file: never created, or removed after its holder died or exited. A symbolic
    // link under a token's name was never a token (tokens are created O_EXCL|O_NOFOLLOW).
    verdict = (err == ENOENT || err == ELOOP) ? Liveness::dead : Liveness::unknown;
    return -1;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    verdict = Liveness::unknown;
    ::close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {  // a FIFO or device under a token's name was never a token
    verdict = Liveness::dead;
    ::close(fd);
    return -1;
  }
  return fd;
}

bool parse_token_name(const char* name, LivenessToken& out) noexcept {
  if (std::strncmp(name, kTokenPrefix, kTokenPrefixLength) != 0) return false;
  const char* hex = name + kTokenPrefixLength;
  if (std::strlen(hex) != kTokenHexDigits) return false;
  LivenessToken v = 0;
  for (std::size_t i = 0; i < kTokenHexDigits; ++i) {
    const char c = hex[i];
    unsigned d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  out = v;
  return v != kNoLivenessToken;
}

}  // namespace

std::string liveness_token_name(LivenessToken token) {
  FileName name;
  token_file_name(token, name);
  return posix::segment_directory_path() + "/" + name;
}

LivenessToken current_liveness_token() {
  if (const LivenessToken t = own_token.load(std::memory_order_relaxed); t != kNoLivenessToken) return t;
  pthread_mutex_lock(&mutex);
  try {
    if (!atfork_registered) {
      if (const int err = ::pthread_atfork(atfork_prepare, atfork_parent, atfork_child); err != 0) {
        throw os_error("pthread_atfork (liveness token)", std::string(), err);
      }
      atfork_registered = true;
    }
    if (own_fd < 0) create_locked();
    if (!atexit_registered) {
      // The file of a process that exits normally goes with it; after a kill -9 it stays,
      // unlocked (dead), until a collector removes it.
      std::atexit(release_at_exit);
      atexit_registered = true;
    }
  } catch (...) {
    pthread_mutex_unlock(&mutex);
    throw;
  }
  const LivenessToken t = own_token_locked;
  pthread_mutex_unlock(&mutex);
  return t;
}

Liveness token_liveness(LivenessToken token) noexcept {
  if (token == kNoLivenessToken) return Liveness::dead;
  if (token == own_token.load(std::memory_order_relaxed)) return Liveness::alive;
  Liveness verdict = Liveness::unknown;
  const int fd = open_token(token, verdict);
  if (fd < 0) return verdict;
  struct flock fl = byte0(F_WRLCK);
  const int rc = ::fcntl(fd, F_GETLK, &fl);
  ::close(fd);
  if (rc != 0) return Liveness::unknown;
  return fl.l_type == F_UNLCK ? Liveness::dead : Liveness::alive;
}

std::optional<std::uint64_t> liveness_token_pid(LivenessToken token) noexcept {
  if (token == kNoLivenessToken) return std::nullopt;
  // Our own: never open it (closing that descriptor would drop our lock).
  if (token == own_token.load(std::memory_order_relaxed)) return static_cast<std::uint64_t>(::getpid());
  Liveness verdict{};
  const int fd = open_token(token, verdict);
  if (fd < 0) return std::nullopt;
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  ::close(fd);
  if (n <= 4 || std::strncmp(buf, "pid ", 4) != 0) return std::nullopt;
  char* end = nullptr;
  const unsigned long long pid = std::strtoull(buf + 4, &end, 10);
  if (end == buf + 4 || pid == 0) return std::nullopt;
  return static_cast<std::uint64_t>(pid);
}

bool remove_dead_token(LivenessToken token) noexcept {
  if (token == kNoLivenessToken || token == own_token.load(std::memory_order_relaxed)) return false;
  const int dir = posix::try_open_segment_directory();
  if (dir < 0) return false;
  FileName name;
  token_file_name(token, name);
  bool removed = false;
  const int fd = ::openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) {
    // Granted only while no holder has the write lock. Holding it, the name is ours to
    // remove: a creator that locks after us finds its name gone and starts again.
    struct flock fl = byte0(F_RDLCK);
    if (::fcntl(fd, F_SETLK, &fl) == 0 && same_file(fd, dir, name)) {
      removed = ::unlinkat(dir, name, 0) == 0;  // EPERM: another user's, in a sticky directory
    }
    ::close(fd);
  }
  ::close(dir);
  return removed;
}

std::size_t remove_dead_tokens() noexcept {
  const int dir = posix::try_open_segment_directory();
  if (dir < 0) return 0;
  DIR* d = ::fdopendir(dir);
  if (d == nullptr) {
    ::close(dir);
    return 0;
  }
  std::size_t removed = 0;
  while (const dirent* e = ::readdir(d)) {
    LivenessToken token = kNoLivenessToken;
    // remove_dead_token never opens our own token (see the top of this file).
    if (parse_token_name(e->d_name, token) && remove_dead_token(token)) ++removed;
  }
  ::closedir(d);
  return removed;
}

void release_liveness_token() noexcept { release_at_exit(); }

}  // namespace stella::platform
