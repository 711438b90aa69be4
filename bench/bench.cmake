# Benchmark programs, built with the project and run by bench/run.sh (not by ctest).
# Included by bench/CMakeLists.txt. The churn programs use only the C library's malloc API, so
# the same binary runs on glibc, on bare mimalloc and on memscope via LD_PRELOAD: the only thing
# that changes between the compared runs is the allocator.
set(MS_BENCH_DIR ${CMAKE_CURRENT_LIST_DIR})

add_executable(bench_churn ${MS_BENCH_DIR}/bench_churn.c)
target_compile_options(bench_churn PRIVATE -O2)
target_link_libraries(bench_churn PRIVATE Threads::Threads m)

# Stack-capture cost: the chain is compiled with and without frame pointers, and the driver
# keeps frame pointers so that the frame-pointer walk is measured where it can work.
add_library(bench_unwind_chain_fp OBJECT ${MS_BENCH_DIR}/unwind_chain.c)
target_compile_definitions(bench_unwind_chain_fp PRIVATE CHAIN_NAME=ms_chain_fp)
target_compile_options(bench_unwind_chain_fp PRIVATE -O2 -fno-omit-frame-pointer)
add_library(bench_unwind_chain_nofp OBJECT ${MS_BENCH_DIR}/unwind_chain.c)
target_compile_definitions(bench_unwind_chain_nofp PRIVATE CHAIN_NAME=ms_chain_nofp)
target_compile_options(bench_unwind_chain_nofp PRIVATE -O2 -fomit-frame-pointer)
add_executable(bench_unwind ${MS_BENCH_DIR}/bench_unwind.c ${CMAKE_SOURCE_DIR}/track/cfi_cache.c
  $<TARGET_OBJECTS:bench_unwind_chain_fp> $<TARGET_OBJECTS:bench_unwind_chain_nofp>)
target_include_directories(bench_unwind PRIVATE ${CMAKE_SOURCE_DIR}/alloc ${CMAKE_SOURCE_DIR}/track
  ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/export/dump)
target_compile_options(bench_unwind PRIVATE -O2 -fno-omit-frame-pointer)
target_link_libraries(bench_unwind PRIVATE PkgConfig::UNWIND Threads::Threads)

# The yardstick configuration of run.sh: mimalloc + a bare 16-byte header (header_floor.c).
add_library(ms_header_floor SHARED ${MS_BENCH_DIR}/header_floor.c)
target_compile_options(ms_header_floor PRIVATE -O2 -fno-builtin)
target_link_libraries(ms_header_floor PRIVATE mimalloc)
set_target_properties(ms_header_floor PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)

# Exact-mode workload (bench/exact.sh): std::map / std::string churn through libstdc++.
add_executable(bench_cxx ${MS_BENCH_DIR}/bench_cxx.cpp)
target_compile_options(bench_cxx PRIVATE -O2)

# Memory per live block (bench/exact.sh): COUNT live blocks of SIZE bytes, VmRSS before/after.
add_executable(bench_live_metadata ${MS_BENCH_DIR}/live_metadata.c)
target_compile_options(bench_live_metadata PRIVATE -O2 -fno-builtin)
