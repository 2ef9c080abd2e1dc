// The other process of the client tests (started with test::Child, i.e. fork/exec).
//
//   client_helper write NAME KIND                 write KIND's canonical value; exit 0
//   client_helper read NAME KIND                  exit 0 if the value is KIND's canonical value, 3 if not
//   client_helper hold-lock NAME FD               claim a write, half-fill it, print "locked" on FD, wait to be killed
//   client_helper rewrite NAME WRITER_ID FD       rewrite checksummed records forever; "writing" on FD after the first
//   client_helper check-reads NAME MIN_READS MIN_DISTINCT FD
//       read until MIN_READS reads and MIN_DISTINCT distinct values were seen, verifying each
//       checksum and that each writer's counter never goes back; reports "ok reads=R distinct=D"
//       (exit 0) or "torn ..." (exit 2) on FD.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "values.hpp"

using namespace stella;

namespace {

int usage() {
  std::fprintf(stderr, "client_helper: bad arguments\n");
  return 64;
}

int hold_lock(const std::string& name, int fd) {
  SharedMemory shm(name, SharedMemoryMode::Open);
  auto claim = shm.claim(shm.capacity());
  // Half a value lands in the slot: what a writer killed mid-copy leaves behind.
  auto data = claim.data();
  for (std::size_t i = 0; i < data.size() / 2; ++i) data[i] = std::byte{0xEE};
  test::signal_ready(fd, "locked");
  for (;;) ::pause();  // killed by the test with SIGKILL, the lock still held
}

int rewrite(const std::string& name, std::uint32_t writer, int fd) {
  SharedMemory shm(name, SharedMemoryMode::Open);
  std::vector<std::byte> record;
  for (std::uint64_t counter = 1;; ++counter) {
    test::make_record(writer, counter, record);
    shm.write_bytes(record);
    if (counter == 1) test::signal_ready(fd, "writing");
  }
}

int check_reads(const std::string& name, long min_reads, long min_distinct, int fd) {
  const SharedMemory shm = SharedMemory::open_read_only(name);
  std::vector<std::byte> value;
  std::map<std::uint32_t, std::uint64_t> last_counter;  // per writer
  long reads = 0;
  long distinct = 0;
  test::RecordId previous{0, 0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (reads < min_reads || distinct < min_distinct) {
    if (!shm.try_read_bytes_into(value)) {
      test::signal_ready(fd, "torn: the segment reads as empty after a write");
      return 2;
    }
    ++reads;
    const auto id = test::check_record(value);
    if (!id) {
      test::signal_ready(fd, "torn: read " + std::to_string(reads) + " has a bad checksum or size (" +
                                 std::to_string(value.size()) + " bytes)");
      return 2;
    }
    auto& last = last_counter[id->writer];
    if (id->counter < last) {
      test::signal_ready(fd, "torn: writer " + std::to_string(id->writer) + " went back from " +
                                 std::to_string(last) + " to " + std::to_string(id->counter));
      return 2;
    }
    last = id->counter;
    if (id->writer != previous.writer || id->counter != previous.counter) ++distinct;
    previous = *id;
    if ((reads & 1023) == 0 && std::chrono::steady_clock::now() > deadline) {
      test::signal_ready(fd, "timeout: reads=" + std::to_string(reads) + " distinct=" + std::to_string(distinct));
      return 4;
    }
  }
  test::signal_ready(fd, "ok reads=" + std::to_string(reads) + " distinct=" + std::to_string(distinct));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 2) return usage();
  const std::string& command = args[0];
  const std::string& name = args[1];
  try {
    if (command == "write" && args.size() == 3) {
      SharedMemory shm(name, SharedMemoryMode::Open);
      return test::write_canonical(shm, args[2]) ? 0 : usage();
    }
    if (command == "read" && args.size() == 3) {
      const SharedMemory shm(name, SharedMemoryMode::Open);
      if (test::read_is_canonical(shm, args[2])) return 0;
      std::fprintf(stderr, "client_helper: %s value differs from the canonical one\n", args[2].c_str());
      return 3;
    }
    if (command == "hold-lock" && args.size() == 3) return hold_lock(name, std::stoi(args[2]));
    if (command == "rewrite" && args.size() == 4) {
      return rewrite(name, static_cast<std::uint32_t>(std::stoul(args[2])), std::stoi(args[3]));
    }
    if (command == "check-reads" && args.size() == 5) {
      return check_reads(name, std::stol(args[2]), std::stol(args[3]), std::stoi(args[4]));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "client_helper %s: %s\n", command.c_str(), e.what());
    return 1;
  }
  return usage();
}
