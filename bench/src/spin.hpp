// The pause every spin loop of the benchmark uses (x86 PAUSE, ARM YIELD).
#pragma once

namespace stella::bench {

inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace stella::bench
