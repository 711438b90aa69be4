# What memscope adds to a traced process (docs/USAGE.md): invisible_test.py runs probe.c
# untraced and on memscope (rates 0, 512K, 1; snapshot signal; guard pages; after exec) and
# compares descriptors, signal dispositions, alternate stack, threads and environment.
if(NOT TARGET memscope)
  return()
endif()
add_executable(ms_invisible_probe ${CMAKE_CURRENT_SOURCE_DIR}/invisible/probe.c)
target_link_libraries(ms_invisible_probe PRIVATE Threads::Threads)
add_test(NAME invisible COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/invisible/invisible_test.py
  $<TARGET_FILE:ms_invisible_probe> $<TARGET_FILE:memscope>)
set_tests_properties(invisible PROPERTIES LABELS integration TIMEOUT 300)
