// SharedMemory across real processes (client_helper, started with fork/exec).
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "values.hpp"

using namespace stella;
using namespace std::chrono_literals;

namespace {

const std::string kHelper = CLIENT_HELPER;

int run_helper(const std::vector<std::string>& args) {
  test::Child child(kHelper, args);
  const auto status = child.wait(60s);
  REQUIRE_MESSAGE(status.has_value(), "client_helper did not finish");
  return *status;
}

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> v(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) v[i] = static_cast<std::byte>(s[i]);
  return v;
}

}  // namespace

TEST_CASE("a value written by another process is read here, for every serializer") {
  for (const auto& kind : test::serializer_names()) {
    CAPTURE(kind);
    const auto name = test::unique_name("xw-" + kind);
    test::SegmentCleanup cleanup(name);
    SharedMemory shm(name, SharedMemoryMode::Create, 4096);
    CHECK(run_helper({"write", name, kind}) == 0);
    CHECK(shm.generation() == 1);
    CHECK(test::read_is_canonical(shm, kind));
  }
}

TEST_CASE("a value written here is read by another process, for every serializer") {
  for (const auto& kind : test::serializer_names()) {
    CAPTURE(kind);
    const auto name = test::unique_name("xr-" + kind);
    test::SegmentCleanup cleanup(name);
    SharedMemory shm(name, SharedMemoryMode::Create, 4096);
    REQUIRE(test::write_canonical(shm, kind));
    CHECK(run_helper({"read", name, kind}) == 0);
  }
  SUBCASE("and the helper notices a different value (the check can fail)") {
    const auto name = test::unique_name("xr-neg");
    test::SegmentCleanup cleanup(name);
    SharedMemory shm(name, SharedMemoryMode::Create, 4096);
    shm.write(std::string("not the canonical string"), BytesSerializer{});
    CHECK(run_helper({"read", name, "string"}) == 3);
  }
}

TEST_CASE("a writer killed with SIGKILL while holding the write lock blocks neither writers nor readers") {
  const auto name = test::unique_name("kill");
  test::SegmentCleanup cleanup(name);
  SharedMemory shm(name, SharedMemoryMode::Create, 256);
  const auto before = bytes_of("the value before the crash");
  const auto after = bytes_of("the value after the crash");
  shm.write_bytes(before);

  test::ReadyPipe ready;
  test::Child writer(kHelper, {"hold-lock", name, std::to_string(ready.write_fd())});
  ready.close_write();
  REQUIRE(ready.read_line() == std::optional<std::string>("locked"));

  // The helper really holds the lock: another writer is refused...
  CHECK_FALSE(shm.try_write_bytes(after));
  CHECK_FALSE(shm.try_claim(16).has_value());
  // ...while readers go on, and see the last complete value, not the half-written one.
  CHECK(shm.read_bytes() == before);

  writer.kill(SIGKILL);
  REQUIRE(writer.wait(30s) == std::optional<int>(128 + SIGKILL));

  // The kernel dropped the dead writer's lock: the next writer gets it at once.
  CHECK(shm.read_bytes() == before);
  REQUIRE(shm.try_write_bytes(after));
  CHECK(shm.read_bytes() == after);
  // Both slots are used again, the one the dead writer left mid-copy included.
  shm.write_bytes(before);
  CHECK(shm.read_bytes() == before);
  shm.write_bytes(after);
  CHECK(shm.read_bytes() == after);
  CHECK(shm.generation() == 4);
}

TEST_CASE("reader processes racing two rewriting writer processes never see a torn value") {
  constexpr int kReaders = 3;
  constexpr long kReadsPerReader = 40'000;  // >= 100k reads in total
  constexpr long kDistinctPerReader = 200;  // proof that the writers really raced the reads
  const auto name = test::unique_name("torn");
  test::SegmentCleanup cleanup(name);
  SharedMemory shm(name, SharedMemoryMode::Create, test::kRecordOverhead + test::kMaxRecordPayload);

  std::vector<std::unique_ptr<test::ReadyPipe>> writer_pipes;
  std::vector<test::Child> writers;
  for (std::uint32_t id = 1; id <= 2; ++id) {
    writer_pipes.push_back(std::make_unique<test::ReadyPipe>());
    writers.emplace_back(kHelper, std::vector<std::string>{"rewrite", name, std::to_string(id),
                                                           std::to_string(writer_pipes.back()->write_fd())});
    writer_pipes.back()->close_write();
  }
  for (auto& pipe : writer_pipes) REQUIRE(pipe->read_line() == std::optional<std::string>("writing"));

  std::vector<std::unique_ptr<test::ReadyPipe>> reader_pipes;
  std::vector<test::Child> readers;
  for (int i = 0; i < kReaders; ++i) {
    reader_pipes.push_back(std::make_unique<test::ReadyPipe>());
    readers.emplace_back(kHelper, std::vector<std::string>{"check-reads", name, std::to_string(kReadsPerReader),
                                                           std::to_string(kDistinctPerReader),
                                                           std::to_string(reader_pipes.back()->write_fd())});
    reader_pipes.back()->close_write();
  }
  long total_reads = 0;
  for (int i = 0; i < kReaders; ++i) {
    const auto report = reader_pipes[static_cast<std::size_t>(i)]->read_line(180s);
    REQUIRE_MESSAGE(report.has_value(), "a reader neither finished nor reported");
    INFO("reader ", i, ": ", *report);
    REQUIRE(report->rfind("ok ", 0) == 0);
    CHECK(readers[static_cast<std::size_t>(i)].wait(60s) == std::optional<int>(0));
    const auto reads_at = report->find("reads=");
    total_reads += std::stol(report->substr(reads_at + 6));
  }
  CHECK(total_reads >= 100'000);

  // Kill the writers wherever they are (mid-copy, likely): nothing stays locked or torn.
  for (auto& w : writers) {
    CHECK(w.running());
    w.kill(SIGKILL);
    CHECK(w.wait(30s) == std::optional<int>(128 + SIGKILL));
  }
  std::vector<std::byte> value;
  REQUIRE(shm.try_read_bytes_into(value));
  CHECK(test::check_record(value).has_value());
  std::vector<std::byte> record;
  test::make_record(9, 1, record);
  REQUIRE(shm.try_write_bytes(record));
  CHECK(shm.read_bytes() == record);
}
