# test/core.cmake — unit tests of the allocator core (alloc/) and the tracker (track/):
# header, size classes, options, malloc semantics, statistics, sampler, stacks, named
# variables, and the leak-tracking programs of test/tracking/.
#
# Tests of the real allocator link libmemscope (target memscope), which comes before libc on
# the link line so its malloc wins. Pure-function tests compile the one .c file they need again
# (its hidden internal symbols do not clash with the library's).
if(NOT TARGET memscope)
  message(STATUS "core tests: no memscope target, skipped")
  return()
endif()

# Debian's gcc links with --as-needed, and a test that reaches memscope only through the weak
# ms_* declarations (or whose malloc/free pairs the compiler dropped) would silently run on
# glibc's malloc; force the dependency.
function(ms_core_uses_memscope name)
  target_link_options(test_${name} PRIVATE -Wl,--no-as-needed)
endfunction()

# Pure: size classes against mimalloc itself (no memscope in this process).
ms_unit_test(size_class SOURCES test_size_class.c ${CMAKE_SOURCE_DIR}/alloc/size_class.c
  LIBS mimalloc)

# Header encode/decode, and the headers the real allocator writes.
ms_unit_test(header SOURCES test_header.c ${CMAKE_SOURCE_DIR}/alloc/size_class.c LIBS memscope mimalloc)

# Option parsers (own copy of options.c and parse.c) + the library's start-up in a child process.
ms_unit_test(options SOURCES test_options.c ${CMAKE_SOURCE_DIR}/alloc/options.c
  ${CMAKE_SOURCE_DIR}/alloc/parse.c LIBS memscope)

# malloc semantics of every entry point (alignment matrix, failures, realloc, foreign pointers).
ms_unit_test(alloc SOURCES test_alloc.c LIBS memscope dl)

# ms_stats / ms_class_stats exactness, 8 threads, rate 0 from the environment.
ms_unit_test(stats SOURCES test_stats.c ${CMAKE_SOURCE_DIR}/alloc/size_class.c LIBS memscope mimalloc Threads::Threads)
# Lean mode: blocks are mimalloc's own, the block map under threads, rate switches, bad pointers.
ms_unit_test(lean SOURCES test_lean.c LIBS memscope mimalloc Threads::Threads)
ms_core_uses_memscope(lean)
target_compile_options(test_lean PRIVATE -Wno-use-after-free -Wno-free-nonheap-object)
set_tests_properties(lean PROPERTIES LABELS core TIMEOUT 300)

# The four above test header mode (a header on every block): its layout, requested-byte
# statistics and every-block checks. Lean mode (the default) has its own test, test_lean.c.


# The tracker, end to end through ms_snapshot() and the dump reader (msdump). -rdynamic so
# that dladdr() names the tests' own call-site functions.
function(ms_core_tracker_test name)
  cmake_parse_arguments(T "" "SOURCE" "" ${ARGN})
  if(NOT T_SOURCE)
    set(T_SOURCE test_${name}.c)
  endif()
  ms_unit_test(${name} SOURCES ${T_SOURCE} LIBS memscope msdump dl Threads::Threads)
  set_target_properties(test_${name} PROPERTIES ENABLE_EXPORTS ON)
  ms_core_uses_memscope(${name})
endfunction()
ms_core_tracker_test(sampler)
set_tests_properties(sampler PROPERTIES ENVIRONMENT "MEMSCOPE_SEED=20240611")

# Stacks: the same source without and with frame pointers; the unwinder must not care.
ms_core_tracker_test(stacks)
target_compile_options(test_stacks PRIVATE -O2 -fomit-frame-pointer)
ms_core_tracker_test(stacks_fp SOURCE test_stacks.c)
target_compile_options(test_stacks_fp PRIVATE -O2 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer)
set_tests_properties(stacks stacks_fp PROPERTIES ENVIRONMENT "MEMSCOPE_STACK_DEPTH=24")

# Named variables and reference counts.
ms_core_tracker_test(variables)

