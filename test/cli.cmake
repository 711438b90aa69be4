# test/cli.cmake — the converter (export/model, export/formats, export/cli): model, symboliser, diff, CLI exit codes and
# messages, golden files, and the large-dump measurement tool.
if(TARGET mscli)
  set(MS_CLI_TEST_DIR ${CMAKE_CURRENT_SOURCE_DIR}/cli)

  # Writes example, synthetic (large) and ASLR-shifted dump pairs with ms_dump_write.
  add_executable(gen_dump ${MS_CLI_TEST_DIR}/gen_dump.c)
  target_link_libraries(gen_dump PRIVATE msdump)
  target_compile_options(gen_dump PRIVATE -g)

  # A -g program to symbolise, a stripped copy and its separate debug file.
  add_executable(ms_symtarget ${MS_CLI_TEST_DIR}/symtarget.c)
  target_compile_options(ms_symtarget PRIVATE -g -O1)
  set_target_properties(ms_symtarget PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  set(_st ${CMAKE_CURRENT_BINARY_DIR}/ms_symtarget)
  add_custom_command(OUTPUT ${_st}.stripped ${_st}.debug
    COMMAND ${CMAKE_OBJCOPY} --strip-all ${_st} ${_st}.stripped
    COMMAND ${CMAKE_OBJCOPY} --only-keep-debug ${_st} ${_st}.debug
    DEPENDS ms_symtarget COMMENT "Stripping ms_symtarget" VERBATIM)
  add_custom_target(ms_symtarget_variants ALL DEPENDS ${_st}.stripped ${_st}.debug)

  # The fixed program of the golden tests, built without optimisation so lines are exact.
  add_executable(golden_prog ${MS_CLI_TEST_DIR}/golden_prog.c)
  target_compile_options(golden_prog PRIVATE -g -O0)
  target_include_directories(golden_prog PRIVATE ${CMAKE_SOURCE_DIR}/include)

  ms_unit_test(model SOURCES test_model.c LIBS mscli)
  ms_unit_test(json_compact SOURCES test_json_compact.c LIBS msformats)
  ms_unit_test(utf8 SOURCES test_utf8.c LIBS msformats)
  ms_unit_test(symbolize SOURCES test_symbolize.c LIBS msmodel)
  add_dependencies(test_symbolize ms_symtarget_variants)
  target_compile_definitions(test_symbolize PRIVATE MS_SYMTARGET="${_st}"
    MS_SYMTARGET_STRIPPED="${_st}.stripped" MS_SYMTARGET_DEBUG="${_st}.debug")

  # Command-line behaviour: exit codes and messages for bad input and usage errors, --help,
  # conversions, ASLR-proof diff.
  find_package(Python3 COMPONENTS Interpreter)
  if(Python3_Interpreter_FOUND)
    add_test(NAME cli_errors COMMAND Python3::Interpreter ${MS_CLI_TEST_DIR}/cli_test.py errors
      $<TARGET_FILE:memscope-cli> $<TARGET_FILE:gen_dump> ${CMAKE_CURRENT_BINARY_DIR}/cli-errors
      ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus)
    set_tests_properties(cli_errors PROPERTIES TIMEOUT 300)
    # Golden files: a real run of golden_prog on the library, converted and reported.
    if(TARGET memscope)
      add_test(NAME cli_golden COMMAND Python3::Interpreter ${MS_CLI_TEST_DIR}/cli_test.py golden
        $<TARGET_FILE:memscope-cli> $<TARGET_FILE:golden_prog> ${CMAKE_SOURCE_DIR}/test/golden
        ${CMAKE_CURRENT_BINARY_DIR}/cli-golden)
      set_tests_properties(cli_golden PROPERTIES TIMEOUT 300)
    endif()
    # --compact: resolved, it is exactly the default JSON (example, empty, synthetic, --top,
    # and a real run of the demo when it is built).
    set(_ms_compact_demo "")
    if(TARGET demo AND TARGET memscope)
      set(_ms_compact_demo $<TARGET_FILE:demo>)
    endif()
    add_test(NAME cli_compact COMMAND Python3::Interpreter ${MS_CLI_TEST_DIR}/compact_test.py
      $<TARGET_FILE:memscope-cli> $<TARGET_FILE:gen_dump> ${CMAKE_CURRENT_BINARY_DIR}/cli-compact
      ${_ms_compact_demo})
    set_tests_properties(cli_compact PROPERTIES TIMEOUT 300)
  else()
    foreach(t cli_errors cli_golden cli_compact)
      ms_skipped_test(${t} "no python3 to run test/cli/*.py")
    endforeach()
  endif()
endif()
