// The hostile process of tests/adversary: it opens a segment's object the way any process
// with access to it can, and damages it on purpose.
//   hostile write NAME OFFSET VALUE WIDTH   stores VALUE (decimal or 0x hex) as a WIDTH-byte
//                                           (1, 2, 4 or 8) little-endian word at OFFSET, via a
//                                           read-write mapping of the whole object
//   hostile random NAME SEED COUNT FROM TO  stores COUNT random 8-byte words at random aligned
//                                           offsets in [FROM, TO), from SEED
//   hostile truncate NAME SIZE              ftruncate through a read-write open
//   hostile reader-attack NAME              opens the blob as a reader does (read-only) and
//                                           tries to write through that mapping's descriptor,
//                                           to truncate it and to map it writable; prints
//                                           "RESULT write=<errno name> truncate=... map_writable=..."
// Exit 0 when done (or when every reader attack failed as it must), 2 on usage errors,
// 3 when the object cannot be opened.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "stella/common/error.hpp"
#include "stella/common/platform/shm.hpp"
#include "stella/shared_memory.hpp"

using stella::platform::Access;
using stella::platform::MappedObject;

namespace {

std::uint64_t number(const char* s) { return std::strtoull(s, nullptr, 0); }

void store(std::byte* at, std::uint64_t value, unsigned width) {
  // Atomic stores: honest processes read these words concurrently.
  switch (width) {
    case 1: std::atomic_ref<std::uint8_t>(*reinterpret_cast<std::uint8_t*>(at)).store(static_cast<std::uint8_t>(value)); break;
    case 2: std::atomic_ref<std::uint16_t>(*reinterpret_cast<std::uint16_t*>(at)).store(static_cast<std::uint16_t>(value)); break;
    case 4: std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(at)).store(static_cast<std::uint32_t>(value)); break;
    default: std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(at)).store(value); break;
  }
}

const char* errno_name(int err) {
  switch (err) {
    case 0: return "none";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    default: return "other";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: hostile write|random|truncate|reader-attack NAME ...\n");
    return 2;
  }
  const std::string cmd = argv[1];
  const std::string name = argv[2];
  try {
    if (cmd == "write" && argc == 6) {
      MappedObject obj = MappedObject::open(name, Access::read_write);
      const std::uint64_t offset = number(argv[3]);
      const unsigned width = static_cast<unsigned>(number(argv[5]));
      if (width != 1 && width != 2 && width != 4 && width != 8) return 2;
      if (offset % width != 0 || offset + width > obj.size()) return 2;
      store(static_cast<std::byte*>(obj.data()) + offset, number(argv[4]), width);
      return 0;
    }
    if (cmd == "random" && argc == 7) {
      MappedObject obj = MappedObject::open(name, Access::read_write);
      std::mt19937_64 rng(number(argv[3]));
      const std::uint64_t count = number(argv[4]);
      const std::uint64_t from = number(argv[5]) / 8 * 8;
      const std::uint64_t to = std::min<std::uint64_t>(number(argv[6]), obj.size()) / 8 * 8;
      if (to <= from) return 2;
      for (std::uint64_t i = 0; i < count; ++i) {
        const std::uint64_t offset = from + rng() % ((to - from) / 8) * 8;
        store(static_cast<std::byte*>(obj.data()) + offset, rng(), 8);
      }
      return 0;
    }
    if (cmd == "truncate" && argc == 4) {
      // What MappedObject::open(read_write) opens; it keeps its descriptor to itself.
      const std::string file = MappedObject::file_path(name);
      const int fd = ::open(file.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return 3;
      const int rc = ::ftruncate(fd, static_cast<off_t>(number(argv[3])));
      ::close(fd);
      return rc == 0 ? 0 : 4;
    }
    if (cmd == "reader-attack" && argc == 3) {
      // What a process that may only read can do: open as readers open (the public API,
      // read-only), then the same object with O_RDONLY as that API does.
      stella::SharedMemory reader = stella::SharedMemory::open_read_only(name);
      const std::string file = MappedObject::file_path(name);
      const int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return 3;
      const char byte = 'x';
      const int write_err = ::pwrite(fd, &byte, 1, 0) < 0 ? errno : 0;
      const int truncate_err = ::ftruncate(fd, 4096) != 0 ? errno : 0;
      void* rw = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      const int map_err = rw == MAP_FAILED ? errno : 0;
      if (rw != MAP_FAILED) ::munmap(rw, 4096);
      ::close(fd);
      std::printf("RESULT write=%s truncate=%s map_writable=%s\n", errno_name(write_err), errno_name(truncate_err),
                  errno_name(map_err));
      std::fflush(stdout);
      return write_err != 0 && truncate_err != 0 && map_err != 0 ? 0 : 1;
    }
  } catch (const stella::Error& e) {
    std::fprintf(stderr, "hostile: %s\n", e.what());
    return 3;
  }
  std::fprintf(stderr, "hostile: bad arguments\n");
  return 2;
}
