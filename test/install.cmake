# Install into a temporary prefix and build downstream consumers (pkg-config, find_package).
add_test(NAME install_consumers COMMAND sh ${CMAKE_SOURCE_DIR}/test/install/check.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(install_consumers PROPERTIES TIMEOUT 300)
