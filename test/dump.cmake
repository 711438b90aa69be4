# test/dump.cmake — the dump format (export/dump/dump_*.c): unit tests, fuzz corpus replay under
# ASan/UBSan, and a bounded libFuzzer run when clang with libFuzzer is available.
set(MS_DUMP_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
set(MS_DUMP_SRC ${CMAKE_SOURCE_DIR}/export/dump/dump_schema.c ${CMAKE_SOURCE_DIR}/export/dump/dump_read.c
                ${CMAKE_SOURCE_DIR}/export/dump/dump_free.c
                ${CMAKE_SOURCE_DIR}/export/dump/dump_write.c)

ms_unit_test(dump SOURCES test_dump.c LIBS msdump)
target_compile_definitions(test_dump PRIVATE MS_TEST_CORPUS_DIR="${MS_DUMP_FUZZ_DIR}/corpus")

# FORMAT.md's field lists against the schema (dump_schema.h); `dump_schema_doc --write
# docs/FORMAT.md` regenerates them after a change to the tables.
add_executable(dump_schema_doc ${CMAKE_CURRENT_SOURCE_DIR}/dump_schema_doc.c)
target_link_libraries(dump_schema_doc PRIVATE msdump)
add_test(NAME dump_schema_doc COMMAND dump_schema_doc --check ${CMAKE_SOURCE_DIR}/docs/FORMAT.md)

# Regenerates the seed corpus by hand: `dump_make_corpus test/fuzz/corpus` (see the file).
add_executable(dump_make_corpus ${MS_DUMP_FUZZ_DIR}/make_corpus.c)
target_link_libraries(dump_make_corpus PRIVATE msdump)
target_compile_definitions(dump_make_corpus PRIVATE _GNU_SOURCE)

# (a) Replay corpus + regressions through the reader built with ASan/UBSan, any compiler.
include(CheckCSourceCompiles)
set(CMAKE_REQUIRED_FLAGS "-fsanitize=address,undefined")
set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=address,undefined")
check_c_source_compiles("int main(void) { return 0; }" MS_HAVE_ASAN_UBSAN)
unset(CMAKE_REQUIRED_FLAGS)
unset(CMAKE_REQUIRED_LINK_OPTIONS)
if(MS_HAVE_ASAN_UBSAN)
  add_executable(dump_fuzz_replay ${MS_DUMP_FUZZ_DIR}/replay_main.c
    ${MS_DUMP_FUZZ_DIR}/fuzz_dump_read.c ${MS_DUMP_SRC})
  target_include_directories(dump_fuzz_replay PRIVATE ${CMAKE_SOURCE_DIR}/export/dump
    ${CMAKE_SOURCE_DIR}/include)
  target_compile_definitions(dump_fuzz_replay PRIVATE _GNU_SOURCE)
  target_compile_options(dump_fuzz_replay PRIVATE -fsanitize=address,undefined
    -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(dump_fuzz_replay PRIVATE -fsanitize=address,undefined)
  target_link_libraries(dump_fuzz_replay PRIVATE msgpackc)
  add_test(NAME dump_fuzz_replay COMMAND dump_fuzz_replay
    ${MS_DUMP_FUZZ_DIR}/corpus ${MS_DUMP_FUZZ_DIR}/regressions)
  set_tests_properties(dump_fuzz_replay PROPERTIES
    ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
else()
  message(STATUS "dump: the compiler cannot build with -fsanitize=address,undefined; "
                 "dump_fuzz_replay is skipped")
  ms_skipped_test(dump_fuzz_replay "the compiler cannot build with -fsanitize=address,undefined")
endif()

# (b) libFuzzer for a bounded time. Built with clang directly (the project compiler may be
# gcc); the reader needs only the msgpack headers, no library.
set(MEMSCOPE_FUZZ_SECONDS 60 CACHE STRING "seconds of libFuzzer in the dump_fuzz test")
find_program(MS_CLANG NAMES clang clang-16 clang-15 clang-14)
set(MS_HAVE_LIBFUZZER OFF)
if(MS_CLANG)
  set(_probe ${CMAKE_CURRENT_BINARY_DIR}/libfuzzer_probe.c)
  file(WRITE ${_probe} "#include <stddef.h>\n#include <stdint.h>\n"
    "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
  execute_process(COMMAND ${MS_CLANG} -fsanitize=fuzzer,address,undefined ${_probe}
    -o ${CMAKE_CURRENT_BINARY_DIR}/libfuzzer_probe RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
  if(_rc EQUAL 0)
    set(MS_HAVE_LIBFUZZER ON)
  endif()
endif()
if(MS_HAVE_LIBFUZZER)
  set(_fuzz_bin ${CMAKE_CURRENT_BINARY_DIR}/fuzz_dump_read)
  set(_mp_inc "$<TARGET_PROPERTY:msgpackc,INTERFACE_INCLUDE_DIRECTORIES>")
  add_custom_command(OUTPUT ${_fuzz_bin}
    COMMAND ${MS_CLANG} -g -O1 -std=c11 -D_GNU_SOURCE
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
      -I${CMAKE_SOURCE_DIR}/export/dump -I${CMAKE_SOURCE_DIR}/include
      "$<$<BOOL:${_mp_inc}>:-I$<JOIN:${_mp_inc},;-I>>"
      ${MS_DUMP_FUZZ_DIR}/fuzz_dump_read.c ${MS_DUMP_SRC} -o ${_fuzz_bin}
    DEPENDS ${MS_DUMP_FUZZ_DIR}/fuzz_dump_read.c ${MS_DUMP_SRC}
      ${CMAKE_SOURCE_DIR}/export/dump/dump.h ${CMAKE_SOURCE_DIR}/export/dump/dump_schema.h
      ${CMAKE_SOURCE_DIR}/include/memscope.h
    COMMAND_EXPAND_LISTS
    COMMENT "Building the libFuzzer target fuzz_dump_read with ${MS_CLANG}")
  add_custom_target(fuzz_dump_read ALL DEPENDS ${_fuzz_bin})
  # New inputs go to a scratch corpus in the build tree (the first directory), never into
  # the committed seeds; a crash leaves its input in fuzz-artifacts/ and fails the test.
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-artifacts)
  add_test(NAME dump_fuzz COMMAND ${_fuzz_bin}
    -max_total_time=${MEMSCOPE_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/fuzz-artifacts/
    ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work ${MS_DUMP_FUZZ_DIR}/corpus ${MS_DUMP_FUZZ_DIR}/regressions)
  set_tests_properties(dump_fuzz PROPERTIES TIMEOUT 600)
else()
  message(STATUS "dump: clang with libFuzzer not found; the dump_fuzz test is skipped "
                 "(the corpus is still replayed by dump_fuzz_replay)")
  ms_skipped_test(dump_fuzz "clang with libFuzzer not found (apt-get install clang libclang-rt-14-dev)")
endif()
