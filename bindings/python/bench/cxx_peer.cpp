// The C++ side of bindings/python/bench/bench.py: the same measurements through the C++
// API, so that the README can say what Python costs per message compared with C++.
//
//   stella_py_bench_cxx local NAME SIZE COUNT   one process: ns per write, per try_read
//   stella_py_bench_cxx write NAME SIZE COUNT   writes COUNT messages into an existing ring
//   stella_py_bench_cxx read NAME COUNT         reads COUNT messages (a reader opens first,
//                                               prints "ready", then reads), prints seconds
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "stella/stella.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

int local(const std::string& name, std::size_t size, long count) {
  stella::MultiWriterCircularBuffer w(name, stella::SharedMemoryMode::Open);
  stella::LockFreeBufferReader r(name);
  std::vector<std::byte> msg(size, std::byte{7});
  std::vector<std::byte> out;
  double write_ns = 0;
  double read_ns = 0;
  const long batch = static_cast<long>(w.capacity() / 2 / (size + 16));  // fits without overwriting
  for (long done = 0; done < count; done += batch) {
    auto t0 = clock_type::now();
    for (long i = 0; i < batch; ++i) (void)w.write_bytes(msg);
    write_ns += seconds_since(t0) * 1e9;
    t0 = clock_type::now();
    for (long i = 0; i < batch; ++i) {
      if (!r.try_read_bytes(out)) return 1;
    }
    read_ns += seconds_since(t0) * 1e9;
  }
  const double n = static_cast<double>(count / batch * batch);
  std::printf("write_ns=%.1f try_read_ns=%.1f\n", write_ns / n, read_ns / n);
  return 0;
}

int write(const std::string& name, std::size_t size, long count) {
  stella::MultiWriterCircularBuffer w(name, stella::SharedMemoryMode::Open);
  std::vector<std::byte> msg(size, std::byte{7});
  for (long i = 0; i < count; ++i) {
    if (w.write_bytes(msg, std::chrono::seconds(30)) != stella::WriteResult::Ok) return 1;
  }
  return 0;
}

int read(const std::string& name, long count) {
  stella::LockFreeBufferReader r(name);
  std::printf("ready\n");
  std::fflush(stdout);
  std::vector<std::byte> out;
  if (r.read_bytes(out, std::chrono::seconds(30)) != stella::ReadResult::Ok) return 1;
  const auto t0 = clock_type::now();  // from the first message on
  for (long i = 1; i < count; ++i) {
    if (r.read_bytes(out, std::chrono::seconds(30)) != stella::ReadResult::Ok) return 1;
  }
  std::printf("seconds=%.6f\n", seconds_since(t0));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 5 && std::strcmp(argv[1], "local") == 0) return local(argv[2], std::strtoul(argv[3], nullptr, 10), std::atol(argv[4]));
    if (argc == 5 && std::strcmp(argv[1], "write") == 0) return write(argv[2], std::strtoul(argv[3], nullptr, 10), std::atol(argv[4]));
    if (argc == 4 && std::strcmp(argv[1], "read") == 0) return read(argv[2], std::atol(argv[3]));
  } catch (const stella::Error& e) {
    std::fprintf(stderr, "stella_py_bench_cxx: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: stella_py_bench_cxx local NAME SIZE COUNT | write NAME SIZE COUNT | read NAME COUNT\n");
  return 2;
}
