// Linux: a shared-memory object shows in /proc/<pid>/maps as <segment dir>/stella.<name>
// (with " (deleted)" once unlinked). Processes whose maps we may not read are not counted:
// stellad normally runs as the segments' owner or as root, which may read them all.
#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "platform/mappers.hpp"
#include "stella/common/platform/shm.hpp"

namespace stella::daemon::sys {

namespace {

bool maps_object(const std::string& maps_path, const std::string& object_path) {
  std::ifstream in(maps_path);
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t at = line.find(object_path);
    if (at == std::string::npos) continue;
    const std::string rest = line.substr(at + object_path.size());
    if (rest.empty() || rest == " (deleted)") return true;
  }
  return false;
}

}  // namespace

std::size_t processes_mapping(std::string_view name) {
  const std::string object_path = stella::platform::MappedObject::file_path(name);
  const long self = static_cast<long>(::getpid());
  std::size_t count = 0;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return 0;
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid == self) continue;
    if (maps_object("/proc/" + std::string(entry->d_name) + "/maps", object_path)) ++count;
  }
  ::closedir(proc);
  return count;
}

}  // namespace stella::daemon::sys
