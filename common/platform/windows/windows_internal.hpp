// Internals shared by the Windows platform files (not a public header).
//
// Kernel object names: every object Stella creates lives in one namespace, "Local\" (the
// caller's session) by default or "Global\" (all sessions, e.g. a service and desktop
// users) when the environment variable STELLA_WINDOWS_NAMESPACE is "Global". Segment
// names are [A-Za-z0-9._-], so the helper objects below use '!' in their names and can
// never collide with a segment:
//   <ns>\stella.<name>              the segment (a pagefile-backed file mapping)
//   <ns>\stella-wait!<name>         the segment's waiter table (see wait.cpp)
//   <ns>\stella-wake!<pid>.<tid>.<n> the auto-reset event a sleeping thread waits on
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "stella/common/error.hpp"

namespace stella::platform::windows {

/// "Local\" or "Global\" (from STELLA_WINDOWS_NAMESPACE, read once per process).
/// Throws invalid_argument for any other value.
[[nodiscard]] const std::string& object_namespace();

/// The directory of lock files (the segments' writer locks, liveness tokens):
/// STELLA_WINDOWS_LOCK_DIR, else %ProgramData%\Stella\locks (its parent created on first use).
[[nodiscard]] std::wstring lock_directory();

/// ASCII/UTF-8 to UTF-16 (object names and paths).
[[nodiscard]] std::wstring widen(std::string_view s);

/// An Error for the Win32 error `err`, e.g. win_error("CreateFileMapping", seg, GetLastError()).
[[nodiscard]] Error win_error(std::string_view what, std::string segment, DWORD err);

/// The mapped-range registry: wait/wake find the segment (and the offset inside it) an
/// address belongs to. create/open register each view, reset() unregisters it.
void register_mapping(const void* base, std::size_t size, std::string_view segment_name);
void unregister_mapping(const void* base) noexcept;

}  // namespace stella::platform::windows
