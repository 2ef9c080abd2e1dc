// Cross-process wait/wake on Windows.
//
// WaitOnAddress only works between threads of one process, so a word inside a mapped
// segment gets a futex of our own (the choice is explained in docs/windows.md):
//
// - The mapped-range registry below says which segment an address belongs to, and at
//   which offset. Offsets, not addresses: two processes (or two views in one process)
//   map a segment at different addresses.
// - Each segment has a waiter table, a second named mapping <ns>\stella-wait!<name>,
//   created zero-filled by whoever needs it first and gone with its last user. A
//   sleeping thread takes a slot, writes (offset, channel mask, pid, tid, nonce) into it,
//   arms it, re-checks the word, and sleeps on its own auto-reset event
//   <ns>\stella-wake!<pid>.<tid>.<nonce>.
// - A waker scans the armed slots of the segment, claims (CAS armed -> claimed) each slot
//   whose offset matches and whose mask intersects its channels, and sets that slot's
//   event. Claiming is per waiter, so a wake can never be "stolen" by a thread that
//   started waiting after it (the trap of a shared semaphore with a waiter count).
// - No lost wake: the waiter arms its slot, then (seq_cst fence) re-reads the word; the
//   waker's caller stores the word, then (seq_cst fence) the waker scans the slots. Either
//   the waiter sees the new value, or the waker sees the armed slot. The event is
//   auto-reset and stays signalled until waited on, so a SetEvent that lands before the
//   WaitForSingleObject is not lost either.
// - Each slot's state word packs a generation with the phase, so a waker's claim never
//   lands on a slot that was freed and reused after the waker read its fields (no ABA).
//
// Words outside any registered mapping (process-private memory, threads of one process)
// use WaitOnAddress/WakeByAddress*.
#include "stella/common/platform/wait.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "stella/common/platform/process.hpp"
#include "windows_internal.hpp"

namespace stella::platform {

namespace win = windows;

namespace {

std::atomic<std::uint64_t> g_wake_calls{0};

// ---- The waiter table (its layout is shared between processes) ----

constexpr std::uint64_t kPhaseMask = 3;
constexpr std::uint64_t kFree = 0;     // nobody
constexpr std::uint64_t kOwned = 1;    // a waiter is filling (or emptying) the slot
constexpr std::uint64_t kArmed = 2;    // a waiter sleeps (or is about to): wakers may claim it
constexpr std::uint64_t kClaimed = 3;  // a waker claimed it and sets (or has set) its event
constexpr std::uint64_t kGenerationStep = 4;

struct alignas(64) WaitTableHeader {
  /// One past the highest slot index ever taken: wakers scan [0, high_water).
  std::atomic<std::uint32_t> high_water;
  std::uint8_t reserved[60];
};

struct alignas(64) WaiterSlot {
  /// generation * 4 + phase. Waiters move free->owned->armed and owned->free; wakers move
  /// armed->claimed (CAS, so one waker per sleep), the waiter claimed->free.
  std::atomic<std::uint64_t> state;
  // Written by the owner while kOwned, read by wakers after an acquire load of kArmed;
  // atomics (relaxed) because a waker may read them while the slot is being reused (its
  // CAS on the full state word then fails).
  std::atomic<std::uint64_t> offset;
  std::atomic<std::uint32_t> mask;
  std::atomic<std::uint32_t> pid;
  std::atomic<std::uint32_t> tid;
  std::atomic<std::uint32_t> reserved0;
  std::atomic<std::uint64_t> nonce;
  std::atomic<std::uint64_t> start_time;  // the waiter's process creation time (reaping dead waiters)
  std::uint8_t reserved1[16];
};

constexpr std::size_t kWaiterSlots = 1023;

struct WaitTable {
  WaitTableHeader header;
  WaiterSlot slots[kWaiterSlots];
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::is_standard_layout_v<WaiterSlot> && std::is_standard_layout_v<WaitTable>);
static_assert(sizeof(WaiterSlot) == 64, "one cache line per waiter slot");
static_assert(sizeof(WaitTable) == 65536, "the waiter table is one 64 KiB allocation granule");

/// A view of one segment's waiter table, shared by every registered view of that segment
/// in this process.
class WaitTableView {
 public:
  explicit WaitTableView(const std::string& segment) {
    const std::wstring name = win::widen(win::object_namespace() + "stella-wait!" + segment);
    // Creates it zero-filled, or opens the existing one: zero is a valid empty table.
    mapping_ = ::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE | SEC_COMMIT, 0,
                                    static_cast<DWORD>(sizeof(WaitTable)), name.c_str());
    if (mapping_ == nullptr) throw win::win_error("CreateFileMapping(waiter table)", segment, ::GetLastError());
    void* view = ::MapViewOfFile(mapping_, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof(WaitTable));
    if (view == nullptr) {
      const DWORD err = ::GetLastError();
      ::CloseHandle(mapping_);
      throw win::win_error("MapViewOfFile(waiter table)", segment, err);
    }
    table_ = static_cast<WaitTable*>(view);
  }
  WaitTableView(const WaitTableView&) = delete;
  WaitTableView& operator=(const WaitTableView&) = delete;
  ~WaitTableView() {
    ::UnmapViewOfFile(table_);
    ::CloseHandle(mapping_);
  }
  [[nodiscard]] WaitTable& table() const noexcept { return *table_; }

