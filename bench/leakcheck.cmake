# Leak-check cost benchmark (see bench/bench_leakcheck.c), linked with -lmemscope.
add_executable(bench_leakcheck ${CMAKE_CURRENT_LIST_DIR}/bench_leakcheck.c)
target_include_directories(bench_leakcheck PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_compile_options(bench_leakcheck PRIVATE -O2 -g)
target_link_libraries(bench_leakcheck PRIVATE memscope)
target_link_options(bench_leakcheck PRIVATE -Wl,--no-as-needed)  # ms_* are weak in memscope.h
