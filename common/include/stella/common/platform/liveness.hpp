// Liveness by a kernel lock, not by a pid: whether the process that took a slot still runs.
//
// Every process that takes a slot in a segment holds one liveness token: a random, nonzero
// 64-bit number that names a lock the process holds for as long as it lives, and which the
// kernel drops when it dies (however it dies: kill -9 included). Any other process that can
// see the segments can ask whether the holder of a token is alive, with no pid involved, so
// pid reuse and pid namespaces (containers sharing the segment directory) cannot fool it.
//
// POSIX: the token is the file `<segment directory>/stella-live.<16 hex digits>` (the
// segment directory is /dev/shm unless STELLA_SEGMENT_DIR says otherwise, see shm.hpp),
// held with a POSIX record lock (fcntl F_SETLK, write lock on byte 0). Testing is F_GETLK
// from a descriptor of one's own: a conflicting lock means alive.
// Windows: the file `%ProgramData%\Stella\locks\live.<hex>.lock` held with LockFileEx.
//
// Fork: a record lock belongs to the process and is never inherited, so a child never
// holds its parent's token, not even for an instant: once the parent dies its token reads
// dead whatever the child does. A pthread_atfork child handler makes the child forget the
// parent's token; it takes a token of its own on first use. Exec drops the token too (its
// descriptor is close-on-exec): the new program takes its own. (Open-file-description
// locks, F_OFD_SETLK, were rejected for this: fork shares the description with the child.)
//
// How a ring slot uses it: the owner stores current_liveness_token() into its slot's
// 64-bit owner word when it takes the slot; a recoverer frees the slot only when
// token_liveness(word) == Liveness::dead — never on `unknown`, which is decided on other
// grounds (the ring's stall bounds). Pid and start time stay in the slot for status only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stella::platform {

/// A liveness token; it fits a 64-bit slot word. kNoLivenessToken (0) is never a token.
using LivenessToken = std::uint64_t;
inline constexpr LivenessToken kNoLivenessToken = 0;

enum class Liveness : std::uint8_t {
  alive,    // the holder's lock is held: the process runs (or is stopped, but exists)
  dead,     // the lock is free, or no such token exists: the holder is gone for good
  unknown,  // the OS would not tell (no permission to look, an I/O error): never reap on this
};

[[nodiscard]] std::string_view to_string(Liveness liveness) noexcept;

/// The calling process's token, taken on first use and held until the process exits (a
/// forked child gets its own). Throws stella::Error (io, permission_denied) when the token
/// cannot be created, e.g. the segment directory is not writable.
[[nodiscard]] LivenessToken current_liveness_token();

/// Whether the holder of `token` is alive. Never throws; kNoLivenessToken is dead. A dead
/// token stays dead forever: tokens are random and never reused.
[[nodiscard]] Liveness token_liveness(LivenessToken token) noexcept;

/// The pid the holder wrote into its token when it took it (as its own pid namespace
/// numbers it): for status output only, never for a liveness decision.
[[nodiscard]] std::optional<std::uint64_t> liveness_token_pid(LivenessToken token) noexcept;

/// Housekeeping: removes the token of a dead holder. Returns true if it removed it; false
/// when the token is alive, already gone, or not ours to remove (another user's, unless
/// root). Safe against a holder that is creating its token at that moment.
bool remove_dead_token(LivenessToken token) noexcept;

/// Housekeeping: removes every dead token in the segment directory that this process may
/// remove. Returns how many. stellad runs it now and then; it is never needed for
/// correctness (a dead token reads dead whether or not its file is still there).
std::size_t remove_dead_tokens() noexcept;

/// Releases this process's token at once (its lock and its file), as exiting does. The
/// next current_liveness_token() takes a new one. Tests use it; a process that still
/// owns slots under the old token must not.
void release_liveness_token() noexcept;

/// The OS name of a token, e.g. "/dev/shm/stella-live.00c0ffee00c0ffee", for messages.
[[nodiscard]] std::string liveness_token_name(LivenessToken token);

}  // namespace stella::platform