 private:
  HANDLE mapping_ = nullptr;
  WaitTable* table_ = nullptr;
};

// ---- The mapped-range registry ----

struct Range {
  std::size_t size = 0;
  std::string segment;
  std::shared_ptr<WaitTableView> table;  // opened on first wait/wake
};

struct Registry {
  std::shared_mutex mutex;
  std::map<std::uintptr_t, Range> ranges;  // by base address
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: views may be unmapped during exit
  return *r;
}

struct Located {
  std::shared_ptr<WaitTableView> table;
  std::uint64_t offset = 0;
};

// The segment and offset of `addr`, opening the segment's waiter table if needed; an
// empty table for an address outside every registered mapping.
Located locate(const void* addr) {
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  Registry& r = registry();
  {
    std::shared_lock lock(r.mutex);
    auto it = r.ranges.upper_bound(a);
    if (it == r.ranges.begin()) return {};
    --it;
    if (a >= it->first + it->second.size) return {};
    if (it->second.table) return {it->second.table, a - it->first};
  }
  std::unique_lock lock(r.mutex);
  auto it = r.ranges.upper_bound(a);
  if (it == r.ranges.begin()) return {};
  --it;
  if (a >= it->first + it->second.size) return {};
  if (!it->second.table) {
    // Share one view between every registered view of this segment in this process.
    for (auto& [base, range] : r.ranges) {
      if (range.segment == it->second.segment && range.table) {
        it->second.table = range.table;
        break;
      }
    }
    if (!it->second.table) it->second.table = std::make_shared<WaitTableView>(it->second.segment);
  }
  return {it->second.table, a - it->first};
}

// ---- The per-thread event ----

std::wstring event_name(std::uint32_t pid, std::uint32_t tid, std::uint64_t nonce) {
  return win::widen(win::object_namespace() + "stella-wake!" + std::to_string(pid) + "." + std::to_string(tid) +
                    "." + std::to_string(nonce));
}

struct ThreadEvent {
  HANDLE event = nullptr;
  std::uint32_t pid = 0;
  std::uint32_t tid = 0;
  std::uint64_t nonce = 0;

