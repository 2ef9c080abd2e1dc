// Subcommands that a part built above the daemon adds to stellad, so that the dependency
// runs one way: windows-service/ depends on daemon/ and registers its `service ...`
// subcommands here; daemon/ knows nothing of it. A registering part is linked into the
// stellad executable as an object library (so its static registration is always kept).
#pragma once

#include <memory>
#include <optional>
#include <vector>

namespace CLI {
class App;
}

namespace stella::daemon {

class CommandExtension {
 public:
  virtual ~CommandExtension() = default;
  /// Adds the extension's subcommands to stellad's command line (before parsing).
  virtual void add_to(CLI::App& app) = 0;
  /// After parsing: the exit status of the extension's subcommand that was given, if any.
  [[nodiscard]] virtual std::optional<int> run() = 0;
};

using CommandExtensionFactory = std::unique_ptr<CommandExtension> (*)();

/// Registers `factory`; call it from a namespace-scope initializer of the registering part.
/// Returns true, so that `const bool registered = register_command_extension(...)` reads.
bool register_command_extension(CommandExtensionFactory factory);

/// One instance of every registered extension, in registration order (stellad's main).
[[nodiscard]] std::vector<std::unique_ptr<CommandExtension>> make_command_extensions();

}  // namespace stella::daemon
