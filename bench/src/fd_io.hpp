// Small helpers for the kernel baselines: whole writes and reads on file descriptors that
// retry on EINTR and short transfers, and throw with errno's text otherwise.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <string>

namespace stella::bench {

[[noreturn]] void throw_errno(const std::string& what);
/// Writes every byte of the iovecs (a pipe keeps a write of <= PIPE_BUF bytes atomic).
void writev_all(int fd, iovec* iov, int count);
/// Reads at least `min` and at most `max` bytes; returns how many.
std::size_t read_at_least(int fd, std::byte* buffer, std::size_t min, std::size_t max);
/// Reads a small whole-number file such as /proc/sys/fs/mqueue/msgsize_max (-1 if absent).
long read_proc_long(const char* path);

}  // namespace stella::bench
