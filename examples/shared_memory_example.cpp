// The original README's SharedMemory example, in C++.
//
//   shared_memory_example write [NAME]   process A: creates the segment and writes a JSON value
//   shared_memory_example read [NAME]    process B: opens it, reads the value and prints its message
//   shared_memory_example remove [NAME]  removes the segment
//
// NAME defaults to "MySharedData", as in the original.
#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "stella/serializers/json.hpp"
#include "stella/stella.hpp"

namespace {

int write(const std::string& name) {
  // Process A: creates and writes data.
  const stella::JsonSerializer serializer;
  stella::SharedMemory shm(name, stella::SharedMemoryMode::Create, 1024);
  const nlohmann::json my_data = {{"Message", "Hello from Process A"}, {"Value", 42}};
  shm.write(my_data, serializer);
  std::cout << "wrote " << my_data.dump() << " to '" << name << "'\n";
  return 0;
}

int read(const std::string& name) {
  // Process B: opens and reads data. nlohmann::json plays the role of C#'s `dynamic`.
  const stella::JsonSerializer serializer;
  const stella::SharedMemory shm(name, stella::SharedMemoryMode::Open);
  const auto received_data = shm.read<nlohmann::json>(serializer);
  std::cout << received_data["Message"].get<std::string>() << '\n';  // "Hello from Process A"
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  const std::string name = argc > 2 ? argv[2] : "MySharedData";
  try {
    if (command == "write") return write(name);
    if (command == "read") return read(name);
    if (command == "remove") return stella::SharedMemory::remove(name) ? 0 : 1;
  } catch (const stella::Error& e) {
    std::cerr << e.what() << " [" << stella::to_string(e.code()) << "]\n";
    return 1;
  }
  std::cerr << "usage: shared_memory_example write|read|remove [NAME]\n";
  return 2;
}
