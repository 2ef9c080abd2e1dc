// Stella's ring as benchmark transports. Filled in once client/include/stella/ring.hpp exists.
#include "suite.hpp"

namespace stella::bench {

std::vector<TransportInfo> stella_transports() { return {}; }

}  // namespace stella::bench
