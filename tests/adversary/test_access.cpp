// Who may open what: reader_group and writer_group applied as POSIX ACL entries, world-
// writable modes refused unless asked for, and a name squatted by another user refused by
// stellad (which serves the rest). The cases that switch users need root and say SKIPPED
// otherwise.
#include <doctest/doctest.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include "daemon_test_util.hpp"
#include "stella/common/error.hpp"
#include "stella/common/platform/shm.hpp"
#include "stella/daemon/segment_manager.hpp"
#include "stella/ring.hpp"
#include "stella/shared_memory.hpp"
#include "test_support.hpp"

using stella::Errc;
using stella::SharedMemory;
using stella::SharedMemoryMode;

namespace {

// Ids no account on a test machine uses: the kernel checks numbers, not names.
constexpr gid_t kReaderGid = 64201, kWriterGid = 64202;
constexpr uid_t kReaderUid = 64211, kWriterUid = 64212, kOutsiderUid = 64213;
constexpr gid_t kOutsiderGid = 64203;

// Runs `body` in a child as `uid` with `gid` and supplementary `groups`; its exit code.
int as_user(uid_t uid, gid_t gid, const std::vector<gid_t>& groups, const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(90);
    int code = 91;
    try {
      code = body();
    } catch (...) {
      code = 92;
    }
    ::_exit(code);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// 0 when `fn` succeeds, 1 when it throws permission_denied, 2 for anything else.
int attempt(const std::function<void()>& fn) {
  try {
    fn();
    return 0;
  } catch (const stella::Error& e) {
    return e.code() == Errc::permission_denied ? 1 : 2;
  }
}

bool root() { return ::geteuid() == 0; }

// A user created for the test with useradd and removed afterwards.
class TestUser {
 public:
  explicit TestUser(const std::string& name) : name_(name) {
    const std::string cmd = "useradd --system --no-create-home --shell /usr/sbin/nologin " + name + " 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) return;
    if (const passwd* pw = ::getpwnam(name.c_str())) {
      uid_ = pw->pw_uid;
      gid_ = pw->pw_gid;
      ok_ = true;
    }
  }
  ~TestUser() {
    if (ok_) (void)std::system(("userdel " + name_ + " 2>/dev/null").c_str());
  }
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] uid_t uid() const { return uid_; }
  [[nodiscard]] gid_t gid() const { return gid_; }
  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  std::string name_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  bool ok_ = false;
};

}  // namespace

TEST_CASE("access: world-writable modes are refused unless asked for") {
  const std::string name = stella::test::unique_name("adv-ww");
  stella::test::SegmentCleanup cleanup(name);
  stella::SharedMemoryOptions o;
  o.permissions.mode = 0666;
  try {
    SharedMemory shm(name, SharedMemoryMode::Create, 64, o);
    FAIL("a 0666 segment was created without allow_world_writable");
  } catch (const stella::Error& e) {
    CHECK(e.code() == Errc::invalid_argument);
    CHECK(std::string(e.what()) ==
          "stella: segment '" + name +
              "': permissions 0666 are world-writable (any local user could corrupt or truncate the segment); set "
              "Permissions::allow_world_writable to accept this");
  }
  CHECK_FALSE(stella::platform::MappedObject::exists(name));
  o.permissions.allow_world_writable = true;
  SharedMemory shm(name, SharedMemoryMode::Create, 64, o);
  CHECK(shm.capacity() == 64);
}

