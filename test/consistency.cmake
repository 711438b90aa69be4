# Consistency of the two views of a block (test/consistency/): the program's (every byte up to
# malloc_usable_size) and memscope's (the requested size), in the places test/regress/
# usable_size.c does not walk: memalign/valloc/pvalloc, realloc/reallocarray from NULL and in
# place, named blocks, a dump taken while the slack is in use, C++ sized delete given the usable
# size, aligned and nothrow new; plus reproducers of defects found on the way (DISABLED until
# fixed: ctest lists them as "Not Run (Disabled)"). Programs run preloaded, not linked.
set(MS_CONS_DIR ${CMAKE_SOURCE_DIR}/test/consistency)
set(MS_CONS_OUT ${CMAKE_CURRENT_BINARY_DIR}/consistency)
file(MAKE_DIRECTORY ${MS_CONS_OUT})

add_executable(consistency_usable_views ${MS_CONS_DIR}/usable_views.c)
target_include_directories(consistency_usable_views PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_compile_definitions(consistency_usable_views PRIVATE _GNU_SOURCE)
# the reallocarray overflow case reads the old block after a call that failed on purpose
target_compile_options(consistency_usable_views PRIVATE -O1 -g -Wno-use-after-free
  -Wno-alloc-size-larger-than)
add_executable(consistency_usable_cxx ${MS_CONS_DIR}/usable_cxx.cpp)
target_include_directories(consistency_usable_cxx PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_compile_options(consistency_usable_cxx PRIVATE -O1 -g -fsized-deallocation)

foreach(rate 0 512K 1)
  foreach(checks default all uaf=1)
    string(REPLACE "=" "" cid ${checks})
    foreach(prog usable_views usable_cxx)
      add_test(NAME consistency_${prog}_${rate}_${cid}
        COMMAND sh ${MS_CONS_DIR}/run.sh $<TARGET_FILE:memscope> $<TARGET_FILE:consistency_${prog}>
                MEMSCOPE_SAMPLE_RATE=${rate} MEMSCOPE_CHECKS=${checks}
                CONSISTENCY_DUMP_DIR=${MS_CONS_OUT})
      set_tests_properties(consistency_${prog}_${rate}_${cid} PROPERTIES LABELS consistency TIMEOUT 300)
    endforeach()
  endforeach()
endforeach()

# Defect: MEMSCOPE_OUTPUT is kept as getenv()'s pointer; a program that rewrites its environment
# strings (setproctitle: redis-server, nginx, postgres) loses it and no dump is written at exit.
# Enable when alloc/options.c copies its strings (and drop --set-proc-title no in
# test/integration/redis_server.sh).
add_executable(consistency_environ_clobber ${MS_CONS_DIR}/environ_clobber.c)
# env execs the program itself: no other process (timeout, a shell) is preloaded to write the file
add_test(NAME consistency_environ_clobber
  COMMAND sh -c "rm -f \"$1\"; env LD_PRELOAD=\"$0\" MEMSCOPE_OUTPUT=\"$1\" \"$2\" 2>&1 | tee \"$1.err\"; test -s \"$1\" && ! grep -q memscope \"$1.err\" || { echo \"FAIL: no dump at $1\"; exit 1; }"
          $<TARGET_FILE:memscope> ${MS_CONS_OUT}/environ_clobber.msp $<TARGET_FILE:consistency_environ_clobber>)
set_tests_properties(consistency_environ_clobber PROPERTIES LABELS consistency TIMEOUT 60)

# Defect: ms_track()/ms_ref_retain() on an interior pointer reads the program's data before it as
# a header and, when that data looks like a live tag, sets the NAMED bit in it. Enable when fixed
# (the side-table rewrite of alloc/ should make it pass).
add_executable(consistency_track_interior ${MS_CONS_DIR}/track_interior.c)
target_include_directories(consistency_track_interior PRIVATE ${CMAKE_SOURCE_DIR}/include)
add_test(NAME consistency_track_interior
  COMMAND sh ${MS_CONS_DIR}/run.sh $<TARGET_FILE:memscope> $<TARGET_FILE:consistency_track_interior>)
set_tests_properties(consistency_track_interior PROPERTIES LABELS consistency TIMEOUT 60)

# Gap: a write after free into a freed block's slack (past the request, within the usable size)
# is not found: the quarantine fills and checks only the requested bytes. The "req" variant (the
# same write at offset 0) shows the expected end. Enable the slack one when the fill covers the
# usable size.
add_executable(consistency_quarantine_slack ${MS_CONS_DIR}/quarantine_slack.c)
target_compile_options(consistency_quarantine_slack PRIVATE -O0 -Wno-use-after-free)
foreach(where req slack)
  add_test(NAME consistency_quarantine_${where}
    COMMAND sh ${CMAKE_SOURCE_DIR}/test/regress/run.sh $<TARGET_FILE:memscope>
            $<TARGET_FILE:consistency_quarantine_slack> abort use_after_free MEMSCOPE_CHECKS=quarantine
            QUARANTINE_WHERE=${where})
  set_tests_properties(consistency_quarantine_${where} PROPERTIES LABELS consistency TIMEOUT 60)
endforeach()
set_tests_properties(consistency_quarantine_slack PROPERTIES DISABLED TRUE)
