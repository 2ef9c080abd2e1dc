// Everything a Stella application needs, in one include. The optional serializers
// (stella/serializers/json.hpp, msgpack.hpp, protobuf.hpp) are not included: include the
// ones you use and link their targets (stella::json, stella::msgpack, stella::protobuf).
#pragma once

#include "stella/common/error.hpp"
#include "stella/serializer.hpp"
#include "stella/serializers/bytes.hpp"
#include "stella/serializers/trivially_copyable.hpp"
#include "stella/ring.hpp"
#include "stella/shared_memory.hpp"
#include "stella/typed.hpp"
#include "stella/version.hpp"
