// Writes a value to a fresh segment, reads it back, removes the segment, prints "ok".
#include <unistd.h>

#include <iostream>
#include <string>

#include <stella/stella.hpp>

int main() {
  const std::string name = "consumer-" + std::to_string(::getpid());
  try {
    stella::SharedMemory shm(name, stella::SharedMemoryMode::Create, 64);
    shm.write(std::string("installed"), stella::BytesSerializer{});
    const auto back = shm.read<std::string>(stella::BytesSerializer{});
    shm.remove();
    if (back != "installed") {
      std::cerr << "read back '" << back << "'\n";
      return 1;
    }
  } catch (const stella::Error& e) {
    stella::SharedMemory::remove(name);
    std::cerr << e.what() << '\n';
    return 1;
  }
  std::cout << "ok stella " << stella::version() << '\n';
  return 0;
}
