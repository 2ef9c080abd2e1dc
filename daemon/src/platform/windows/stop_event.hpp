// The named event that asks the stellad with a given pid to stop (Windows' stand-in for
// SIGTERM): the daemon waits on it (signals.cpp), `stellad stop` sets it (commands.cpp).
#pragma once

#include <windows.h>

#include <string>

namespace stella::daemon::sys {

inline std::wstring stop_event_name(DWORD pid) { return L"Local\\stellad-stop!" + std::to_wstring(pid); }

}  // namespace stella::daemon::sys
