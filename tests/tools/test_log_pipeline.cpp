// The logging pipeline: stella/spdlog_sink.hpp in-process, then real service processes
// logging into one ring drained by the real examples/log_aggregator into a rotating file.
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>
#include <signal.h>
#include <spdlog/details/os.h>
#include <unistd.h>

#include <fstream>

#include "daemon_test_util.hpp"
#include "stella/spdlog_sink.hpp"
#include "stella/stella.hpp"
#include "test_support.hpp"

using namespace stella;

namespace {

LogRecordView next_record(LockFreeBufferReader& reader, std::vector<std::byte>& bytes) {
  REQUIRE(reader.try_read_bytes(bytes));
  std::string error;
  std::optional<LogRecordView> r = decode_log_record(bytes, &error);
  INFO(error);
  REQUIRE(r.has_value());
  return *r;
}

std::vector<std::string> file_lines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("ring sink: one record per log call, with time, level, logger, thread, pid, message and scoped fields") {
  const std::string ring = test::unique_name("sink");
  test::SegmentCleanup cleanup(ring);
  MultiWriterCircularBuffer create(ring, SharedMemoryMode::Create, 65536);
  LockFreeBufferReader reader(ring);
  auto sink = std::make_shared<ring_sink_mt>(ring);
  spdlog::logger log("api", sink);
  log.set_level(spdlog::level::trace);

  const auto before = std::chrono::system_clock::now();
  log.debug("plain {}", 1);
  {
    LogFields outer{{"service", "api"}};
    LogFields inner{{"request", "42"}, {"user", "ann"}};
    log.error("failed: {}", "timeout");
  }
  log.info("after the scope");
  const auto after = std::chrono::system_clock::now();

  std::vector<std::byte> bytes;
  const LogRecordView a = next_record(reader, bytes);
  CHECK(a.level == LogLevel::debug);
  CHECK(a.logger == "api");
  CHECK(a.message == "plain 1");
  CHECK(a.fields.empty());
  CHECK(a.pid == static_cast<std::uint32_t>(::getpid()));
  CHECK(a.thread_id == spdlog::details::os::thread_id());
  const auto ns = [](auto t) { return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count()); };
  CHECK(a.time_unix_ns >= ns(before));
  CHECK(a.time_unix_ns <= ns(after));

  const LogRecordView b = next_record(reader, bytes);
  CHECK(b.level == LogLevel::error);
  CHECK(b.message == "failed: timeout");
  REQUIRE(b.fields.size() == 3);
  CHECK(b.fields[0] == LogField{"service", "api"});
  CHECK(b.fields[1] == LogField{"request", "42"});
  CHECK(b.fields[2] == LogField{"user", "ann"});

  const LogRecordView c = next_record(reader, bytes);
  CHECK(c.message == "after the scope");
  CHECK(c.fields.empty());
  CHECK(sink->written() == 3);
  CHECK(sink->dropped() == 0);
}

TEST_CASE("ring sink on a full Block ring drops and counts instead of blocking; Overwrite never drops") {
  const std::string ring = test::unique_name("sink-block");
  test::SegmentCleanup cleanup(ring);
  MultiWriterCircularBuffer create(ring, SharedMemoryMode::Create, 4096, WriteBehavior::Block);
  LockFreeBufferReader stuck(ring);  // registered, never reads: the ring fills
  auto sink = std::make_shared<ring_sink_st>(ring);
  spdlog::logger log("svc", sink);
  for (int i = 0; i < 1000; ++i) log.info("record {}", i);  // returns: it never waits
  CHECK(sink->written() > 0);
  CHECK(sink->dropped() > 0);
  CHECK(sink->written() + sink->dropped() == 1000);

  const std::string ring2 = test::unique_name("sink-over");
  test::SegmentCleanup cleanup2(ring2);
  MultiWriterCircularBuffer create2(ring2, SharedMemoryMode::Create, 4096);
  LockFreeBufferReader slow(ring2);
  auto sink2 = std::make_shared<ring_sink_st>(ring2);
  spdlog::logger log2("svc", sink2);
  for (int i = 0; i < 1000; ++i) log2.info("record {}", i);
  CHECK(sink2->written() == 1000);
  CHECK(sink2->dropped() == 0);
  std::vector<std::byte> bytes;
  REQUIRE(slow.try_read_bytes(bytes));
  CHECK(slow.messages_lost() > 0);  // the reader was lapped, the writers never waited
}

