#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "stella/common/error.hpp"
#include "stella/common/segment.hpp"
#include "test_support.hpp"

using namespace stella;
using platform::Access;
using platform::MappedObject;

namespace {

Errc open_error(const std::string& name, SegmentKind kind) {
  try {
    Segment::open(name, kind, Access::read_only, std::chrono::milliseconds(20));
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find(name) != std::string::npos);  // the message names the segment
    return e.code();
  }
  FAIL("open succeeded");
  return Errc::io;
}

Segment make(const std::string& name, SegmentKind kind, std::uint64_t size = 4096) {
  SegmentSpec spec;
  spec.kind = kind;
  spec.area_size = size;
  auto s = Segment::create(name, spec);
  s.publish();
  return s;
}

void write_raw(const std::string& name, const void* bytes, std::size_t n) {
  const std::string os = MappedObject::os_name(name);
  const int fd = ::shm_open(os.c_str(), O_RDWR | O_CREAT, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, static_cast<off_t>(n)) == 0);
  if (n > 0) REQUIRE(::pwrite(fd, bytes, n, 0) == static_cast<ssize_t>(n));
  ::close(fd);
}

}  // namespace

TEST_CASE("create then open validates the header") {
  const auto name = test::unique_name("seg");
  test::SegmentCleanup cleanup(name);
  auto created = make(name, SegmentKind::ring, 8192);
  auto opened = Segment::open(name, SegmentKind::ring, Access::read_only);
  CHECK(opened.area_size() == 8192);
  CHECK(opened.header().area_offset % kCacheLineSize == 0);
  CHECK(opened.header().creator_pid == static_cast<std::uint64_t>(::getpid()));
  CHECK(MappedObject::exists(name));
}

TEST_CASE("create of an existing name fails with already_exists") {
  const auto name = test::unique_name("dup");
  test::SegmentCleanup cleanup(name);
  auto a = make(name, SegmentKind::blob);
  CHECK_THROWS_AS(make(name, SegmentKind::blob), Error);
  try {
    make(name, SegmentKind::blob);
  } catch (const Error& e) {
    CHECK(e.code() == Errc::already_exists);
  }
}

TEST_CASE("missing, truncated, bad magic, other version, other kind and corrupt segments give their errors") {
  const auto name = test::unique_name("bad");
  test::SegmentCleanup cleanup(name);

  CHECK(open_error(name, SegmentKind::blob) == Errc::not_found);

  SUBCASE("empty file") {
    write_raw(name, nullptr, 0);
    CHECK(open_error(name, SegmentKind::blob) == Errc::truncated);
  }
  SUBCASE("shorter than a header") {
    char bytes[40] = {};
    write_raw(name, bytes, sizeof bytes);
    CHECK(open_error(name, SegmentKind::blob) == Errc::truncated);
  }
  SUBCASE("garbage") {
    char bytes[4096];
    for (std::size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<char>(i * 7 + 3);
    write_raw(name, bytes, sizeof bytes);
    CHECK(open_error(name, SegmentKind::blob) == Errc::bad_magic);
  }
  SUBCASE("forged headers") {
    {
      auto s = make(name, SegmentKind::blob, 1024);
    }
    auto obj = MappedObject::open(name, Access::read_write);
    auto* h = static_cast<SegmentHeader*>(obj.data());
    SUBCASE("wrong kind") { CHECK(open_error(name, SegmentKind::ring) == Errc::wrong_kind); }
    SUBCASE("other version") {
      h->layout_version.store(kLayoutVersion + 1);
      CHECK(open_error(name, SegmentKind::blob) == Errc::version_mismatch);
    }
    SUBCASE("bad checksum") {
      h->area_size += 8;
      CHECK(open_error(name, SegmentKind::blob) == Errc::corrupt);
    }
    SUBCASE("header says more than the file holds") {
      h->total_size += 4096;
      h->checksum = header_checksum(*h);
      CHECK(open_error(name, SegmentKind::blob) == Errc::truncated);
    }
    SUBCASE("area outside the segment") {
      h->area_offset = h->total_size + 64;
      h->checksum = header_checksum(*h);
      CHECK(open_error(name, SegmentKind::blob) == Errc::corrupt);
    }
    SUBCASE("never published") {
      h->layout_version.store(0);
      CHECK(open_error(name, SegmentKind::blob) == Errc::corrupt);
    }
  }
}

TEST_CASE("created segments have the requested mode and are never world-writable by default") {
  const auto name = test::unique_name("mode");
  test::SegmentCleanup cleanup(name);
  auto s = make(name, SegmentKind::blob);
  struct ::stat st {};
  const int rc = ::stat(("/dev/shm/stella." + name).c_str(), &st);
  REQUIRE(rc == 0);
  CHECK((st.st_mode & 0777) == 0660);
  CHECK((st.st_mode & 0002) == 0);
}