TEST_CASE("access: a blob's reader_group may read only, its writer_group may write, others nothing") {
  if (!root()) {
    MESSAGE("SKIPPED: needs root (to switch to users in and outside the reader and writer groups)");
    return;
  }
  const std::string name = stella::test::unique_name("adv-groups");
  stella::test::SegmentCleanup cleanup(name);
  stella::SharedMemoryOptions o;
  o.permissions.mode = 0600;  // the owner only; the groups come from the ACL entries
  o.permissions.reader_gid = kReaderGid;
  o.permissions.writer_gid = kWriterGid;
  SharedMemory shm(name, SharedMemoryMode::Create, 64, o);
  shm.write_bytes(std::vector<std::byte>(4, std::byte{1}));
  // `ls -l` shows the ACL mask as the group bits (rw-: the writer group's entry); the
  // attributes report the owning group's own bits, so the mode reads as configured.
  CHECK(stella::platform::MappedObject::stat(name)->uid == 0);
  CHECK(stella::platform::MappedObject::stat(name)->mode == 0660);
  CHECK(stella::platform::MappedObject::open(name, stella::platform::Access::read_only).attributes().mode == 0600);

  auto read = [&] { (void)SharedMemory::open_read_only(name).read_bytes(); };
  auto write = [&] { SharedMemory(name, SharedMemoryMode::Open).write_bytes(std::vector<std::byte>(4)); };
  auto both = [&]() -> int { return attempt(read) * 10 + attempt(write); };
  // reader_group: reads (0), cannot open for writing (1).
  CHECK(as_user(kReaderUid, kOutsiderGid, {kReaderGid}, both) == 1);
  // writer_group: reads (the writer's group may read what it writes) and writes.
  CHECK(as_user(kWriterUid, kOutsiderGid, {kWriterGid}, both) == 0);
  // Neither: nothing.
  CHECK(as_user(kOutsiderUid, kOutsiderGid, {}, both) == 11);
}

TEST_CASE("access: a ring's reader_group opens readers, outsiders open nothing") {
  if (!root()) {
    MESSAGE("SKIPPED: needs root (to switch to users in and outside the reader group)");
    return;
  }
  const std::string name = stella::test::unique_name("adv-ring-groups");
  stella::test::SegmentCleanup cleanup(name);
  stella::RingOptions ro;
  ro.permissions.mode = 0600;
  ro.permissions.reader_gid = kReaderGid;
  ro.permissions.writer_gid = kWriterGid;
  stella::MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, stella::WriteBehavior::Overwrite, ro);
  auto reader = [&] { stella::LockFreeBufferReader r(name); };
  auto writer = [&] { stella::MultiWriterCircularBuffer x(name, SharedMemoryMode::Open); };
  auto both = [&]() -> int { return attempt(reader) * 10 + attempt(writer); };
  CHECK(as_user(kWriterUid, kOutsiderGid, {kWriterGid}, both) == 0);
  CHECK(as_user(kOutsiderUid, kOutsiderGid, {}, both) == 11);
  // Until reader slots move out of the ring (issue 13), a reader writes its slot into the
  // ring, so reader_group holds read-write on it and could open a writer too: the split
  // gives the ring ObjectWriters::writers and the readers' object ObjectWriters::readers.
  CHECK(as_user(kReaderUid, kOutsiderGid, {kReaderGid}, both) == 0);
}

