// Catalogue: what the OS refuses (docs/robustness.md, "The operating system"): a full
// /dev/shm and permission denied. Both need root to set up (a mount namespace, a change of
// user); without it they say so and skip.
#include <doctest/doctest.h>

#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "robustness_util.hpp"
#include "stella/ring.hpp"
#include "stella/shared_memory.hpp"
#include "test_support.hpp"

using stella::Errc;
using stella::SharedMemoryMode;
using stella::robustness::run_in_child;

namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

// Child exit codes of the full-/dev/shm case.
constexpr int kNoSpaceOk = 0;
constexpr int kUnshareRefused = 10;
constexpr int kMountFailed = 11;
constexpr int kCreated = 12;
constexpr int kWrongError = 13;

// Checks, in the child, that creating through `create` fails with no_space and exactly `what`.
template <class Create>
int expect_no_space(Create create, const std::string& what) {
  try {
    create();
  } catch (const stella::Error& e) {
    if (e.code() == Errc::no_space && std::string(e.what()) == what) return kNoSpaceOk;
    std::fprintf(stderr, "child: got %s: %s\n", std::string(stella::to_string(e.code())).c_str(), e.what());
    return kWrongError;
  }
  return kCreated;
}

}  // namespace

TEST_CASE("a full /dev/shm: creation fails with no_space, never a SIGBUS later") {
  const std::string blob = stella::test::unique_name("full-blob");
  const std::string ring = stella::test::unique_name("full-ring");
  const int code = run_in_child([&]() -> int {
    // A private mount namespace with a 1 MiB tmpfs over /dev/shm: the host's is untouched.
    if (::unshare(CLONE_NEWNS) != 0) return kUnshareRefused;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return kMountFailed;
    if (::mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=1777") != 0) return kMountFailed;
    int r = expect_no_space([&] { stella::SharedMemory shm(blob, SharedMemoryMode::Create, 2u << 20); },
                            "stella: segment '" + blob +
                                "': not enough shared memory to reserve 4194624 bytes (is /dev/shm full or too small?)");
    if (r != kNoSpaceOk) return r;
    r = expect_no_space([&] { stella::MultiWriterCircularBuffer w(ring, SharedMemoryMode::Create, 4u << 20); },
                        "stella: segment '" + ring +
                            "': not enough shared memory to reserve 4207232 bytes (is /dev/shm full or too small?)");
    if (r != kNoSpaceOk) return r;
    // Nothing is left behind: the failed creation removed its name.
    if (stella::platform::MappedObject::exists(blob) || stella::platform::MappedObject::exists(ring)) return 14;
    // And what fits still works in the small tmpfs.
    stella::SharedMemory small(blob, SharedMemoryMode::Create, 1024);
    small.write_bytes(std::vector<std::byte>(1024, std::byte{1}));
    stella::SharedMemory::remove(blob);
    return kNoSpaceOk;
  });
  if (code == kUnshareRefused || code == kMountFailed) {
    MESSAGE("SKIPPED: cannot make a private mount namespace with a small /dev/shm here (needs root or "
            "CAP_SYS_ADMIN; unshare/mount refused): the full-/dev/shm case was not exercised");
    return;
  }
  CHECK_MESSAGE(code == kNoSpaceOk, "child exit code ", code,
                " (12: created anyway, 13: another error, 14: name left behind, 128+n: killed by signal n)");
}

TEST_CASE("permission denied on open: a 0600 segment of root opened by nobody") {
  if (::geteuid() != 0) {
    MESSAGE("SKIPPED: needs root (to own a 0600 segment and to switch to nobody in a child)");
    return;
  }
  const std::string blob = stella::test::unique_name("perm-blob");
  const std::string ring = stella::test::unique_name("perm-ring");
  stella::test::SegmentCleanup cleanup(std::vector<std::string>{blob, ring});
  stella::SharedMemoryOptions so;
  so.permissions.mode = 0600;
  stella::SharedMemory shm(blob, SharedMemoryMode::Create, 64, so);
  stella::RingOptions ro;
  ro.permissions.mode = 0600;
  stella::MultiWriterCircularBuffer w(ring, SharedMemoryMode::Create, 4096, stella::WriteBehavior::Overwrite, ro);
  const int code = run_in_child([&]() -> int {
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNogroup) != 0 || ::setuid(kNobody) != 0) return 20;
    int failures = 0;
    auto expect = [&](auto&& fn, const std::string& what) {
      try {
        fn();
        std::fprintf(stderr, "child: opened anyway: %s\n", what.c_str());
        ++failures;
      } catch (const stella::Error& e) {
        if (e.code() != Errc::permission_denied || std::string(e.what()) != what) {
          std::fprintf(stderr, "child: got %s: %s\n", std::string(stella::to_string(e.code())).c_str(), e.what());
          ++failures;
        }
      }
    };
    const std::string b = "stella: segment '" + blob + "': permission denied opening /stella." + blob;
    const std::string r = "stella: segment '" + ring + "': permission denied opening /stella." + ring;
    expect([&] { stella::SharedMemory s(blob, SharedMemoryMode::Open); }, b + " for writing");
    expect([&] { (void)stella::SharedMemory::open_read_only(blob); }, b + " for reading");
    expect([&] { stella::MultiWriterCircularBuffer x(ring, SharedMemoryMode::Open); }, r + " for writing");
    expect([&] { stella::LockFreeBufferReader x(ring); }, r + " for writing");
    return failures == 0 ? 0 : 21;
  });
  CHECK_MESSAGE(code == 0, "child exit code ", code, " (20: could not become nobody, 21: see the child's stderr)");
}
