// Fuzz target: the client side of the health-socket protocol (issue 7).
//
// decode_response() is what `stellad status` runs on whatever answers on the socket (a
// daemon of another version, or anything else listening there). For any bytes it must
// return a Response or throw ProtocolError naming what is wrong: no other exception, no
// crash, no undefined behaviour. A decoded status report must render as a table.
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
    const protocol::Response response = protocol::decode_response(bytes);
    if (response.status) {
      (void)protocol::render_table(*response.status);
      (void)protocol::status_json(*response.status, true);
    }
  } catch (const protocol::ProtocolError&) {
  } catch (const std::bad_alloc&) {
  } catch (...) {
    std::abort();  // decode_response promises ProtocolError only
  }
  return 0;
}
