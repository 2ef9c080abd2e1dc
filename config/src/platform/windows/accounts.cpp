// Windows has no POSIX users and groups: `owner` and `group` are refused there with a
// message, until the Windows service issue maps them to SIDs. (Not compiled or tested on
// Windows yet.)
#include "detail.hpp"

namespace stella::config::detail {

AccountLookup lookup_group(const std::string&) {
  return {std::nullopt, "group names are not supported on Windows"};
}

AccountLookup lookup_user(const std::string&) {
  return {std::nullopt, "user names are not supported on Windows"};
}

}  // namespace stella::config::detail
