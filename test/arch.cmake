# test/arch.cmake — the architecture's one-way rule (docs/ARCHITECTURE.md): no file includes a
# header of a higher layer, and alloc/ and track/ see only export/dump/dump.h of export/.
# arch_layers_selftest plants violations in a scratch tree and requires each to be caught, so
# arch_layers cannot pass by checking nothing.
add_test(NAME arch_layers COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/arch/layers.sh ${CMAKE_SOURCE_DIR})
add_test(NAME arch_layers_selftest COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/arch/layers.sh --self-test)
set_tests_properties(arch_layers arch_layers_selftest PROPERTIES LABELS arch TIMEOUT 60)
