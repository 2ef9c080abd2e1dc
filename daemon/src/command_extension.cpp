#include "stella/daemon/command_extension.hpp"

namespace stella::daemon {

namespace {
// A function-local static: registrations run from other objects' static initializers,
// whose order relative to this file's is unspecified.
std::vector<CommandExtensionFactory>& registry() {
  static std::vector<CommandExtensionFactory> factories;
  return factories;
}
}  // namespace

bool register_command_extension(CommandExtensionFactory factory) {
  registry().push_back(factory);
  return true;
}

std::vector<std::unique_ptr<CommandExtension>> make_command_extensions() {
  std::vector<std::unique_ptr<CommandExtension>> out;
  for (CommandExtensionFactory f : registry()) out.push_back(f());
  return out;
}

}  // namespace stella::daemon
