// The portable half of the test helpers (test_support_posix.cpp and
// test_support_windows.cpp hold the process and pipe helpers).
#include "test_support.hpp"

#include <atomic>
#include <fstream>
#include <sstream>

#include "stella/common/platform/process.hpp"
#include "stella/common/platform/shm.hpp"

namespace stella::test {

std::string unique_name(const std::string& tag) {
  static std::atomic<int> counter{0};
  std::string name = "t";
  name.append(std::to_string(platform::current_process().pid))
      .append("-")
      .append(std::to_string(counter.fetch_add(1)))
      .append("-")
      .append(tag);
  return name;
}

SegmentCleanup::~SegmentCleanup() {
  for (const auto& n : names_) {
    try {
      platform::MappedObject::unlink(n);
    } catch (...) {
    }
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::optional<std::string> result_field(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (line.rfind("RESULT ", 0) == 0) last = line;
  }
  std::istringstream words(last);
  std::string word;
  while (words >> word) {
    if (word.size() > key.size() && word.compare(0, key.size(), key) == 0 && word[key.size()] == '=') {
      return word.substr(key.size() + 1);
    }
  }
  return std::nullopt;
}

}  // namespace stella::test
