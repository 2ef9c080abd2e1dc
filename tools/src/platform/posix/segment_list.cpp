// POSIX: a segment NAME is the file stella.NAME in the segment directory: /dev/shm (where
// shm_open puts /stella.NAME), or $STELLA_SEGMENT_DIR when set, as for the library.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "inspect.hpp"
#include "stella/common/names.hpp"

namespace stella::tools {

std::vector<std::string> list_segment_names() {
  constexpr std::string_view prefix = "stella.";
  std::vector<std::string> names;
  std::error_code ec;
  const char* dir = std::getenv("STELLA_SEGMENT_DIR");
  const std::filesystem::path where = dir != nullptr && *dir == '/' ? dir : "/dev/shm";
  for (const auto& entry : std::filesystem::directory_iterator(where, ec)) {
    const std::string file = entry.path().filename().string();
    if (file.size() <= prefix.size() || file.compare(0, prefix.size(), prefix) != 0) continue;
    std::string name = file.substr(prefix.size());
    // Lock files and the like that are not segment names are not segments.
    if (!segment_name_problem(name).empty()) continue;
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace stella::tools
