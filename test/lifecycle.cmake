# Process life events on memscope (test/lifecycle/lifecycle.c): fork, exec (fork+exec, vfork+exec,
# posix_spawn), dlopen/dlclose of a library whose blocks are still live, threads exiting while
# snapshots are written, a 10 kHz signal interrupting malloc/free. Each at rates 0, 512K and 1,
# preloaded; each shows it finishes (watchdog) and that ms_stats() keeps every block on the books.
if(NOT TARGET memscope)
  return()
endif()
add_library(ms_lifecycle_dso SHARED ${CMAKE_CURRENT_SOURCE_DIR}/lifecycle/dso.c)
set_target_properties(ms_lifecycle_dso PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_executable(ms_lifecycle ${CMAKE_CURRENT_SOURCE_DIR}/lifecycle/lifecycle.c)
target_include_directories(ms_lifecycle PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(ms_lifecycle PRIVATE Threads::Threads dl)
set(MS_LIFECYCLE_DIR ${CMAKE_CURRENT_BINARY_DIR}/lifecycle-snapshots)
file(MAKE_DIRECTORY ${MS_LIFECYCLE_DIR})
foreach(rate 0 512K 1)
  foreach(case fork exec dlopen snapshot signal)
    set(args ${case})
    if(case STREQUAL "dlopen")
      set(args dlopen $<TARGET_FILE:ms_lifecycle_dso> ${MS_LIFECYCLE_DIR})
    elseif(case STREQUAL "snapshot")
      set(args snapshot ${MS_LIFECYCLE_DIR})
    endif()
    add_test(NAME lifecycle_${case}_rate${rate}
      COMMAND env LD_PRELOAD=$<TARGET_FILE:memscope> MEMSCOPE_SAMPLE_RATE=${rate}
              $<TARGET_FILE:ms_lifecycle> ${args})
    set_tests_properties(lifecycle_${case}_rate${rate} PROPERTIES LABELS integration TIMEOUT 200)
  endforeach()
endforeach()
