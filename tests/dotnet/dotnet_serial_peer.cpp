// The C++ reader of the .NET serializer interop test: reads COUNT records that C# wrote with
// System.Text.Json, MessagePack-CSharp or protobuf-net (InteropRecord in
// bindings/dotnet/Stella.Peer/Messages.cs) and decodes them with Stella's C++ serializers
// (nlohmann-json, msgpack-cxx, Google protobuf), checking every field.
//
//   dotnet_serial_peer json|msgpack|protobuf NAME COUNT   prints "ready" once its reader is open,
//                                                         then "ok COUNT" if all COUNT matched
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "dotnet_interop.pb.h"
#include "stella/serializers/json.hpp"
#include "stella/serializers/msgpack.hpp"
#include "stella/serializers/protobuf.hpp"
#include "stella/stella.hpp"

namespace {

struct Record {
  std::string name;
  std::int64_t id = 0;
  std::vector<double> values;
  MSGPACK_DEFINE(name, id, values)  // an array [name, id, values], as MessagePack-CSharp's [Key(0..2)]
};

bool matches(const Record& r, std::int64_t i) {
  const auto d = static_cast<double>(i);
  return r.name == "msg-" + std::to_string(i) && r.id == i && r.values == std::vector<double>{d * 0.5, d + 0.25, -d};
}

template <class Decode>
int read_all(const std::string& name, std::int64_t count, Decode decode) {
  stella::LockFreeBufferReader reader(name);
  std::cout << "ready" << std::endl;
  std::vector<std::byte> msg;
  for (std::int64_t i = 0; i < count; ++i) {
    if (reader.read_bytes(msg, std::chrono::seconds(30)) != stella::ReadResult::Ok) {
      std::cerr << "dotnet_serial_peer: record " << i << " did not come\n";
      return 1;
    }
    const Record r = decode(std::span<const std::byte>(msg));
    if (!matches(r, i)) {
      std::cerr << "dotnet_serial_peer: record " << i << " is wrong: name '" << r.name << "', id " << r.id << ", "
                << r.values.size() << " values\n";
      return 1;
    }
  }
  std::cout << "ok " << count << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: dotnet_serial_peer json|msgpack|protobuf NAME COUNT\n";
    return 2;
  }
  const std::string format = argv[1];
  const std::string name = argv[2];
  const std::int64_t count = std::strtoll(argv[3], nullptr, 10);
  try {
    if (format == "json") {
      return read_all(name, count, [](std::span<const std::byte> in) {
        nlohmann::json j;
        stella::JsonSerializer{}.deserialize(in, j);  // System.Text.Json's default names: PascalCase
        return Record{j.at("Name").get<std::string>(), j.at("Id").get<std::int64_t>(),
                      j.at("Values").get<std::vector<double>>()};
      });
    }
    if (format == "msgpack") {
      return read_all(name, count, [](std::span<const std::byte> in) {
        Record r;
        stella::MessagePackSerializer{}.deserialize(in, r);
        return r;
      });
    }
    if (format == "protobuf") {
      return read_all(name, count, [](std::span<const std::byte> in) {
        stella::dotnet::InteropRecord p;
        stella::ProtobufSerializer{}.deserialize(in, p);
        return Record{p.name(), p.id(), std::vector<double>(p.values().begin(), p.values().end())};
      });
    }
  } catch (const stella::Error& e) {
    std::cerr << "dotnet_serial_peer: " << e.what() << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "dotnet_serial_peer: " << format << ": " << e.what() << '\n';
    return 1;
  }
  std::cerr << "dotnet_serial_peer: unknown format '" << format << "' (json, msgpack, protobuf)\n";
  return 2;
}
