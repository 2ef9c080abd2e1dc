# Optional serializer components: header-only INTERFACE targets, each defined when its
# package is found (scripts/install-deps.sh installs all three, so CI builds all three).
#   stella::json     -> stella/serializers/json.hpp     (nlohmann-json)
#   stella::msgpack  -> stella/serializers/msgpack.hpp  (msgpack-cxx)
#   stella::protobuf -> stella/serializers/protobuf.hpp (libprotobuf; protoc for tests/examples)
# They are build-tree targets only: an installed consumer includes the same (installed)
# headers and links the dependency itself (see the README, "Installing and consuming").
include_guard(GLOBAL)

option(STELLA_WITH_JSON "Build the JSON serializer component when nlohmann-json is found" ON)
option(STELLA_WITH_MSGPACK "Build the MessagePack serializer component when msgpack-cxx is found" ON)
option(STELLA_WITH_PROTOBUF "Build the Protobuf serializer component when libprotobuf is found" ON)

if(STELLA_WITH_JSON)
  find_package(nlohmann_json 3.9 QUIET)
  if(nlohmann_json_FOUND)
    add_library(stella_json INTERFACE)
    add_library(stella::json ALIAS stella_json)
    target_link_libraries(stella_json INTERFACE stella::client nlohmann_json::nlohmann_json)
  endif()
endif()

if(STELLA_WITH_MSGPACK)
  find_package(msgpack QUIET)
  if(msgpack_FOUND AND TARGET msgpackc-cxx)
    add_library(stella_msgpack INTERFACE)
    add_library(stella::msgpack ALIAS stella_msgpack)
    # No Boost: the serializer needs none of msgpack-cxx's Boost adaptors.
    target_link_libraries(stella_msgpack INTERFACE stella::client msgpackc-cxx)
    target_compile_definitions(stella_msgpack INTERFACE MSGPACK_NO_BOOST)
  endif()
endif()

if(STELLA_WITH_PROTOBUF)
  find_package(Protobuf QUIET)
  if(Protobuf_FOUND AND TARGET protobuf::libprotobuf)
    add_library(stella_protobuf INTERFACE)
    add_library(stella::protobuf ALIAS stella_protobuf)
    target_link_libraries(stella_protobuf INTERFACE stella::client protobuf::libprotobuf)
  endif()
endif()

set(_stella_components "")
foreach(_c json msgpack protobuf)
  if(TARGET stella_${_c})
    list(APPEND _stella_components ${_c})
  endif()
endforeach()
message(STATUS "Stella serializer components: ${_stella_components}")
