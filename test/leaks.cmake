# Leak check (track/reach.c): one small program per reachability shape, each classified by
# memscope and, where installed, by valgrind memcheck (test/leaks/check.py compares them and
# the expectation recorded here, which is memcheck's answer).
set(MS_LEAKS_DIR ${CMAKE_SOURCE_DIR}/test/leaks)
add_library(leaks_shape_lib SHARED ${MS_LEAKS_DIR}/shape_lib.c)
set_target_properties(leaks_shape_lib PROPERTIES OUTPUT_NAME shape_lib PREFIX "")
function(ms_leak_shape name expect)
  add_executable(leaks_${name} ${MS_LEAKS_DIR}/${name}.c)
  # -O0: the shapes are about where pointers are; the optimiser must not move or drop them
  target_compile_options(leaks_${name} PRIVATE -O0 -g -fno-omit-frame-pointer)
  target_link_libraries(leaks_${name} PRIVATE Threads::Threads ${CMAKE_DL_LIBS})
  add_test(NAME leaks_${name}
    COMMAND python3 ${MS_LEAKS_DIR}/check.py $<TARGET_FILE:memscope-cli> $<TARGET_FILE:memscope>
            ${expect} -- $<TARGET_FILE:leaks_${name}> ${ARGN})
  set_tests_properties(leaks_${name} PROPERTIES LABELS leaks TIMEOUT 300)
endfunction()
ms_leak_shape(shape_lost definitely_lost=100/1)
ms_leak_shape(shape_list definitely_lost=32/1,indirectly_lost=288/9)
ms_leak_shape(shape_global still_reachable=48/1)
ms_leak_shape(shape_thread still_reachable=72/1)
ms_leak_shape(shape_interior possibly_lost=64/1)
ms_leak_shape(shape_cycle definitely_lost=40/1,indirectly_lost=40/1)
ms_leak_shape(shape_xor definitely_lost=56/1)
ms_leak_shape(shape_length64 still_reachable=80/1)
ms_leak_shape(shape_dlopen still_reachable=88/1 $<TARGET_FILE:leaks_shape_lib>)
# memscope run --leak-check / --error-exitcode / --suppressions, MEMSCOPE_SUPPRESSIONS, and
# sampling mode's "unknown"
add_test(NAME leaks_cli COMMAND python3 ${MS_LEAKS_DIR}/cli_check.py $<TARGET_FILE:memscope-cli>
  $<TARGET_FILE:leaks_shape_lost> $<TARGET_FILE:leaks_shape_global> ${CMAKE_CURRENT_BINARY_DIR}/leaks-cli)
set_tests_properties(leaks_cli PROPERTIES LABELS leaks TIMEOUT 300
  ENVIRONMENT MEMSCOPE_LIB=$<TARGET_FILE:memscope>)
# a real program (Debian's sqlite3, unmodified): every class equal to valgrind's
add_test(NAME leaks_real_sqlite3 COMMAND python3 ${MS_LEAKS_DIR}/real_check.py $<TARGET_FILE:memscope-cli>
  $<TARGET_FILE:memscope> -- sqlite3 :memory:
  "create table t(x, y); insert into t values(1, 'a'), (2, 'b'); select y from t order by x;")
set_tests_properties(leaks_real_sqlite3 PROPERTIES LABELS leaks TIMEOUT 600 SKIP_RETURN_CODE 77)
