# test/formats.cmake — the ecosystem formats of `memscope convert` (pprof, massif, folded stacks),
# each read by its real tool, and golden files of each on the fixed example dump.
# test/cli/formats_test.py has the checks; a missing tool (go, ms_print) is a visible SKIP.
if(TARGET mscli AND TARGET memscope AND TARGET golden_prog)
  find_package(Python3 COMPONENTS Interpreter)
  if(Python3_Interpreter_FOUND)
    # C++ at -O2 with -g: std::vector/std::map/std::string inlined, an always-inline helper, a
    # 1500-character template name.
    add_executable(formats_prog ${CMAKE_CURRENT_SOURCE_DIR}/cli/formats_prog.cpp)
    target_compile_options(formats_prog PRIVATE -g -O2)
    # MS_TRACK type names from DWARF: C and C++, with and without debug info.
    set(_tn_targets "")
    set(_tn_flags_g -g -O0)
    set(_tn_flags_nog -g0 -O0)   # -g0 last: RelWithDebInfo's -g comes first on the line
    set(_tn_flags_g2 -g -O2)
    foreach(_name g nog g2)
      foreach(lang c cpp)
        add_executable(typenames_${lang}_${_name} ${CMAKE_CURRENT_SOURCE_DIR}/cli/typenames_prog.${lang})
        target_compile_options(typenames_${lang}_${_name} PRIVATE ${_tn_flags_${_name}})
        target_include_directories(typenames_${lang}_${_name} PRIVATE ${CMAKE_SOURCE_DIR}/include)
        list(APPEND _tn_targets $<TARGET_FILE:typenames_${lang}_${_name}>)
      endforeach()
    endforeach()
    set(_ft ${CMAKE_CURRENT_SOURCE_DIR}/cli/formats_test.py)
    set(_fw ${CMAKE_CURRENT_BINARY_DIR}/formats)
    add_test(NAME formats_pprof COMMAND Python3::Interpreter ${_ft} pprof $<TARGET_FILE:memscope-cli>
      $<TARGET_FILE:golden_prog> $<TARGET_FILE:formats_prog> ${_fw}/pprof)
    add_test(NAME formats_massif COMMAND Python3::Interpreter ${_ft} massif $<TARGET_FILE:memscope-cli>
      $<TARGET_FILE:golden_prog> ${_fw}/massif)
    add_test(NAME formats_folded COMMAND Python3::Interpreter ${_ft} folded $<TARGET_FILE:memscope-cli>
      $<TARGET_FILE:golden_prog> $<TARGET_FILE:formats_prog> ${_fw}/folded)
    add_test(NAME formats_golden COMMAND Python3::Interpreter ${_ft} golden $<TARGET_FILE:memscope-cli>
      $<TARGET_FILE:gen_dump> ${CMAKE_CURRENT_SOURCE_DIR}/golden ${_fw}/golden)
    add_test(NAME formats_location COMMAND Python3::Interpreter ${_ft} location $<TARGET_FILE:memscope-cli>
      $<TARGET_FILE:formats_prog> ${CMAKE_CURRENT_SOURCE_DIR}/cli/formats_prog.cpp ${_fw}/location)
    add_test(NAME formats_typenames COMMAND Python3::Interpreter ${_ft} typenames $<TARGET_FILE:memscope-cli>
      ${_fw}/typenames ${_tn_targets})
    set_tests_properties(formats_typenames PROPERTIES TIMEOUT 300)
    add_test(NAME formats_corpus COMMAND Python3::Interpreter ${_ft} corpus $<TARGET_FILE:memscope-cli>
      ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus ${_fw}/corpus)
    set_tests_properties(formats_corpus PROPERTIES TIMEOUT 900)
    set_tests_properties(formats_pprof formats_massif PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
    set_tests_properties(formats_folded formats_golden formats_location PROPERTIES TIMEOUT 300)
  endif()
endif()

# Command-line habits: -V, report/diff --format json, run -q, run -o checked before CMD, the
# progress line on a terminal, the installed man page and bash completion, and --help, the man
# page and docs/CLI.md naming the same options.
if(TARGET memscope-cli AND TARGET golden_prog)
  find_package(Python3 COMPONENTS Interpreter)
  if(Python3_Interpreter_FOUND)
    add_test(NAME cli_habits COMMAND Python3::Interpreter ${CMAKE_CURRENT_SOURCE_DIR}/cli/habits_test.py
      $<TARGET_FILE:memscope-cli> ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} $<TARGET_FILE:golden_prog>
      ${CMAKE_CURRENT_BINARY_DIR}/cli-habits $<TARGET_FILE:gen_dump>)
    set_tests_properties(cli_habits PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
  endif()
endif()
