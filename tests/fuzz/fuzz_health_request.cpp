// Fuzz target: the health-socket request parser (issue 7).
//
// parse_request() is what stellad runs on the bytes a client sends: it is documented as
// total (a Request or a RequestError for any bytes, never an exception but bad_alloc).
// A request it accepts must round-trip through format_request, and an error must name a
// code and a message. (The other direction, decode_response, is fuzz_health_response.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string_view>

#include "stella/daemon/protocol.hpp"

namespace protocol = stella::daemon::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const protocol::ParseResult r = protocol::parse_request(bytes);
    if (r.ok()) {
      if (size > protocol::kMaxRequestBytes) std::abort();  // accepted more than the bound
      const protocol::ParseResult again = protocol::parse_request(protocol::format_request(r.request->command,
                                                                                            r.request->version));
      if (!again.ok() || !(*again.request == *r.request)) std::abort();
      (void)protocol::encode_pong(r.request->version);
    } else {
      if (r.error.message.empty() || protocol::to_string(r.error.code).empty()) std::abort();
      (void)protocol::encode_error(r.error);
    }
  } catch (const std::bad_alloc&) {
  } catch (...) {
    std::abort();  // parse_request is documented as total
  }
  return 0;
}