TEST_CASE("access: a name squatted by another user is refused by stellad, which serves the rest") {
  if (!root()) {
    MESSAGE("SKIPPED: needs root (to create a test user with useradd and act as it)");
    return;
  }
  const std::string user = "stadv" + std::to_string(::getpid() % 100000);
  TestUser squatter(user);
  if (!squatter.ok()) {
    MESSAGE("SKIPPED: useradd could not create the test user ", user);
    return;
  }
  const std::string squatted = stella::test::unique_name("adv-squatted");
  const std::string fine = stella::test::unique_name("adv-fine");
  stella::test::SegmentCleanup cleanup(std::vector<std::string>{squatted, fine});
  // The squatter pre-creates the name, world-writable, before stellad starts.
  REQUIRE(as_user(squatter.uid(), squatter.gid(), {}, [&] {
            stella::SharedMemoryOptions o;
            o.permissions.mode = 0666;
            o.permissions.allow_world_writable = true;
            SharedMemory shm(squatted, SharedMemoryMode::Create, 64, o);
            return 0;
          }) == 0);
  const std::string owner_text =
      "is owned by uid " + std::to_string(squatter.uid()) + " (" + user + "), not by stellad's uid 0 (root)";

  SUBCASE("SegmentManager refuses it and creates the other") {
    stella::daemon::SegmentManager manager;
    stella::config::SegmentConfig c;
    c.name = squatted;
    c.kind = stella::config::SegmentKind::blob;
    c.capacity = 64;
    CHECK(manager.ensure(c) == stella::daemon::EnsureOutcome::refused);
    c.name = fine;
    CHECK(manager.ensure(c) == stella::daemon::EnsureOutcome::created);
    const auto reports = manager.report({});
    REQUIRE(reports.size() == 2);
    for (const auto& r : reports) {
      if (r.name == squatted) {
        CHECK(r.state == "refused");
        CHECK(r.detail.find(owner_text) != std::string::npos);
      } else {
        CHECK(r.state == "live");
      }
    }
    // Refused, never taken over: it is still the squatter's, with the squatter's mode.
    CHECK(stella::platform::MappedObject::stat(squatted)->uid == squatter.uid());
    CHECK(stella::platform::MappedObject::stat(squatted)->mode == 0666);
  }
  SUBCASE("the real stellad starts, reports it degraded naming the owner, serves the other") {
    stella::test::Stellad d("adv-squat", "",
                            stella::test::blob_segment(squatted, "64B") + stella::test::blob_segment(fine, "64B"));
    d.start();
    const auto report = d.status();
    CHECK(report.health == stella::daemon::protocol::Health::degraded);
    const auto bad = d.segment(squatted);
    REQUIRE(bad);
    CHECK(bad->state == "refused");
    CHECK(bad->detail.find(owner_text) != std::string::npos);
    const auto good = d.segment(fine);
    REQUIRE(good);
    CHECK(good->state == "live");
    CHECK(d.stop() == std::optional<int>(0));
  }
}

