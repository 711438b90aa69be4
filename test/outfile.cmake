# Output files (export/outfile.c): the helper itself (test_outfile: planted symlinks, targets
# that change while written) and every writer through it (outfile_cli: memscope convert -o,
# MEMSCOPE_OUTPUT dumps, memscope run -o checked before CMD runs).
if(NOT TARGET msdump OR NOT TARGET memscope-cli)
  return()
endif()
ms_unit_test(outfile SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/outfile/test_outfile.c LIBS msdump)
add_test(NAME outfile_cli COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/outfile/outfile_test.sh
  $<TARGET_FILE:memscope-cli> $<TARGET_FILE:memscope>)
set_tests_properties(outfile outfile_cli PROPERTIES LABELS core TIMEOUT 300)
