# Integration tests: real programs on libmemscope.so (test/integration/, docs/TESTING.md).
#  - integration_<case>_<mode>: an unmodified program (python3, python3 with PYTHONMALLOC=malloc,
#    perl, a forking bash script, git, gcc) run with and without LD_PRELOAD=libmemscope.so must
#    give byte-identical stdout/stderr and the same exit status (preload_compare.sh), with the
#    default sampling and with MEMSCOPE_SAMPLE_RATE=1 (every allocation tracked).
#  - redis_server_<rate>: Debian's redis-server on memscope at rates 0, 512K, 1 under
#    redis-benchmark, with values read back byte for byte and a dump taken by signal during the
#    load (redis_server.sh); a ctest SKIP when redis is not installed.
#  - cxx_new_delete_*: the C++ operator new/delete family, linked with -lmemscope and preloaded.
#  - stress_threads_*: 64 threads, cross-thread frees, fork in the middle, ms_stats() back to
#    the baseline; linked and preloaded.
# Included by test/CMakeLists.txt; needs the memscope library target.
if(NOT TARGET memscope)
  message(STATUS "integration tests: no memscope target, skipped")
  return()
endif()

set(MS_INTEG_DIR ${CMAKE_CURRENT_LIST_DIR}/integration)
set(MS_LIB $<TARGET_FILE:memscope>)

foreach(case python python-malloc perl bash git gcc)
  foreach(mode default rate1)
    string(REPLACE "-" "_" case_id ${case})
    add_test(NAME integration_${case_id}_${mode}
      COMMAND bash ${MS_INTEG_DIR}/preload_compare.sh ${MS_LIB} ${mode} ${case})
    set_tests_properties(integration_${case_id}_${mode} PROPERTIES
      LABELS integration TIMEOUT 240 SKIP_RETURN_CODE 77)
  endforeach()
endforeach()
# systemd-hwdb uses the slack malloc_usable_size() reports (GREEDY_REALLOC): all three rates
foreach(mode stats default rate1)
  add_test(NAME integration_hwdb_${mode}
    COMMAND bash ${MS_INTEG_DIR}/preload_compare.sh ${MS_LIB} ${mode} hwdb)
  set_tests_properties(integration_hwdb_${mode} PROPERTIES
    LABELS integration TIMEOUT 400 SKIP_RETURN_CODE 77)
endforeach()

foreach(rate 0 512K 1)
  add_test(NAME redis_server_${rate}
    COMMAND bash ${MS_INTEG_DIR}/redis_server.sh ${MS_LIB} $<TARGET_FILE:memscope-cli> ${rate})
  set_tests_properties(redis_server_${rate} PROPERTIES
    LABELS integration TIMEOUT 900 SKIP_RETURN_CODE 77)
endforeach()

# The same source twice: linked against memscope, and plain (memscope only via LD_PRELOAD;
# memscope.h's weak declarations then bind to the preloaded library at run time).
add_executable(cxx_new_delete_linked ${MS_INTEG_DIR}/cxx_new_delete.cpp)
target_link_libraries(cxx_new_delete_linked PRIVATE memscope Threads::Threads)
add_executable(cxx_new_delete_plain ${MS_INTEG_DIR}/cxx_new_delete.cpp)
target_include_directories(cxx_new_delete_plain PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(cxx_new_delete_plain PRIVATE Threads::Threads)

add_executable(stress_threads_linked ${MS_INTEG_DIR}/stress_threads.c)
target_compile_definitions(stress_threads_linked PRIVATE _GNU_SOURCE)
target_link_libraries(stress_threads_linked PRIVATE memscope Threads::Threads)
add_executable(stress_threads_plain ${MS_INTEG_DIR}/stress_threads.c)
target_compile_definitions(stress_threads_plain PRIVATE _GNU_SOURCE)
target_include_directories(stress_threads_plain PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(stress_threads_plain PRIVATE Threads::Threads)

set(MS_STRESS_SNAPDIR ${CMAKE_CURRENT_BINARY_DIR}/stress-snapshots)
file(MAKE_DIRECTORY ${MS_STRESS_SNAPDIR})

add_test(NAME cxx_new_delete_linked COMMAND cxx_new_delete_linked --require-stats)
add_test(NAME cxx_new_delete_preload
  COMMAND env LD_PRELOAD=${MS_LIB} $<TARGET_FILE:cxx_new_delete_plain> --require-stats)
add_test(NAME cxx_new_delete_preload_rate1
  COMMAND env LD_PRELOAD=${MS_LIB} MEMSCOPE_SAMPLE_RATE=1 $<TARGET_FILE:cxx_new_delete_plain> --require-stats)
add_test(NAME stress_threads_linked COMMAND stress_threads_linked --require-stats)
add_test(NAME stress_threads_preload
  COMMAND env LD_PRELOAD=${MS_LIB} $<TARGET_FILE:stress_threads_plain> --require-stats)
add_test(NAME stress_threads_preload_rate1
  COMMAND env LD_PRELOAD=${MS_LIB} MEMSCOPE_SAMPLE_RATE=1 $<TARGET_FILE:stress_threads_plain>
          --require-stats --snapshot ${MS_STRESS_SNAPDIR})
set_tests_properties(cxx_new_delete_linked cxx_new_delete_preload cxx_new_delete_preload_rate1
  stress_threads_linked stress_threads_preload stress_threads_preload_rate1
  PROPERTIES LABELS integration TIMEOUT 240)

# Allocation in pthread key destructors, thread_local destructors and after pthread_exit().
add_executable(thread_exit_linked ${MS_INTEG_DIR}/thread_exit.c)
target_link_libraries(thread_exit_linked PRIVATE memscope Threads::Threads)
add_executable(thread_exit_plain ${MS_INTEG_DIR}/thread_exit.c)
target_include_directories(thread_exit_plain PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(thread_exit_plain PRIVATE Threads::Threads)
add_test(NAME thread_exit_linked COMMAND thread_exit_linked --require-stats)
add_test(NAME thread_exit_preload_rate1
  COMMAND env LD_PRELOAD=${MS_LIB} MEMSCOPE_SAMPLE_RATE=1 $<TARGET_FILE:thread_exit_plain> --require-stats)
set_tests_properties(thread_exit_linked thread_exit_preload_rate1 PROPERTIES LABELS integration TIMEOUT 120)