TEST_CASE("access: stellad's segment_dir: only it and the segments' groups create there; a squatted one is refused") {
  if (!root()) {
    MESSAGE("SKIPPED: needs root (to act as users outside the segments' groups, and as a squatter)");
    return;
  }
  stella::test::TempDir tmp("adv-segdir");
  ::chmod(tmp.path().c_str(), 0755);  // others may traverse to the segment directory itself
  const std::string dir = tmp.file("segments");
  const std::string name = stella::test::unique_name("adv-in-dir");
  const std::string daemon_keys = "segment_dir = \"" + dir + "\"\n";
  const std::string segments =
      stella::test::blob_segment(name, "64B", "reader_group = " + std::to_string(kReaderGid) + "\n");
  {
    stella::test::Stellad d("adv-segdir", daemon_keys, segments);
    d.start();
    struct stat st {};
    REQUIRE(::lstat(dir.c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK(st.st_uid == 0);
    CHECK((st.st_mode & 01000) != 0);  // sticky: nobody removes or replaces another's object
    CHECK((st.st_mode & 0007) == 0);   // others: nothing
    CHECK(::access((dir + "/stella." + name).c_str(), F_OK) == 0);
    CHECK_FALSE(stella::platform::MappedObject::exists(name));  // not in /dev/shm

    auto in_dir = [&](const std::function<void()>& fn) {
      return [&, fn]() -> int {
        ::setenv("STELLA_SEGMENT_DIR", dir.c_str(), 1);
        return attempt(fn);
      };
    };
    auto create_other = [&] { SharedMemory shm(name + "-x", SharedMemoryMode::Create, 64); };
    auto read = [&] { (void)SharedMemory::open_read_only(name).try_read_bytes(); };
    // An outsider can neither create a name there nor open what is there.
    CHECK(as_user(kOutsiderUid, kOutsiderGid, {}, in_dir(create_other)) == 1);
    CHECK(as_user(kOutsiderUid, kOutsiderGid, {}, in_dir(read)) == 1);
    // The segment's reader group reaches it and reads it.
    CHECK(as_user(kReaderUid, kOutsiderGid, {kReaderGid}, in_dir(read)) == 0);
    CHECK(d.stop() == std::optional<int>(0));
  }
  ::unlink((dir + "/stella." + name).c_str());
  ::unlink((dir + "/stella." + name + "-x").c_str());

  SUBCASE("a segment_dir created by another user: stellad refuses to start, naming the owner") {
    const std::string squatted_dir = tmp.file("squatted");
    REQUIRE(::mkdir(squatted_dir.c_str(), 0777) == 0);
    REQUIRE(::chown(squatted_dir.c_str(), kOutsiderUid, kOutsiderGid) == 0);
    stella::test::Stellad d("adv-segdir-squat", "segment_dir = \"" + squatted_dir + "\"\n", segments);
    d.launch();
    CHECK(d.proc().wait(std::chrono::seconds(30)) == std::optional<int>(1));
    CHECK(d.log().find("the segment directory " + squatted_dir + " is owned by uid " + std::to_string(kOutsiderUid) +
                       ", not by uid 0 (root): refusing it") != std::string::npos);
    ::rmdir(squatted_dir.c_str());
  }
  SUBCASE("a symbolic link in place of segment_dir: refused, never followed") {
    const std::string link = tmp.file("link");
    REQUIRE(::symlink(tmp.path().c_str(), link.c_str()) == 0);
    stella::test::Stellad d("adv-segdir-link", "segment_dir = \"" + link + "\"\n", segments);
    d.launch();
    CHECK(d.proc().wait(std::chrono::seconds(30)) == std::optional<int>(1));
    CHECK(d.log().find("the segment directory " + link + " is a symbolic link: refusing it") != std::string::npos);
    ::unlink(link.c_str());
  }
}

TEST_CASE("access: a readers' companion object is its own file, written by readers, read-only to writers") {
  using stella::platform::Access;
  using stella::platform::MappedObject;
  using stella::platform::ObjectPart;
  const std::string name = stella::test::unique_name("adv-companion");
  struct Cleanup {
    std::string n;
    ~Cleanup() {
      MappedObject::unlink(n, ObjectPart::readers);
      MappedObject::unlink(n);
    }
  } cleanup{name};
  stella::platform::Permissions p;
  p.mode = 0600;
  p.reader_gid = kReaderGid;
  p.writer_gid = kWriterGid;
  p.written_by = stella::platform::ObjectWriters::readers;
  MappedObject readers = MappedObject::create(name, 4096, p, ObjectPart::readers);
  CHECK(readers.part() == ObjectPart::readers);
  CHECK(MappedObject::os_name(name, ObjectPart::readers) == "/stella-readers." + name);
  CHECK(MappedObject::exists(name, ObjectPart::readers));
  CHECK_FALSE(MappedObject::exists(name));  // the segment's own object is another file
  MappedObject segment = MappedObject::create(name, 4096, {}, ObjectPart::segment);
  static_cast<unsigned char*>(readers.data())[0] = 0xAB;
  CHECK(static_cast<unsigned char*>(segment.data())[0] == 0);
  if (!root()) {
    MESSAGE("SKIPPED (the group part): needs root to switch to the reader and writer groups");
    return;
  }
  auto open_as = [&](Access a) { return [&, a] { (void)MappedObject::open(name, a, ObjectPart::readers); }; };
  auto both = [&]() -> int { return attempt(open_as(Access::read_only)) * 10 + attempt(open_as(Access::read_write)); };
  CHECK(as_user(kReaderUid, kOutsiderGid, {kReaderGid}, both) == 0);   // readers write it
  CHECK(as_user(kWriterUid, kOutsiderGid, {kWriterGid}, both) == 1);   // writers only read it
  CHECK(as_user(kOutsiderUid, kOutsiderGid, {}, both) == 11);          // others nothing
}