# The header's API in a program built without memscope: links, runs, returns MS_ENOTLOADED;
# the same binary under LD_PRELOAD reaches the library.
add_executable(ms_api_unloaded tracking/api_unloaded.c)
target_include_directories(ms_api_unloaded PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_compile_definitions(ms_api_unloaded PRIVATE _GNU_SOURCE)
add_test(NAME api_unloaded COMMAND ms_api_unloaded)
add_test(NAME api_unloaded_preload
  COMMAND env LD_PRELOAD=$<TARGET_FILE:memscope> $<TARGET_FILE:ms_api_unloaded> --loaded)

# Leaks at exit: test/tracking/leaky.c (known leaks at known chains) without and with frame
# pointers, run under LD_PRELOAD by test_tracking, which reads the exit dumps back.
foreach(v nofp fp)
  add_executable(ms_leaky_${v} tracking/leaky.c)
  set_target_properties(ms_leaky_${v} PROPERTIES ENABLE_EXPORTS ON)
endforeach()
target_compile_options(ms_leaky_nofp PRIVATE -O2 -fomit-frame-pointer)
target_compile_options(ms_leaky_fp PRIVATE -O2 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer)
ms_unit_test(tracking SOURCES tracking/test_tracking.c LIBS msdump PkgConfig::DW)
target_compile_definitions(test_tracking PRIVATE MS_LIB="$<TARGET_FILE:memscope>"
  MS_LEAKY_NOFP="$<TARGET_FILE:ms_leaky_nofp>" MS_LEAKY_FP="$<TARGET_FILE:ms_leaky_fp>")
add_dependencies(test_tracking ms_leaky_nofp ms_leaky_fp memscope)

ms_core_uses_memscope(header)
ms_core_uses_memscope(stats)
ms_core_uses_memscope(alloc)
ms_core_uses_memscope(options)

set(MS_CORE_TESTS size_class header options alloc stats sampler stacks stacks_fp variables
  api_unloaded api_unloaded_preload tracking)
set_tests_properties(${MS_CORE_TESTS} PROPERTIES LABELS core TIMEOUT 120)
# header mode for the tests of exact requested sizes (named variables' sizes, and ref counts
# on freed pointers, need a header on unsampled blocks; lean mode records their usable size)
set_tests_properties(header alloc stats variables PROPERTIES ENVIRONMENT MEMSCOPE_CHECKS=headers)

# The tracker's clock (rdtsc scaled against CLOCK_MONOTONIC), compiled on its own.
ms_unit_test(clock SOURCES test_clock.c ${CMAKE_SOURCE_DIR}/alloc/clock.c)
set_tests_properties(clock PROPERTIES LABELS core)

# Dumps written by the library: signal-triggered (helper thread), %p/%n names, at exit, in a
# fork child.
if(TARGET msdump)
  ms_unit_test(snapshot SOURCES test_snapshot.c LIBS memscope msdump)
  ms_core_uses_memscope(snapshot)
  set_tests_properties(snapshot PROPERTIES LABELS core TIMEOUT 120)
endif()

# The cached CFI walker (track/cfi_cache.c, compiled on its own) against libgcc's unwinder,
# frame for frame; without and with frame pointers.
ms_unit_test(unwind SOURCES test_unwind.c ${CMAKE_SOURCE_DIR}/track/cfi_cache.c LIBS Threads::Threads dl)
target_compile_options(test_unwind PRIVATE -O2 -fomit-frame-pointer)
ms_unit_test(unwind_fp SOURCES test_unwind.c ${CMAKE_SOURCE_DIR}/track/cfi_cache.c LIBS Threads::Threads dl)
target_compile_options(test_unwind_fp PRIVATE -O2 -fno-omit-frame-pointer)
set_tests_properties(unwind unwind_fp PROPERTIES LABELS core)

# The timeline's biggest sites per point (track/timeline.c): listed biggest first, adding up to
# the live bytes, and found among thousands of sites with a bounded scan per point.
if(TARGET msdump)
  ms_unit_test(timeline SOURCES test_timeline.c LIBS memscope msdump)
  ms_core_uses_memscope(timeline)
  set_tests_properties(timeline PROPERTIES LABELS core TIMEOUT 120)
endif()