  ThreadEvent() {
    static std::atomic<std::uint64_t> counter{0};
    pid = ::GetCurrentProcessId();
    tid = ::GetCurrentThreadId();
    // A nonce unique to this process (its creation time) and thread: a recycled pid/tid
    // never names our event.
    nonce = current_process().start_time * 1024 + counter.fetch_add(1, std::memory_order_relaxed);
    event = ::CreateEventW(nullptr, FALSE, FALSE, event_name(pid, tid, nonce).c_str());
    if (event == nullptr) throw win::win_error("CreateEvent(wake event)", "", ::GetLastError());
  }
  ThreadEvent(const ThreadEvent&) = delete;
  ThreadEvent& operator=(const ThreadEvent&) = delete;
  ~ThreadEvent() {
    if (event != nullptr) ::CloseHandle(event);
  }
};

ThreadEvent& thread_event() {
  thread_local ThreadEvent ev;
  return ev;
}

DWORD to_milliseconds(std::optional<std::chrono::nanoseconds> timeout) {
  if (!timeout) return INFINITE;
  const auto ns = std::max<std::int64_t>(timeout->count(), 0);
  const std::int64_t ms = (ns + 999'999) / 1'000'000;  // round up: never wake before the timeout
  return static_cast<DWORD>(std::min<std::int64_t>(ms, INFINITE - 1));
}

// ---- Slots ----

WaiterSlot* take_slot(WaitTable& t, std::uint64_t& state) {
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < kWaiterSlots; ++i) {
      WaiterSlot& s = t.slots[i];
      std::uint64_t cur = s.state.load(std::memory_order_relaxed);
      const std::uint64_t phase = cur & kPhaseMask;
      if ((phase == kArmed || phase == kClaimed) && pass == 1) {
        // Second pass: a slot left armed or claimed by a process that died is reclaimed.
        // (Not kOwned: its fields may still name the previous occupant.) Relaxed loads: a
        // stale identity only makes the CAS below fail.
        const ProcessIdentity owner{s.pid.load(std::memory_order_relaxed), s.start_time.load(std::memory_order_relaxed)};
        if (is_alive(owner)) continue;
      } else if (phase != kFree) {
        continue;
      }
      const std::uint64_t next = (cur & ~kPhaseMask) + kGenerationStep + kOwned;
      // Acquire: pairs with the release that freed the slot (its last user is done with it).
      if (s.state.compare_exchange_strong(cur, next, std::memory_order_acquire, std::memory_order_relaxed)) {
        std::uint32_t hw = t.header.high_water.load(std::memory_order_relaxed);
        const auto want = static_cast<std::uint32_t>(i + 1);
        // Relaxed: the seq_cst fence after arming orders it before the re-check of the word.
        while (hw < want && !t.header.high_water.compare_exchange_weak(hw, want, std::memory_order_relaxed)) {
        }
        state = next;
        return &s;
      }
    }
  }
  return nullptr;
}

void release_slot(WaiterSlot& s, std::uint64_t generation_bits) {
  // Release: pairs with the acquire CAS of the next taker.
  s.state.store(generation_bits | kFree, std::memory_order_release);
}

// Withdraws an armed slot. False if a waker claimed it first (its event is or will be
// set); the slot is then freed here, unless a waker already freed it for a thread it
// believed gone (then it may belong to someone else now, and is left alone).
bool withdraw(WaiterSlot& s, std::uint64_t armed) {
  const std::uint64_t gen = armed & ~kPhaseMask;
  std::uint64_t expected = armed;
  // Release: pairs with the acquire CAS of the next taker.
  if (s.state.compare_exchange_strong(expected, gen | kFree, std::memory_order_acq_rel, std::memory_order_acquire)) {
    return true;
  }
  if (expected == (gen | kClaimed)) release_slot(s, gen);  // only the waiter frees a claimed slot
  return false;
}

WaitResult wait_private(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                        std::optional<std::chrono::nanoseconds> timeout) {
  if (word.load(std::memory_order_seq_cst) != expected) return WaitResult::value_changed;
  std::uint32_t compare = expected;
  if (::WaitOnAddress(const_cast<std::atomic<std::uint32_t>*>(&word), &compare, sizeof compare,
                      to_milliseconds(timeout)) != 0) {
    return WaitResult::woken;
  }
  return ::GetLastError() == ERROR_TIMEOUT ? WaitResult::timed_out : WaitResult::woken;
}

}  // namespace

namespace windows {

void register_mapping(const void* base, std::size_t size, std::string_view segment_name) {
  Registry& r = registry();
  std::unique_lock lock(r.mutex);
  r.ranges[reinterpret_cast<std::uintptr_t>(base)] = Range{size, std::string(segment_name), nullptr};
}

void unregister_mapping(const void* base) noexcept {
  Registry& r = registry();
  std::unique_lock lock(r.mutex);
  r.ranges.erase(reinterpret_cast<std::uintptr_t>(base));
}

}  // namespace windows

