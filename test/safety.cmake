# Memory-safety checks (issue 6, docs/CHECKS.md): one test program per error kind
# (test/safety/*.c), each run under libmemscope.so by test/safety/run_case.py, which checks the
# report's kind, address and the function names in its stacks, the dump written before the
# abort (via the converter), and that MEMSCOPE_CHECKS=off behaves as plain malloc.
# Each program is built twice: plain -g (stderr reports symbolised in-process through libdw) and
# with -rdynamic (run with symbolize=dladdr: the fallback that needs exported symbols).
# Also: the unit test of the MEMSCOPE_CHECKS parser, and real programs (python3, perl, bash, git,
# gcc) with every check on and no report (no false positives).
if(NOT TARGET memscope)
  return()
endif()
find_package(Python3 COMPONENTS Interpreter)
set(MS_SAFETY_DIR ${CMAKE_CURRENT_LIST_DIR}/safety)
set(MS_SAFETY_LIB $<TARGET_FILE:memscope>)
set(MS_SAFETY_CLI "")
if(TARGET memscope-cli)
  set(MS_SAFETY_CLI --cli $<TARGET_FILE:memscope-cli>)
endif()

foreach(prog double_free invalid_free overflow underflow uaf_quarantine uaf_guard)
  add_executable(safety_${prog} ${MS_SAFETY_DIR}/${prog}.c)
  target_compile_options(safety_${prog} PRIVATE -g -O0)
  set_target_properties(safety_${prog} PROPERTIES OUTPUT_NAME ${prog} RUNTIME_OUTPUT_DIRECTORY
    ${CMAKE_BINARY_DIR}/test/safety)
  add_executable(safety_${prog}_rdynamic ${MS_SAFETY_DIR}/${prog}.c)
  target_compile_options(safety_${prog}_rdynamic PRIVATE -g -O0)
  target_link_options(safety_${prog}_rdynamic PRIVATE -rdynamic)
  set_target_properties(safety_${prog}_rdynamic PROPERTIES OUTPUT_NAME ${prog}_rdynamic
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/test/safety)
  target_link_libraries(safety_${prog} PRIVATE Threads::Threads)
  target_link_libraries(safety_${prog}_rdynamic PRIVATE Threads::Threads)
endforeach()

# ms_safety_case(NAME PROG KIND ARGS...): the libdw-symbolised run (function names and
# file:line, dump checked with the converter) and the dladdr run of the -rdynamic build.
function(ms_safety_case name prog kind)
  if(NOT Python3_Interpreter_FOUND)
    return()
  endif()
  add_test(NAME safety_${name}
    COMMAND ${Python3_EXECUTABLE} ${MS_SAFETY_DIR}/run_case.py --lib ${MS_SAFETY_LIB}
            --prog $<TARGET_FILE:safety_${prog}> --kind ${kind} --files ${MS_SAFETY_CLI} ${ARGN})
  add_test(NAME safety_${name}_dladdr
    COMMAND ${Python3_EXECUTABLE} ${MS_SAFETY_DIR}/run_case.py --lib ${MS_SAFETY_LIB}
            --prog $<TARGET_FILE:safety_${prog}_rdynamic> --kind ${kind} --symbolize dladdr ${ARGN})
  set_tests_properties(safety_${name} safety_${name}_dladdr PROPERTIES LABELS safety TIMEOUT 120)
endfunction()

# double and invalid frees are refused (never reach mimalloc), so by default the program goes on
ms_safety_case(double_free double_free double_free --address block --continue
  --where drop_block_again,main --alloc make_block,main)
ms_safety_case(double_free_abort double_free double_free --address block --checks action=abort
  --where drop_block_again,main --alloc make_block,main)
# header mode: every block, sampled or not
ms_safety_case(double_free_headers_rate0 double_free double_free --address block --continue
  --checks headers --sample-rate 0 --where drop_block_again,main)
# an interior pointer of an unsampled block is only caught with a header on every block
ms_safety_case(invalid_free_interior invalid_free invalid_free --checks headers --continue
  --where free_interior,main)
ms_safety_case(invalid_free_stack invalid_free invalid_free --arg stack --continue
  --where free_stack_pointer,main)
ms_safety_case(overflow overflow buffer_overflow --checks overflow --where drop_block,main --alloc make_block,main)
ms_safety_case(overflow_realloc overflow buffer_overflow --checks overflow --arg realloc --where main
  --alloc make_block,main)
ms_safety_case(overflow_continue overflow buffer_overflow --checks overflow,action=continue --continue
  --where drop_block,main --alloc make_block,main)
ms_safety_case(underflow underflow buffer_underflow --address block --where drop_block,main
  --alloc make_block,main)
ms_safety_case(uaf_quarantine uaf_quarantine use_after_free --checks quarantine=64K
  --where churn,main --alloc make_block,main)
ms_safety_case(uaf_quarantine_thread_exit uaf_quarantine use_after_free --checks quarantine=64K
  --arg thread --alloc make_block,thread_main)
ms_safety_case(uaf_guard_read uaf_guard use_after_free --checks uaf=1 --arg read
  --where read_block,main --alloc make_block,main --free drop_block,main)
ms_safety_case(uaf_guard_write uaf_guard use_after_free --checks uaf=1 --arg write
  --where write_block,main --alloc make_block,main --free drop_block,main)
ms_safety_case(uaf_guard_overflow uaf_guard buffer_overflow --checks uaf=1 --arg overflow
  --where read_block,main --alloc make_block,main)
# unsampled blocks: the quarantine and guard pages still catch the error (guarded blocks always
# carry their allocation stack)
ms_safety_case(uaf_guard_rate0 uaf_guard use_after_free --checks uaf=1 --sample-rate 0
  --where read_block,main --alloc make_block,main --free drop_block,main)

# MEMSCOPE_CHECKS syntax, through behaviour (reports, exit status, the bad-value warning).
if(Python3_Interpreter_FOUND)
  add_test(NAME safety_options
    COMMAND ${Python3_EXECUTABLE} ${MS_SAFETY_DIR}/options_test.py ${MS_SAFETY_LIB}
            ${CMAKE_BINARY_DIR}/test/safety)
  set_tests_properties(safety_options PROPERTIES LABELS safety TIMEOUT 180)
endif()

# No false positives: the integration suite's real programs with every check on (canaries,
# quarantine, guard pages for 1 allocation in 20, action=abort) behave exactly as without
# memscope and nothing is reported.
foreach(case python python-malloc perl bash git gcc)
  string(REPLACE "-" "_" case_id ${case})
  add_test(NAME safety_no_false_positives_${case_id}
    COMMAND bash ${MS_SAFETY_DIR}/no_false_positives.sh ${MS_SAFETY_LIB} ${case})
  set_tests_properties(safety_no_false_positives_${case_id} PROPERTIES LABELS safety TIMEOUT 240)
endforeach()
