// The log aggregator: drains one ring, written by any number of services through
// stella/spdlog_sink.hpp, into a rotating log file (or the systemd journal).
//
//   log_aggregator RING FILE [--create CAPACITY] [--max-size BYTES] [--max-files N] [--count N]
//   log_aggregator RING --journal [...]
//
// It is one ordinary LockFreeBufferReader starting at the oldest record. On an Overwrite ring
// the services never wait for it; if it falls a whole ring behind, it is lapped, and it writes
// how many records it lost into the file itself. A message that is not a log record is
// written as such, never fatal. SIGTERM/SIGINT: drain what is there, flush, exit.
#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#ifdef STELLA_EXAMPLE_JOURNAL
#include <spdlog/sinks/systemd_sink.h>
#endif

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "stella/log_record.hpp"
#include "stella/stella.hpp"

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

spdlog::level::level_enum spdlog_level(stella::LogLevel l) { return static_cast<spdlog::level::level_enum>(l); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: log_aggregator RING FILE|--journal [--create CAPACITY] [--max-size BYTES] [--max-files N] "
                 "[--count N]\n");
    return 2;
  }
  const std::string ring = argv[1], target = argv[2];
  std::size_t create = 0, max_size = 10 << 20, max_files = 5;
  std::optional<unsigned long long> count;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const unsigned long long v = std::stoull(argv[i + 1]);
    if (key == "--create") create = v;
    else if (key == "--max-size") max_size = v;
    else if (key == "--max-files") max_files = v;
    else if (key == "--count") count = v;
    else {
      std::fprintf(stderr, "log_aggregator: unknown option %s\n", key.c_str());
      return 2;
    }
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  try {
    if (create > 0) {
      stella::MultiWriterCircularBuffer(ring, stella::SharedMemoryMode::OpenOrCreate, create);
    }
    std::shared_ptr<spdlog::sinks::sink> sink;
    const bool journal = target == "--journal";
    if (journal) {
#ifdef STELLA_EXAMPLE_JOURNAL
      sink = std::make_shared<spdlog::sinks::systemd_sink_st>();
#else
      std::fprintf(stderr, "log_aggregator: built without libsystemd: no --journal\n");
      return 2;
#endif
    } else {
      sink = std::make_shared<spdlog::sinks::rotating_file_sink_st>(target, max_size, max_files);
      sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v"));  // lines come formatted
    }
    stella::LockFreeBufferReader reader(ring);
    std::printf("log_aggregator: draining ring '%s' into %s\n", ring.c_str(), target.c_str());
    std::fflush(stdout);

    auto emit = [&](spdlog::level::level_enum level, std::string_view logger, std::string_view text) {
      const spdlog::details::log_msg msg(spdlog::string_view_t(logger.data(), logger.size()), level,
                                         spdlog::string_view_t(text.data(), text.size()));
      sink->log(msg);
    };
    std::vector<std::byte> bytes;
    std::uint64_t drained = 0, lost_seen = 0;
    while (!count || drained < *count) {
      const stella::ReadResult r = reader.read_bytes(bytes, std::chrono::milliseconds(250));
      if (r != stella::ReadResult::Ok) {
        sink->flush();  // idle: what we have is on disk
        if (g_stop.load(std::memory_order_relaxed)) break;
        continue;
      }
      if (reader.messages_lost() > lost_seen) {
        emit(spdlog::level::warn, "log_aggregator",
             "log_aggregator: " + std::to_string(reader.messages_lost() - lost_seen) +
                 " record(s) lost (overwritten before they were drained)");
        lost_seen = reader.messages_lost();
      }
      ++drained;
      std::string error;
      const std::optional<stella::LogRecordView> rec = stella::decode_log_record(bytes, &error);
      if (!rec) {
        emit(spdlog::level::warn, "log_aggregator", "log_aggregator: undecodable message: " + error);
        continue;
      }
      if (journal) {
        std::string text(rec->message);
        for (const stella::LogField& f : rec->fields) text += " " + std::string(f.first) + "=" + std::string(f.second);
        emit(spdlog_level(rec->level), rec->logger, text);
      } else {
        emit(spdlog_level(rec->level), rec->logger, stella::format_log_line(*rec));
      }
    }
    sink->flush();
    std::printf("RESULT drained=%llu lost=%llu\n", static_cast<unsigned long long>(drained),
                static_cast<unsigned long long>(reader.messages_lost()));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "log_aggregator: %s\n", e.what());
    return 1;
  }
}
