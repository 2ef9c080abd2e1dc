#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "stella/common/platform/wait.hpp"

using namespace stella::platform;
using namespace std::chrono_literals;

TEST_CASE("wait returns value_changed when the word differs, timed_out after the timeout") {
  std::atomic<std::uint32_t> word{5};
  CHECK(wait_on_address(word, 4, 1s) == WaitResult::value_changed);
  CHECK(wait_on_address(word, 5, 1ms) == WaitResult::timed_out);
}

TEST_CASE("wake releases a sleeper") {
  std::atomic<std::uint32_t> word{0};
  std::atomic<bool> done{false};
  std::thread sleeper([&] {
    while (word.load() == 0) wait_on_address(word, 0, std::nullopt);
    done = true;
  });
  word.store(1);
  wake_on_address(word);
  sleeper.join();
  CHECK(done.load());
  CHECK(wake_calls() >= 1);
}
