# The demo program (make demo): built with -g and without frame pointers, like most real code.
add_executable(demo ${CMAKE_CURRENT_LIST_DIR}/demo.c)
target_include_directories(demo PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_compile_options(demo PRIVATE -g -O2 -fomit-frame-pointer)
target_link_libraries(demo PRIVATE Threads::Threads)
