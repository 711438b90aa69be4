# test/cli.cmake — the converter (export/cli/): model, symboliser, diff, CLI exit codes and
# messages, golden files, and the large-dump measurement tool.
if(TARGET mscli)
  set(MS_CLI_TEST_DIR ${CMAKE_CURRENT_SOURCE_DIR}/cli)

  # Writes example, synthetic (large) and ASLR-shifted dump pairs with ms_dump_write.
  add_executable(gen_dump ${MS_CLI_TEST_DIR}/gen_dump.c)
  target_link_libraries(gen_dump PRIVATE msdump)
  target_compile_options(gen_dump PRIVATE -g)
endif()
