// Typed channels (issue 18): the payload type tag set at creation, stored in the checksummed
// segment header; typed writers and readers refuse a segment of another tag (or none) with
// Errc::type_mismatch naming both; untyped access opens anything.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "stella/common/platform/shm.hpp"
#include "stella/common/segment.hpp"
#include "stella/stella.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace std::chrono_literals;

namespace {

struct Quote {
  std::uint64_t id;
  double price;
};
using QuoteWriter = TypedWriter<Quote, TriviallyCopyableSerializer>;
using QuoteReader = TypedReader<Quote, TriviallyCopyableSerializer>;

template <class F>
void expect_error(F f, Errc code, const std::string& text) {
  try {
    f();
    FAIL("no error; expected " << to_string(code));
  } catch (const Error& e) {
    CHECK(e.code() == code);
    CHECK_MESSAGE(std::string(e.what()).find(text) != std::string::npos, e.what());
  }
}

}  // namespace

TEST_CASE("typed ring: the tag is stored at creation, checked at every typed open, ignored by untyped ones") {
  const auto name = test::unique_name("typed");
  test::SegmentCleanup cleanup(name);
  QuoteWriter w(name, "market.Quote@2", SharedMemoryMode::Create, 4096);
  CHECK(w.schema() == "market.Quote@2");
  QuoteReader r(name, "market.Quote@2");
  REQUIRE(w.write(Quote{7, 101.25}) == WriteResult::Ok);
  Quote q{};
  REQUIRE(r.read(q, 1s) == ReadResult::Ok);
  CHECK(q.id == 7);
  CHECK(q.price == 101.25);
  CHECK_FALSE(r.try_read().has_value());

  // Another version, or another type: refused, naming both.
  expect_error([&] { QuoteReader other(name, "market.Quote@3"); }, Errc::type_mismatch,
               "segment '" + name + "': carries type 'market.Quote@2', but this type 'market.Quote@3' was asked for");
  expect_error([&] { QuoteWriter other(name, "log.Record", SharedMemoryMode::Open); }, Errc::type_mismatch,
               "carries type 'market.Quote@2', but this type 'log.Record' was asked for");
  expect_error([&] { QuoteWriter other(name, "log.Record", SharedMemoryMode::OpenOrCreate, 4096); },
               Errc::type_mismatch, "carries type 'market.Quote@2'");
  // Untyped access still works, and sees the tag.
  LockFreeBufferReader untyped(name);
  CHECK(untyped.schema() == "market.Quote@2");
  MultiWriterCircularBuffer untyped_writer(name, SharedMemoryMode::Open);
  CHECK(untyped_writer.schema() == "market.Quote@2");
}

TEST_CASE("typed open of an untyped ring is refused; an untyped ring reads as having no type") {
  const auto name = test::unique_name("untyped");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096);
  CHECK(w.schema().empty());
  expect_error([&] { QuoteReader r(name, "market.Quote@2"); }, Errc::type_mismatch,
               "carries no type, but this type 'market.Quote@2' was asked for");
}

TEST_CASE("bad type tags are refused before anything is created") {
  const auto name = test::unique_name("badtag");
  test::SegmentCleanup cleanup(name);
  expect_error([&] { QuoteWriter w(name, "a-very-long-type-name-of-30-ch", SharedMemoryMode::Create, 4096); },
               Errc::invalid_argument, "type tag 'a-very-long-type-name-of-30-ch' is 30 characters; at most 24");
  expect_error([&] { QuoteWriter w(name, "has space", SharedMemoryMode::Create, 4096); }, Errc::invalid_argument,
               "type tag 'has space' holds a character other than [A-Za-z0-9._:@/+-]");
  CHECK_FALSE(platform::MappedObject::exists(name));  // nothing was created
  // The longest tag fits exactly.
  const std::string longest(kMaxSchemaLength, 'x');
  QuoteWriter w(name, longest, SharedMemoryMode::Create, 4096);
  CHECK(w.schema() == longest);
  QuoteReader r(name, longest);
  CHECK(r.schema() == longest);
}

TEST_CASE("typed blob: SharedMemoryOptions::schema is stored and checked") {
  const auto name = test::unique_name("typedblob");
  test::SegmentCleanup cleanup(name);
  SharedMemoryOptions typed;
  typed.schema = "config.Limits@1";
  SharedMemory created(name, SharedMemoryMode::Create, 256, typed);
  CHECK(created.schema() == "config.Limits@1");
  SharedMemory same(name, SharedMemoryMode::Open, 0, typed);
  CHECK(same.schema() == "config.Limits@1");
  SharedMemory untyped(name, SharedMemoryMode::Open);
  CHECK(untyped.schema() == "config.Limits@1");
  SharedMemoryOptions other;
  other.schema = "config.Limits@2";
  expect_error([&] { SharedMemory s(name, SharedMemoryMode::Open, 0, other); }, Errc::type_mismatch,
               "carries type 'config.Limits@1', but this type 'config.Limits@2' was asked for");
}

TEST_CASE("the tag is covered by the header checksum: changing it in the mapping makes the segment corrupt") {
  const auto name = test::unique_name("tagsum");
  test::SegmentCleanup cleanup(name);
  QuoteWriter w(name, "market.Quote@2", SharedMemoryMode::Create, 4096);
  {
    platform::MappedObject obj = platform::MappedObject::open(name, platform::Access::read_write);
    auto* h = static_cast<SegmentHeader*>(obj.data());
    h->schema[13] = '3';  // "market.Quote@3": a forged tag without a fixed-up checksum
  }
  expect_error([&] { QuoteReader r(name, "market.Quote@3"); }, Errc::corrupt, "corrupt header (checksum mismatch)");
  // The writer that opened it before keeps its own copy of the header.
  CHECK(w.schema() == "market.Quote@2");
}
