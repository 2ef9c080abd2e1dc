// The health endpoint's name on Windows: a named pipe. The config's daemon.socket (a path
// on POSIX) names it: `\\.\pipe\...` is taken as is; any other path P becomes
// `\\.\pipe\stella-<file name of P>`, e.g. the default /run/stella/stellad.sock is
// \\.\pipe\stella-stellad.sock. Shared by the server and `stellad status`.
#pragma once

#include <filesystem>
#include <string>

namespace stella::daemon::sys {

inline std::wstring pipe_name(const std::filesystem::path& socket) {
  const std::wstring given = socket.wstring();
  const std::wstring prefix = L"\\\\.\\pipe\\";
  if (given.rfind(prefix, 0) == 0) return given;
  return prefix + L"stella-" + socket.filename().wstring();
}

inline std::string pipe_name_utf8(const std::filesystem::path& socket) {
  return std::filesystem::path(pipe_name(socket)).string();
}

}  // namespace stella::daemon::sys
