// The C++ side of the C API's cross-language test: the same checksummed messages
// (capi_messages.h), through the C++ API, so that capi_test shows a C++ writer and a C
// reader (and a C writer and a C++ reader) sharing one ring.
//
//   capi_cxx_peer write NAME WRITER COUNT   writes COUNT messages (Block ring: waits for space)
//   capi_cxx_peer read NAME COUNT READY_FD  opens a reader, writes "ready\n" to READY_FD, reads
//                                           COUNT messages of writer 0 in order, checking each
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "capi_messages.h"
#include "stella/stella.hpp"

namespace {

int write_messages(const std::string& name, std::uint32_t writer_id, std::uint32_t count) {
  stella::MultiWriterCircularBuffer w(name, stella::SharedMemoryMode::Open);
  std::uint8_t buf[CAPI_MAX_MESSAGE];
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t n = capi_make_message(writer_id, i, buf);
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(buf), n);
    if (w.write_bytes(bytes, std::chrono::seconds(30)) != stella::WriteResult::Ok) {
      std::cerr << "capi_cxx_peer: write " << i << " timed out\n";
      return 1;
    }
  }
  return 0;
}

int read_messages(const std::string& name, std::uint32_t count, int ready_fd) {
  stella::LockFreeBufferReader r(name);
  if (::write(ready_fd, "ready\n", 6) != 6) return 1;
  ::close(ready_fd);
  std::vector<std::byte> msg;
  for (std::uint32_t expected = 0; expected < count; ++expected) {
    if (r.read_bytes(msg, std::chrono::seconds(30)) != stella::ReadResult::Ok) {
      std::cerr << "capi_cxx_peer: read " << expected << " did not succeed\n";
      return 1;
    }
    std::uint32_t w = 0, i = 0;
    if (!capi_check_message(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size(), &w, &i) || w != 0 ||
        i != expected) {
      std::cerr << "capi_cxx_peer: message " << expected << " is wrong (writer " << w << ", index " << i << ")\n";
      return 1;
    }
  }
  return r.messages_lost() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 5 && std::strcmp(argv[1], "write") == 0) {
      return write_messages(argv[2], static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10)),
                            static_cast<std::uint32_t>(std::strtoul(argv[4], nullptr, 10)));
    }
    if (argc == 5 && std::strcmp(argv[1], "read") == 0) {
      return read_messages(argv[2], static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10)), std::atoi(argv[4]));
    }
  } catch (const stella::Error& e) {
    std::cerr << "capi_cxx_peer: " << e.what() << '\n';
    return 1;
  }
  std::cerr << "usage: capi_cxx_peer write NAME WRITER COUNT | read NAME COUNT READY_FD\n";
  return 2;
}
