# test/figures.cmake — the converter's figures add up on real programs (issue 17):
#   figures_peak      peak_final.c at rate 1: sum of the sites' peak_bytes == peak_live_bytes
#   figures_inline    inline_site.c at -O2: inlined functions appear as frames with their lines
#   figures_overhead  one overhead vocabulary (rounding = usable - requested, metadata apart)
#   figures_truncated stacks cut at MEMSCOPE_STACK_DEPTH are flagged and drawn under "[truncated]"
#   figures_timeline  timeline_growth.c: each timeline point's biggest sites, adding up to live_bytes
# See test/figures/figures_test.py.
if(NOT TARGET memscope-cli OR NOT TARGET memscope)
  return()
endif()
find_package(Python3 COMPONENTS Interpreter)
if(NOT Python3_Interpreter_FOUND)
  return()
endif()
set(MS_FIG_DIR ${CMAKE_SOURCE_DIR}/test/figures)
add_executable(fig_peak_final ${MS_FIG_DIR}/peak_final.c)
target_compile_options(fig_peak_final PRIVATE -O1 -g)
add_executable(fig_timeline_growth ${MS_FIG_DIR}/timeline_growth.c)
target_compile_options(fig_timeline_growth PRIVATE -O1 -g)
add_executable(fig_inline_site ${MS_FIG_DIR}/inline_site.c)
target_compile_options(fig_inline_site PRIVATE -O2 -g)
set(_fig ${Python3_EXECUTABLE} ${MS_FIG_DIR}/figures_test.py)
add_test(NAME figures_peak COMMAND ${_fig} peak $<TARGET_FILE:memscope-cli>
  $<TARGET_FILE:fig_peak_final> ${CMAKE_CURRENT_BINARY_DIR}/figures)
add_test(NAME figures_inline COMMAND ${_fig} inline $<TARGET_FILE:memscope-cli>
  $<TARGET_FILE:fig_inline_site> ${MS_FIG_DIR}/inline_site.c ${CMAKE_CURRENT_BINARY_DIR}/figures)
add_test(NAME figures_overhead COMMAND ${_fig} overhead $<TARGET_FILE:memscope-cli>
  $<TARGET_FILE:fig_peak_final> ${CMAKE_CURRENT_BINARY_DIR}/figures)
add_test(NAME figures_truncated COMMAND ${_fig} truncated $<TARGET_FILE:memscope-cli>
  $<TARGET_FILE:fig_peak_final> ${CMAKE_CURRENT_BINARY_DIR}/figures)
add_test(NAME figures_timeline COMMAND ${_fig} timeline $<TARGET_FILE:memscope-cli>
  $<TARGET_FILE:fig_timeline_growth> ${CMAKE_CURRENT_BINARY_DIR}/figures)
set_tests_properties(figures_peak figures_inline figures_overhead figures_truncated figures_timeline PROPERTIES TIMEOUT 300)
