// The C++ side of the .NET serializer interop test: records that C# writes with
// System.Text.Json, MessagePack-CSharp or protobuf-net (InteropRecord in
// bindings/dotnet/Stella.Peer/Messages.cs), decoded here with Stella's C++ serializers
// (nlohmann-json, msgpack-cxx, Google protobuf), every field checked; and the same records
// encoded here for C# to decode.
//
//   dotnet_serial_peer read json|msgpack|protobuf NAME COUNT   prints "ready" once its reader is
//                                                              open, then "ok COUNT" if all matched
//   dotnet_serial_peer write json|msgpack|protobuf NAME COUNT  writes records 0..COUNT-1 to the
//                                                              existing ring NAME (waits for space)
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

// InteropRecord.For(i) of the C# side.
Record record_for(std::int64_t i) {
  const auto d = static_cast<double>(i);
  return Record{"msg-" + std::to_string(i), i, {d * 0.5, d + 0.25, -d}};
}

bool matches(const Record& r, std::int64_t i) {
  const Record want = record_for(i);
  return r.name == want.name && r.id == want.id && r.values == want.values;
}

template <class Encode>
int write_all(const std::string& name, std::int64_t count, Encode encode) {
  stella::MultiWriterCircularBuffer writer(name, stella::SharedMemoryMode::Open);
  std::vector<std::byte> bytes;
  for (std::int64_t i = 0; i < count; ++i) {
    encode(record_for(i), bytes);
    if (writer.write_bytes(bytes, std::chrono::seconds(30)) != stella::WriteResult::Ok) {
      std::cerr << "dotnet_serial_peer: write " << i << " timed out\n";
      return 1;
    }
  }
  return 0;
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
  const std::string verb = argc == 5 ? argv[1] : "";
  if (verb != "read" && verb != "write") {
    std::cerr << "usage: dotnet_serial_peer read|write json|msgpack|protobuf NAME COUNT\n";
    return 2;
  }
  const std::string format = argv[2];
  const std::string name = argv[3];
  const std::int64_t count = std::strtoll(argv[4], nullptr, 10);
  const bool read = verb == "read";
  try {
    if (format == "json") {
      if (!read) {
        return write_all(name, count, [](const Record& r, std::vector<std::byte>& out) {
          stella::JsonSerializer{}.serialize(nlohmann::json{{"Name", r.name}, {"Id", r.id}, {"Values", r.values}}, out);
        });
      }
      return read_all(name, count, [](std::span<const std::byte> in) {
        nlohmann::json j;
        stella::JsonSerializer{}.deserialize(in, j);  // System.Text.Json's default names: PascalCase
        return Record{j.at("Name").get<std::string>(), j.at("Id").get<std::int64_t>(),
                      j.at("Values").get<std::vector<double>>()};
      });
    }
    if (format == "msgpack") {
      if (!read) {
        return write_all(name, count,
                         [](const Record& r, std::vector<std::byte>& out) { stella::MessagePackSerializer{}.serialize(r, out); });
      }
      return read_all(name, count, [](std::span<const std::byte> in) {
        Record r;
        stella::MessagePackSerializer{}.deserialize(in, r);
        return r;
      });
    }
    if (format == "protobuf") {
      if (!read) {
        return write_all(name, count, [](const Record& r, std::vector<std::byte>& out) {
          stella::dotnet::InteropRecord p;
          p.set_name(r.name);
          p.set_id(r.id);
          for (const double v : r.values) p.add_values(v);
          stella::ProtobufSerializer{}.serialize(p, out);
        });
      }
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
