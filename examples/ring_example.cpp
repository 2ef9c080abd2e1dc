// The original README's MultiWriterCircularBuffer examples, in C++.
//
//   ring_example write NAME [--block] [--count N]   WRITER PROCESS: creates (or opens) the
//                                                    buffer and writes N log messages
//   ring_example read NAME [--wait N]                READER PROCESS: reads all available
//                                                    messages (with --wait, waits for N)
//   ring_example remove NAME
//
// Several writer processes may run at once; each reader is independent.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "stella/serializers/json.hpp"
#include "stella/stella.hpp"

namespace {

std::string now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

int write(const std::string& name, bool block, long count) {
  // --- WRITER PROCESS ---
  const stella::JsonSerializer serializer;
  stella::MultiWriterCircularBuffer buffer(name, stella::SharedMemoryMode::OpenOrCreate, 65536,
                                           block ? stella::WriteBehavior::Block : stella::WriteBehavior::Overwrite);
  for (long i = 0; i < count; ++i) {
    const nlohmann::json message = {
        {"Timestamp", now_iso8601()}, {"LogLevel", "Info"}, {"Text", "Application starting. (" + std::to_string(i) + ")"}};
    // Block mode waits here while the slowest reader is a full buffer behind.
    if (buffer.write(message, serializer) != stella::WriteResult::Ok) return 1;
  }
  std::cout << "wrote " << count << " messages to '" << name << "' ("
            << (buffer.behavior() == stella::WriteBehavior::Block ? "Block" : "Overwrite") << ")\n";
  return 0;
}

int read(const std::string& name, long wait_for) {
  // --- READER PROCESS ---
  const stella::JsonSerializer serializer;
  stella::LockFreeBufferReader reader(name);
  nlohmann::json log_entry;
  long n = 0;
  auto print = [&] {
    std::cout << "[" << log_entry["Timestamp"].get<std::string>() << "] " << log_entry["LogLevel"].get<std::string>()
              << ": " << log_entry["Text"].get<std::string>() << "\n";
    ++n;
  };
  if (wait_for <= 0) {
    while (reader.try_read(serializer, log_entry)) print();  // reads all available messages
  } else {
    while (n < wait_for && reader.read(serializer, log_entry, std::chrono::seconds(30)) == stella::ReadResult::Ok) print();
  }
  if (reader.messages_lost() > 0) std::cout << "(" << reader.messages_lost() << " older messages were overwritten)\n";
  return wait_for > 0 && n < wait_for ? 1 : 0;
}

long option(int argc, char** argv, const char* flag, long fallback) {
  for (int i = 0; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return std::atol(argv[i + 1]);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  const std::string name = argc > 2 ? argv[2] : "MyLogBuffer";
  bool block = false;
  for (int i = 3; i < argc; ++i) block = block || std::strcmp(argv[i], "--block") == 0;
  try {
    if (command == "write") return write(name, block, option(argc, argv, "--count", 1));
    if (command == "read") return read(name, option(argc, argv, "--wait", 0));
    if (command == "remove") return stella::MultiWriterCircularBuffer::remove(name) ? 0 : 1;
  } catch (const stella::Error& e) {
    std::cerr << e.what() << " [" << stella::to_string(e.code()) << "]\n";
    return 1;
  }
  std::cerr << "usage: ring_example write|read|remove NAME [--block] [--count N] [--wait N]\n";
  return 2;
}
