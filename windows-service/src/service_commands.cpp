// `stellad service install --config F [--name N] [--manual] | uninstall | start | stop |
// status | run`: the Service Control Manager wrapper's subcommands, added to stellad's
// command line through the daemon's extension point (stella/daemon/command_extension.hpp),
// so that daemon/ does not depend on windows-service/.
#include <CLI/CLI.hpp>
#include <iostream>

#include "stella/daemon/command_extension.hpp"
#include "stella/windows_service/service.hpp"

namespace stella::windows_service {

namespace {

class ServiceCommands final : public daemon::CommandExtension {
 public:
  void add_to(CLI::App& app) override {
    service_ = app.add_subcommand("service", "stellad as a Windows service (Service Control Manager)");
    service_->require_subcommand(1);
    service_->add_option("--name", name_, "The service name")->capture_default_str();
    install_ = service_->add_subcommand("install", "Register the service: this stellad.exe, `service run --config FILE`");
    install_->add_option("-c,--config", config_path_, "The TOML config file")->required();
    install_->add_flag("--manual", manual_, "Start on demand instead of at boot");
    uninstall_ = service_->add_subcommand("uninstall", "Stop the service if it runs, then delete it");
    start_ = service_->add_subcommand("start", "Start the service and wait until it runs");
    stop_ = service_->add_subcommand("stop", "Stop the service and wait until it has stopped");
    status_ = service_->add_subcommand("status", "Print the service's state");
    run_ = service_->add_subcommand("run", "Run as the service (the command line the SCM starts)");
    run_->add_option("-c,--config", config_path_, "The TOML config file")->required();
    for (CLI::App* sub : {install_, uninstall_, start_, stop_, status_, run_}) {
      sub->add_option("--name", name_, "The service name")->capture_default_str();
    }
  }

  std::optional<int> run() override {
    if (service_ == nullptr || !service_->parsed()) return std::nullopt;
    if (install_->parsed()) {
      return install(name_, config_path_, manual_ ? StartType::on_demand : StartType::automatic);
    }
    if (uninstall_->parsed()) return uninstall(name_);
    if (start_->parsed()) return start(name_);
    if (stop_->parsed()) return stop(name_);
    if (status_->parsed()) {
      std::cout << state(name_) << "\n";
      return 0;
    }
    if (run_->parsed()) {
      daemon::DaemonOptions options;
      options.config_path = config_path_;
      return windows_service::run(name_, std::move(options));
    }
    return 2;
  }

 private:
  CLI::App* service_ = nullptr;
  CLI::App* install_ = nullptr;
  CLI::App* uninstall_ = nullptr;
  CLI::App* start_ = nullptr;
  CLI::App* stop_ = nullptr;
  CLI::App* status_ = nullptr;
  CLI::App* run_ = nullptr;
  std::string name_ = kDefaultServiceName;
  std::string config_path_;
  bool manual_ = false;
};

// Kept by the linker: this library is an object library linked straight into stellad.
const bool registered = daemon::register_command_extension([]() -> std::unique_ptr<daemon::CommandExtension> {
  return std::make_unique<ServiceCommands>();
});

}  // namespace

}  // namespace stella::windows_service
