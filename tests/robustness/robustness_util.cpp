#include "robustness_util.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include <doctest/doctest.h>

#include "stella/common/platform/shm.hpp"

namespace stella::robustness {

void expect_error(const std::function<void()>& fn, Errc code, const std::string& what) {
  try {
    fn();
  } catch (const Error& e) {
    CHECK_MESSAGE(e.code() == code, "got code ", to_string(e.code()), ", expected ", to_string(code), ": ",
                  e.what());
    // what() is a C string: a name holding a NUL (a bad name we test) ends it there.
    CHECK(std::string(e.what()) == std::string(what.c_str()));
    return;
  } catch (const std::exception& e) {
    FAIL_CHECK("expected stella::Error(", to_string(code), "), got another exception: ", e.what());
    return;
  }
  FAIL_CHECK("expected stella::Error(", to_string(code), ") \"", what, "\", nothing was thrown");
}

RawSegment::RawSegment(const std::string& name) {
  const std::string os = platform::MappedObject::os_name(name);
  fd_ = ::shm_open(os.c_str(), O_RDWR, 0);
  if (fd_ < 0) throw std::runtime_error("shm_open " + os);
  struct stat st {};
  ::fstat(fd_, &st);
  size_ = static_cast<std::size_t>(st.st_size);
  void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) throw std::runtime_error("mmap " + os);
  data_ = static_cast<std::byte*>(p);
}

RawSegment::~RawSegment() {
  if (data_ != nullptr) ::munmap(data_, size_);
  if (fd_ >= 0) ::close(fd_);
}

void RawSegment::reseal() const noexcept { header().checksum = header_checksum(header()); }

void RawSegment::resize(const std::string& name, std::size_t size) {
  const std::string os = platform::MappedObject::os_name(name);
  const int fd = ::shm_open(os.c_str(), O_RDWR, 0);
  if (fd < 0) throw std::runtime_error("shm_open " + os);
  const int rc = ::ftruncate(fd, static_cast<off_t>(size));
  ::close(fd);
  if (rc != 0) throw std::runtime_error("ftruncate " + os);
}

int run_in_child(const std::function<int()>& body, unsigned seconds) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (...) {
      code = 98;
    }
    std::_Exit(code);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace stella::robustness
