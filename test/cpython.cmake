# CPython's own regression tests (Debian's libpython3.11-testsuite) on memscope: 27 modules about
# processes, descriptors, signals, threads, mmap and large allocations, with PYTHONMALLOC=malloc,
# first on bare mimalloc (the baseline), then on memscope at rate 0 and rate 1; every module that
# passes on mimalloc must pass on memscope (test/cpython/cpython_subset.py). Label `cpython`:
# run by `make test-cpython` (which .ci/run calls), not by `make test`.
if(NOT TARGET memscope OR NOT TARGET mimalloc)
  return()
endif()
set(MS_CPY_DIR ${CMAKE_CURRENT_BINARY_DIR}/cpython)
set(MS_CPY ${CMAKE_CURRENT_SOURCE_DIR}/cpython/cpython_subset.py)
add_test(NAME cpython_baseline COMMAND python3 ${MS_CPY} baseline ${MS_CPY_DIR} $<TARGET_FILE:mimalloc>)
set_tests_properties(cpython_baseline PROPERTIES FIXTURES_SETUP cpython_base)
foreach(mode rate0 rate1)
  add_test(NAME cpython_${mode} COMMAND python3 ${MS_CPY} ${mode} ${MS_CPY_DIR} $<TARGET_FILE:memscope>)
  set_tests_properties(cpython_${mode} PROPERTIES FIXTURES_REQUIRED cpython_base)
endforeach()
set_tests_properties(cpython_baseline cpython_rate0 cpython_rate1 PROPERTIES
  LABELS cpython TIMEOUT 3600 SKIP_RETURN_CODE 77)