WaitResult wait_on_address(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                           std::optional<std::chrono::nanoseconds> timeout, std::uint32_t channels) {
  const Located where = locate(&word);
  if (!where.table) return wait_private(word, expected, timeout);
  if (channels == 0) channels = kAllChannels;

  ThreadEvent& ev = thread_event();
  WaitTable& t = where.table->table();
  std::uint64_t owned = 0;
  WaiterSlot* slot = take_slot(t, owned);
  if (slot == nullptr) {
    // Every slot is taken by a live waiter: degrade to a short sleep (the caller re-checks).
    if (word.load(std::memory_order_seq_cst) != expected) return WaitResult::value_changed;
    ::Sleep(std::min<DWORD>(1, to_milliseconds(timeout)));
    return WaitResult::woken;
  }
  const std::uint64_t gen = owned & ~kPhaseMask;
  // A signal left over from an earlier sleep whose waker came after our timeout: drop it
  // now that no waker can target this sleep yet.
  ::WaitForSingleObject(ev.event, 0);
  slot->offset.store(where.offset, std::memory_order_relaxed);
  slot->mask.store(channels, std::memory_order_relaxed);
  slot->pid.store(ev.pid, std::memory_order_relaxed);
  slot->tid.store(ev.tid, std::memory_order_relaxed);
  slot->nonce.store(ev.nonce, std::memory_order_relaxed);
  slot->start_time.store(current_process().start_time, std::memory_order_relaxed);
  const std::uint64_t armed = gen | kArmed;
  // Release: a waker whose acquire load sees kArmed sees the fields above.
  slot->state.store(armed, std::memory_order_release);
  // Arm, then re-check: pairs with the fence in wake_on_address (see the file comment).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (word.load(std::memory_order_relaxed) != expected) {
    withdraw(*slot, armed);
    return WaitResult::value_changed;
  }
  const DWORD r = ::WaitForSingleObject(ev.event, to_milliseconds(timeout));
  // Acquire: pairs with the waker's CAS, so what it stored before waking us is visible.
  const bool claimed = slot->state.load(std::memory_order_acquire) == (gen | kClaimed);
  if (claimed) {
    release_slot(*slot, gen);
    return WaitResult::woken;
  }
  // Not claimed: a timeout, or a stale signal (a spurious wake, which callers allow).
  if (!withdraw(*slot, armed)) return WaitResult::woken;  // claimed just now
  return r == WAIT_TIMEOUT ? WaitResult::timed_out : WaitResult::woken;
}

int wake_on_address(std::atomic<std::uint32_t>& word, int count, std::uint32_t channels) {
  g_wake_calls.fetch_add(1, std::memory_order_relaxed);  // statistics only
  const Located where = locate(&word);
  if (!where.table) {
    if (count == 1) {
      ::WakeByAddressSingle(&word);
    } else {
      ::WakeByAddressAll(&word);
    }
    return 0;  // WakeByAddress does not say how many woke
  }
  if (channels == 0) channels = kAllChannels;
  // The caller stored the word before calling us: pairs with the waiter's fence between
  // arming its slot and re-checking the word.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  WaitTable& t = where.table->table();
  const std::uint32_t high = std::min<std::uint32_t>(t.header.high_water.load(std::memory_order_relaxed),
                                                     static_cast<std::uint32_t>(kWaiterSlots));
  int woke = 0;
  for (std::uint32_t i = 0; i < high; ++i) {
    WaiterSlot& s = t.slots[i];
    std::uint64_t cur = s.state.load(std::memory_order_acquire);  // pairs with the arming release store
    if ((cur & kPhaseMask) != kArmed) continue;
    if (s.offset.load(std::memory_order_relaxed) != where.offset) continue;
    if ((s.mask.load(std::memory_order_relaxed) & channels) == 0) continue;
    const std::uint32_t pid = s.pid.load(std::memory_order_relaxed);
    const std::uint32_t tid = s.tid.load(std::memory_order_relaxed);
    const std::uint64_t nonce = s.nonce.load(std::memory_order_relaxed);
    const std::uint64_t gen = cur & ~kPhaseMask;
    // The full state word (generation included) must still match: the fields we read
    // belong to this very sleep.
    if (!s.state.compare_exchange_strong(cur, gen | kClaimed, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      continue;
    }
    HANDLE ev = ::OpenEventW(EVENT_MODIFY_STATE, FALSE, event_name(pid, tid, nonce).c_str());
    if (ev == nullptr) {
      // The waiter's thread (and so its event) is gone: free its slot for it.
      release_slot(s, gen);
      continue;
    }
    ::SetEvent(ev);
    ::CloseHandle(ev);
    ++woke;
    if (count > 0 && woke >= count) break;
  }
  return woke;
}

std::uint64_t wake_calls() noexcept { return g_wake_calls.load(std::memory_order_relaxed); }

}  // namespace stella::platform
