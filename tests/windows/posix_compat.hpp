// Force-included (-include) into the POSIX-minded multi-process tests and helpers when they
// are built for Windows: the few POSIX names they use, mapped onto test_support_windows.cpp
// (Child::kill(SIGKILL) is TerminateProcess with exit code 128 + 9).
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <csignal>

#ifndef SIGKILL
#define SIGKILL 9
#endif
#ifndef SIGCONT
#define SIGCONT 18
#endif
#ifndef SIGSTOP
#define SIGSTOP 19
#endif

// Waits to be killed, like POSIX pause() does for a process that has no signal handler.
inline int pause() {
  ::Sleep(INFINITE);
  return -1;
}
