// The C++ half of the .NET binding's per-message benchmark: the same loop as
// `Stella.Peer bench` (bindings/dotnet/Stella.Peer/Program.cs) through the C++ API, so the
// README can give C#'s per-message cost against C++'s.
//
//   dotnet_bench_cxx NAME COUNT SIZE
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "stella/stella.h"
#include "stella/stella.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: dotnet_bench_cxx NAME COUNT SIZE\n");
    return 2;
  }
  const std::string name = argv[1];
  const long count = std::strtol(argv[2], nullptr, 10);
  const std::size_t size = std::strtoul(argv[3], nullptr, 10);
  try {
    stella::MultiWriterCircularBuffer::remove(name);
    stella::MultiWriterCircularBuffer w(name, stella::SharedMemoryMode::Create, std::size_t{1} << 22);
    stella::LockFreeBufferReader r(name);
    std::vector<std::byte> msg(size), buf;
    constexpr long batch = 1000;
    const auto start = std::chrono::steady_clock::now();
    for (long done = 0; done < count; done += batch) {
      for (long k = 0; k < batch; ++k) (void)w.write_bytes(std::span<const std::byte>(msg));
      for (long k = 0; k < batch; ++k) (void)r.try_read_bytes(buf);
    }
    const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
    std::printf("C++ raw %zu B: %.1f ns/message (write+read)\n", size, took.count() / static_cast<double>(count));

    // The same loop through the C API (stella.h), which the .NET binding calls: the
    // difference to the line above is the C layer's, the rest of .NET's cost is P/Invoke's.
    stella_writer* cw = nullptr;
    stella_reader* cr = nullptr;
    if (stella_writer_open(name.c_str(), STELLA_OPEN, 0, STELLA_OVERWRITE, nullptr, &cw) != STELLA_OK ||
        stella_reader_open(name.c_str(), nullptr, &cr) != STELLA_OK) {
      std::fprintf(stderr, "dotnet_bench_cxx: %s\n", stella_last_error_message());
      return 1;
    }
    std::vector<std::byte> out(size);
    const auto c_start = std::chrono::steady_clock::now();
    for (long done = 0; done < count; done += batch) {
      for (long k = 0; k < batch; ++k) (void)stella_writer_write(cw, msg.data(), size, STELLA_WAIT_FOREVER);
      std::size_t n = 0;
      for (long k = 0; k < batch; ++k) (void)stella_reader_try_read(cr, out.data(), out.size(), &n);
    }
    const std::chrono::duration<double, std::nano> c_took = std::chrono::steady_clock::now() - c_start;
    std::printf("C API raw %zu B: %.1f ns/message (write+read)\n", size, c_took.count() / static_cast<double>(count));
    stella_reader_close(cr);
    stella_writer_close(cw);
    stella::MultiWriterCircularBuffer::remove(name);
  } catch (const stella::Error& e) {
    std::fprintf(stderr, "dotnet_bench_cxx: %s\n", e.what());
    return 1;
  }
  return 0;
}
