/* test_compiler.h — compiler directives the test programs share: functions that stay real
 * frames (NOINLINE, NO_TAIL) for the tests that check captured stacks, and the gcc warnings
 * a file that hands fresh or freed blocks to memscope on purpose turns off
 * (MS_TEST_ALLOW_FREED_POINTERS, once at file scope). */
#ifndef MEMSCOPE_TEST_COMPILER_H
#define MEMSCOPE_TEST_COMPILER_H

#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone)) /* no .isra/.constprop copies either */
#endif
/* An empty asm after a call keeps the compiler from turning it into a tail call (which would
 * drop the caller's frame, correctly, but make the expected chain shorter). */
#define NO_TAIL() __asm__ volatile("" ::: "memory")

/* gcc takes ms_track's const void * for a read of the (fresh, uninitialised) block, and such
 * tests ask about freed pointers on purpose. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define MS_TEST_ALLOW_FREED_POINTERS                         \
  _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
  _Pragma("GCC diagnostic ignored \"-Wuse-after-free\"")
#elif defined(__GNUC__) && !defined(__clang__)
#define MS_TEST_ALLOW_FREED_POINTERS _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#else
#define MS_TEST_ALLOW_FREED_POINTERS
#endif

#endif /* MEMSCOPE_TEST_COMPILER_H */
