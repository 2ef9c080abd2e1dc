// A real process for the liveness tests (tests/common/test_liveness.cpp).
//   liveness_helper hold READY_FD          takes a token, writes "token=<hex>" to READY_FD, then
//                                          waits until killed
//   liveness_helper fork-hold READY_FD     takes a token, forks a child that stays alive without
//                                          taking one, writes "token=<hex> child=<pid>", waits
//   liveness_helper fork-own READY_FD      takes a token, forks a child that takes its own; the
//                                          child writes "parent=<hex> child=<hex> parent_in_child=<verdict>"
//   liveness_helper check HEX              prints the verdict for token HEX ("alive", "dead", "unknown")
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "stella/common/platform/liveness.hpp"
#include "test_support.hpp"

using namespace stella::platform;

namespace {

std::string hex(LivenessToken t) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, t);
  return buf;
}

[[noreturn]] void wait_forever() {
  for (;;) ::pause();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: liveness_helper hold|fork-hold|fork-own READY_FD | check HEX\n");
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "check") {
    const LivenessToken t = std::strtoull(argv[2], nullptr, 16);
    std::printf("%s\n", std::string(to_string(token_liveness(t))).c_str());
    return 0;
  }
  const int ready = std::atoi(argv[2]);
  const LivenessToken token = current_liveness_token();
  if (cmd == "hold") {
    stella::test::signal_ready(ready, "token=" + hex(token));
    wait_forever();
  }
  if (cmd == "fork-hold") {
    const pid_t child = ::fork();
    if (child < 0) return 3;
    if (child == 0) wait_forever();  // inherits the parent's descriptors, never its lock
    stella::test::signal_ready(ready, "token=" + hex(token) + " child=" + std::to_string(child));
    wait_forever();
  }
  if (cmd == "fork-own") {
    const pid_t child = ::fork();
    if (child < 0) return 3;
    if (child == 0) {
      const LivenessToken mine = current_liveness_token();
      stella::test::signal_ready(ready, "parent=" + hex(token) + " child=" + hex(mine) +
                                            " parent_in_child=" + std::string(to_string(token_liveness(token))));
      ::_exit(0);
    }
    wait_forever();
  }
  return 2;
}
