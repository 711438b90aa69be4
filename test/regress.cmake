# Regression programs for bugs found in review (test/regress/): each once crashed or hung
# memscope, or made it pathologically slow. run.sh checks how each one ends.
set(MS_REGRESS_DIR ${CMAKE_SOURCE_DIR}/test/regress)
function(ms_regress name expect grep)
  add_executable(regress_${name} ${MS_REGRESS_DIR}/${name}.c)
  target_include_directories(regress_${name} PRIVATE ${CMAKE_SOURCE_DIR}/include)
  # the bugs are deliberate: say so to the compiler instead of reading warnings about them
  target_compile_options(regress_${name} PRIVATE -O0 -g -Wno-stringop-overflow -Wno-use-after-free
    -Wno-free-nonheap-object -Wno-array-bounds)
  target_link_libraries(regress_${name} PRIVATE Threads::Threads)
  add_test(NAME regress_${name}
    COMMAND sh ${MS_REGRESS_DIR}/run.sh $<TARGET_FILE:memscope> $<TARGET_FILE:regress_${name}>
            ${expect} ${grep} ${ARGN})
  set_tests_properties(regress_${name} PROPERTIES LABELS regress TIMEOUT 120)
endfunction()

# a damaged canary found while a dump is written: abort, not a self-deadlock on the snapshot lock
ms_regress(snapshot_canary abort buffer_overflow MEMSCOPE_CHECKS=overflow MEMSCOPE_SAMPLE_RATE=1
  MEMSCOPE_OUTPUT=${CMAKE_BINARY_DIR}/test/regress_snapshot_canary.msp)
# an overflow into the next block's sample record: reported, never written through
ms_regress(record_overflow abort buffer_underflow MEMSCOPE_SAMPLE_RATE=1 MEMSCOPE_CHECKS=headers)
# a report made while a dying thread holds the orphan lock: abort, not a hang
ms_regress(orphan_deadlock abort buffer_overflow MEMSCOPE_CHECKS=overflow)
# fork while another thread prints a report: the child's own report must not hang
ms_regress(fork_print_mutex ok - MEMSCOPE_CHECKS=overflow)
# free() of an interior pointer of a 96 MiB block: invalid_free, no crash
ms_regress(huge_interior ok invalid_free)
# a 1-byte underflow of a guard-page block: buffer_underflow, no crash
ms_regress(guarded_underflow abort buffer_underflow MEMSCOPE_CHECKS=uaf=1)
# growing a (sampled) buffer by small steps stays in place
ms_regress(realloc_grow ok - MEMSCOPE_SAMPLE_RATE=64K)
# ms_set_sample_rate() from 0 is never lost for a busy thread
add_executable(regress_rate_reset_lost ${MS_REGRESS_DIR}/rate_reset_lost.c)
target_include_directories(regress_rate_reset_lost PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(regress_rate_reset_lost PRIVATE memscope Threads::Threads)
target_link_options(regress_rate_reset_lost PRIVATE -Wl,--no-as-needed)
add_test(NAME regress_rate_reset_lost COMMAND env MEMSCOPE_SAMPLE_RATE=0 $<TARGET_FILE:regress_rate_reset_lost>)
set_tests_properties(regress_rate_reset_lost PROPERTIES LABELS regress TIMEOUT 120)
# every byte up to malloc_usable_size() is the program's: realloc keeps it, calloc zeroes it
# (redis-server could not start), at every rate and with every MEMSCOPE_CHECKS setting
add_executable(regress_usable_size ${MS_REGRESS_DIR}/usable_size.c)
target_compile_options(regress_usable_size PRIVATE -O1 -g)
foreach(rate 0 512K 1)
  foreach(checks default off overflow quarantine uaf=1 all)
    set(max 65536)
    if(checks STREQUAL "uaf=1" OR checks STREQUAL "all" OR checks STREQUAL "quarantine")
      set(max 16384) # a guard page or a quarantine fill per block: keep the run short
    endif()
    add_test(NAME regress_usable_size_${rate}_${checks}
      COMMAND sh ${MS_REGRESS_DIR}/run.sh $<TARGET_FILE:memscope> $<TARGET_FILE:regress_usable_size>
              ok - MEMSCOPE_SAMPLE_RATE=${rate} MEMSCOPE_CHECKS=${checks}
              USABLE_SIZE_MAX=${max})
    set_tests_properties(regress_usable_size_${rate}_${checks} PROPERTIES LABELS regress TIMEOUT 300)
  endforeach()
endforeach()
