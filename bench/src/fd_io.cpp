#include "fd_io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace stella::bench {

void throw_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void writev_all(int fd, iovec* iov, int count) {
  while (count > 0) {
    const ssize_t n = ::writev(fd, iov, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("writev");
    }
    auto left = static_cast<std::size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
}

std::size_t read_at_least(int fd, std::byte* buffer, std::size_t min, std::size_t max) {
  std::size_t got = 0;
  while (got < min) {
    const ssize_t n = ::read(fd, buffer + got, max - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read");
    }
    if (n == 0) throw std::runtime_error("read: unexpected end of stream");
    got += static_cast<std::size_t>(n);
  }
  return got;
}

long read_proc_long(const char* path) {
  std::ifstream in(path);
  long value = -1;
  if (!(in >> value)) return -1;
  return value;
}

}  // namespace stella::bench
