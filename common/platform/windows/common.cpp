// Helpers shared by the Windows platform files: the object namespace, UTF-16 names and
// Win32 error messages.
#include <cstdlib>

#include "windows_internal.hpp"

namespace stella::platform::windows {

const std::string& object_namespace() {
  static const std::string ns = []() -> std::string {
    const char* v = std::getenv("STELLA_WINDOWS_NAMESPACE");
    const std::string value = v == nullptr ? "" : v;
    if (value.empty() || value == "Local" || value == "local") return "Local\\";
    if (value == "Global" || value == "global") return "Global\\";
    return "invalid:" + value;
  }();
  if (ns.rfind("invalid:", 0) == 0) {
    throw Error(Errc::invalid_argument, "",
                "STELLA_WINDOWS_NAMESPACE is '" + ns.substr(8) + "', expected Local or Global");
  }
  return ns;
}

// The directory of lock files: STELLA_WINDOWS_LOCK_DIR, else %ProgramData%\Stella\locks
// (created on first use). One directory for every user, so that users sharing a segment
// share its lock.
std::wstring lock_directory() {
  if (const char* dir = std::getenv("STELLA_WINDOWS_LOCK_DIR"); dir != nullptr && *dir != '\0') {
    return widen(dir);
  }
  std::wstring base = L"C:\\ProgramData";
  if (const char* pd = std::getenv("ProgramData"); pd != nullptr && *pd != '\0') base = widen(pd);
  ::CreateDirectoryW((base + L"\\Stella").c_str(), nullptr);
  return base + L"\\Stella\\locks";
}

std::wstring widen(std::string_view s) {
  if (s.empty()) return {};
  const int n = ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n);
  return out;
}

Error win_error(std::string_view what, std::string segment, DWORD err) {
  Errc code = Errc::io;
  switch (err) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND: code = Errc::not_found; break;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS: code = Errc::already_exists; break;
    case ERROR_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD: code = Errc::permission_denied; break;
    case ERROR_COMMITMENT_LIMIT:
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_DISK_FULL: code = Errc::no_space; break;
    default: break;
  }
  char* text = nullptr;
  const DWORD len = ::FormatMessageA(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, err, 0,
      reinterpret_cast<char*>(&text), 0, nullptr);
  std::string message(what);
  message += " failed: ";
  if (len > 0 && text != nullptr) {
    std::string t(text, len);
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ' || t.back() == '.')) t.pop_back();
    message += t;
  } else {
    message += "Win32 error";
  }
  message += " (error " + std::to_string(err) + ")";
  if (text != nullptr) ::LocalFree(text);
  return Error(code, std::move(segment), message);
}

}  // namespace stella::platform::windows