TEST_CASE("ring sink cuts a message too large for the ring and counts it") {
  const std::string ring = test::unique_name("sink-big");
  test::SegmentCleanup cleanup(ring);
  MultiWriterCircularBuffer create(ring, SharedMemoryMode::Create, 4096);
  LockFreeBufferReader reader(ring);
  auto sink = std::make_shared<ring_sink_st>(ring);
  spdlog::logger log("big", sink);
  LogFields f{{"k", "v"}};
  log.info(std::string(5000, 'x'));
  CHECK(sink->truncated() == 1);
  std::vector<std::byte> bytes;
  const LogRecordView r = next_record(reader, bytes);
  CHECK(bytes.size() == create.max_message_size());
  CHECK(r.message == std::string(r.message.size(), 'x'));
  CHECK(r.fields.size() == 1);
}

TEST_CASE("three service processes log into one ring; the aggregator drains it into one rotating file") {
  const std::string ring = test::unique_name("logs");
  test::SegmentCleanup cleanup(ring);
  test::TempDir dir("logagg");
  const std::string file = dir.file("all.log"), agg_out = dir.file("agg.out");
  constexpr int kServices = 3, kEach = 400;
  MultiWriterCircularBuffer create(ring, SharedMemoryMode::Create, 1 << 20);

  test::Child aggregator(LOG_AGGREGATOR, {ring, file, "--count", std::to_string(kServices * kEach)}, agg_out);
  REQUIRE(test::eventually([&] { return test::read_file(agg_out).find("draining") != std::string::npos; }));
  std::vector<test::Child> services;
  std::vector<std::string> outs;
  for (int s = 0; s < kServices; ++s) {
    outs.push_back(dir.file("svc" + std::to_string(s) + ".out"));
    services.emplace_back(LOG_SERVICE, std::vector<std::string>{ring, "svc" + std::to_string(s), std::to_string(kEach)},
                          outs.back());
  }
  for (auto& s : services) CHECK(s.wait() == std::optional<int>(0));
  for (const std::string& o : outs) {
    CHECK(test::result_field(test::read_file(o), "written") == std::optional<std::string>(std::to_string(kEach)));
    CHECK(test::result_field(test::read_file(o), "dropped") == std::optional<std::string>("0"));
  }
  REQUIRE(aggregator.wait() == std::optional<int>(0));
  CHECK(test::result_field(test::read_file(agg_out), "lost") == std::optional<std::string>("0"));

  const std::vector<std::string> got = file_lines(file);
  REQUIRE(got.size() == static_cast<std::size_t>(kServices * kEach));
  for (int s = 0; s < kServices; ++s) {
    // Each service's records arrive in the order it logged them, with its fields.
    const std::string name = "svc" + std::to_string(s);
    int next = 0;
    for (const std::string& line : got) {
      if (line.find("] " + name + " (pid ") == std::string::npos) continue;
      CHECK(line.find("service=" + name + " request=" + std::to_string(next)) != std::string::npos);
      CHECK(line.find(next % 10 == 9 ? "[warning]" : "[info]") != std::string::npos);
      ++next;
    }
    CHECK(next == kEach);
  }

  // The same ring through `stella tail --format log`.
  const test::CommandResult tail = test::run_command(STELLA_TOOL, {"tail", "-q", "--format", "log", "-n", "1", ring});
  CHECK(tail.exit_code == 0);
  CHECK(tail.out.find(" (pid ") != std::string::npos);
  CHECK(tail.out.find("service=svc") != std::string::npos);
}

TEST_CASE("the aggregator rotates its file and stops cleanly on SIGTERM") {
  const std::string ring = test::unique_name("logrot");
  test::SegmentCleanup cleanup(ring);
  test::TempDir dir("logrot");
  const std::string file = dir.file("rot.log"), agg_out = dir.file("agg.out");
  test::Child aggregator(LOG_AGGREGATOR, {ring, file, "--create", "65536", "--max-size", "4096", "--max-files", "2"},
                         agg_out);
  REQUIRE(test::eventually([&] { return test::read_file(agg_out).find("draining") != std::string::npos; }));
  test::Child service(LOG_SERVICE, {ring, "rot", "200"}, dir.file("svc.out"));
  CHECK(service.wait() == std::optional<int>(0));
  // spdlog keeps the extension: rot.log, rot.1.log, rot.2.log
  REQUIRE(test::eventually([&] { return std::ifstream(dir.file("rot.1.log")).good(); }));
  REQUIRE(test::eventually([&] {
    return test::read_file(file).find("request=199") != std::string::npos;  // the last record reached the file
  }));
  aggregator.kill(SIGTERM);
  CHECK(aggregator.wait() == std::optional<int>(0));
  CHECK(test::result_field(test::read_file(agg_out), "drained") == std::optional<std::string>("200"));
}
