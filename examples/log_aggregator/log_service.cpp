// A service that logs through spdlog into a Stella ring (stella/spdlog_sink.hpp). Run several
// against one ring; examples/log_aggregator drains them into one file.
//
//   log_service RING NAME COUNT      logs COUNT records as logger NAME, then prints its counters
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <string>

#include "stella/spdlog_sink.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: log_service RING NAME COUNT\n");
    return 2;
  }
  try {
    const std::string name = argv[2];
    const long count = std::stol(argv[3]);
    auto sink = std::make_shared<stella::ring_sink_mt>(argv[1]);
    spdlog::logger log(name, sink);
    log.set_level(spdlog::level::trace);
    stella::LogFields service{{"service", name}};  // on every record of this thread
    for (long i = 0; i < count; ++i) {
      stella::LogFields request{{"request", std::to_string(i)}};
      if (i % 10 == 9) {
        log.warn("request {} was slow", i);
      } else {
        log.info("handled request {} of {}", i, count);
      }
    }
    std::printf("RESULT written=%llu dropped=%llu truncated=%llu\n", static_cast<unsigned long long>(sink->written()),
                static_cast<unsigned long long>(sink->dropped()), static_cast<unsigned long long>(sink->truncated()));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "log_service: %s\n", e.what());
    return 1;
  }
}
