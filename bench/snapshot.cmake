# Snapshot cost benchmark (see bench/bench_snapshot.c), linked with -lmemscope.
add_executable(bench_snapshot ${CMAKE_CURRENT_LIST_DIR}/bench_snapshot.c)
target_include_directories(bench_snapshot PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_compile_options(bench_snapshot PRIVATE -O2 -g -fno-optimize-sibling-calls)
target_link_libraries(bench_snapshot PRIVATE memscope Threads::Threads)
