// The platform-independent part of liveness.hpp; the tokens themselves are in
// common/platform/<os>/liveness.cpp.
#include "stella/common/platform/liveness.hpp"

namespace stella::platform {

std::string_view to_string(Liveness liveness) noexcept {
  switch (liveness) {
    case Liveness::alive: return "alive";
    case Liveness::dead: return "dead";
    case Liveness::unknown: return "unknown";
  }
  return "?";
}

}  // namespace stella::platform
