// Windows: not counted (0). Windows has no cheap way to list the processes that map a
// named section, and none is needed: a file mapping lives while any process holds it, so
// when stellad lets go of a blob segment removed from the config, the segment stays for
// as long as a client still has it open and vanishes with the last one (docs/windows.md).
#include "platform/mappers.hpp"

namespace stella::daemon::sys {

std::size_t processes_mapping(std::string_view) { return 0; }

}  // namespace stella::daemon::sys
