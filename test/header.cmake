# The public header (include/memscope.h): test/header/matrix.sh compiles test/header/api_calls.c
# as C99 -pedantic, C11, C17 and C++11/14/17/20 (gcc, g++ and clang when installed) with
# -Wall -Wextra -Werror, never linked with memscope, and runs each binary without memscope
# (every call: the documented "not loaded" result, no crash) and with LD_PRELOAD (calls work).
if(NOT TARGET memscope)
  return()
endif()
add_test(NAME header_matrix
  COMMAND sh ${CMAKE_SOURCE_DIR}/test/header/matrix.sh ${CMAKE_SOURCE_DIR} $<TARGET_FILE:memscope>
          ${CMAKE_CURRENT_BINARY_DIR}/header-matrix)
set_tests_properties(header_matrix PROPERTIES LABELS core TIMEOUT 300)
