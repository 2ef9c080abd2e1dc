#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stella/common/platform/process.hpp"

using namespace stella::platform;

TEST_CASE("the current process is alive and has a start time") {
  const auto me = current_process();
  CHECK(me.pid == static_cast<std::uint64_t>(::getpid()));
  CHECK(me.start_time > 0);
  CHECK(is_alive(me));
}

TEST_CASE("a dead child is dead, even as a zombie; a recycled pid is not the old process") {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  const auto start = process_start_time(static_cast<std::uint64_t>(child));
  // Not reaped yet: a zombie must already count as dead.
  int st = 0;
  ::waitid(P_PID, static_cast<id_t>(child), nullptr, WEXITED | WNOWAIT);
  CHECK_FALSE(is_alive({static_cast<std::uint64_t>(child), start.value_or(0)}));
  ::waitpid(child, &st, 0);
  CHECK_FALSE(is_alive({static_cast<std::uint64_t>(child), start.value_or(0)}));
  // Same pid (ours), another start time: PID reuse does not fool the check.
  auto me = current_process();
  me.start_time += 1;
  CHECK_FALSE(is_alive(me));
  CHECK_FALSE(is_alive({0, 0}));
}
