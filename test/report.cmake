# Tests of export/report/ (the HTML dashboard and SVG charts). See docs/REPORTS.md.
#   report            cmocka: JSON embedding/escaping, self-containment, SVG escaping and charts
#   report_svg        memscope convert -o x.svg on example/empty/synthetic dumps: xmllint + rsvg-convert
#   report_browser_*  the HTML page in headless chromium (test/browser/run.sh, playwright-core):
#     _sample   hand-made JSON of a small program (leak, double free, variables, findings)
#     _example  memscope convert of msdump's full example dump (odd values everywhere)
#     _empty    memscope convert of an empty dump: every section says plainly there is nothing
#     _scale    memscope convert of a synthetic dump with 100k stacks: load time, filter, zoom
#     _compact_odd  hand-made compact JSON (docs/JSON.md) with out-of-range and malformed ids
#     _refcount hand-made JSON: a 1->2->1 reference count within 0.3 us on a 13 ms axis
#     _python, _sqlite  real workloads under memscope: what the page shows equals the JSON export
# Browser tests skip loudly (exit 77) where no chromium can be had, and fail under CI=true.
if(NOT TARGET msreport)
  return()
endif()
set(MS_BROWSER_DIR ${CMAKE_SOURCE_DIR}/test/browser)
set(MS_BROWSER_WORK ${CMAKE_BINARY_DIR}/browser-test)
# the dump fixtures write here, possibly before any browser test created it
file(MAKE_DIRECTORY ${MS_BROWSER_WORK})

add_executable(html_from_json ${MS_BROWSER_DIR}/html_from_json.c)
target_link_libraries(html_from_json PRIVATE msreport)

ms_unit_test(report SOURCES ${CMAKE_SOURCE_DIR}/test/test_report.c LIBS msreport)
set_tests_properties(report PROPERTIES FIXTURES_SETUP report_hostile_svg)

function(ms_browser_test name)
  add_test(NAME report_browser_${name}
    COMMAND sh ${MS_BROWSER_DIR}/run.sh ${MS_BROWSER_WORK} ${MS_BROWSER_WORK}/${name}.html
            --screenshot ${MS_BROWSER_WORK}/${name} ${ARGN})
  # RESOURCE_LOCK: one chromium at a time keeps 2-core CI machines from timing out.
  set_tests_properties(report_browser_${name} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600
    RESOURCE_LOCK memscope_chromium)
endfunction()

ms_browser_test(sample --json ${MS_BROWSER_DIR}/sample.json --driver $<TARGET_FILE:html_from_json>
  --expect make_leaky_buffer@leaks --expect shared_cache@variables --expect drop_item@errors
  --expect new_item@errors --expect format_message@findings --expect "2.21 MiB@overview"
  --expect "libfoo.so.1@threads" --expect "double free@overview" --expect "libbar.so.2+0xa12f0@sites"
  --expect "definitely lost@leaks" --expect "suppressed: 640 B@leaks")

if(TARGET memscope-cli AND TARGET gen_dump)
  add_test(NAME report_svg COMMAND sh ${MS_BROWSER_DIR}/svg_test.sh $<TARGET_FILE:memscope-cli>
    $<TARGET_FILE:gen_dump> ${CMAKE_BINARY_DIR}/svg-test ${CMAKE_BINARY_DIR}/test/report_hostile.svg)
  if(TEST report)
    set_tests_properties(report_svg PROPERTIES FIXTURES_REQUIRED report_hostile_svg)
  endif()
  foreach(v 0:example 1:empty)
    string(REPLACE ":" ";" p ${v})
    list(GET p 0 variant)
    list(GET p 1 name)
    add_test(NAME report_dump_${name} COMMAND $<TARGET_FILE:gen_dump> example ${variant} ${MS_BROWSER_WORK}/${name}.msp)
    set_tests_properties(report_dump_${name} PROPERTIES FIXTURES_SETUP report_dump_${name})
    ms_browser_test(${name} --msp ${MS_BROWSER_WORK}/${name}.msp --memscope $<TARGET_FILE:memscope-cli>)
    set_tests_properties(report_browser_${name} PROPERTIES FIXTURES_REQUIRED report_dump_${name})
  endforeach()
  add_test(NAME report_dump_scale COMMAND $<TARGET_FILE:gen_dump> synthetic ${MS_BROWSER_WORK}/scale.msp 200000 100000 12)
  set_tests_properties(report_dump_scale PROPERTIES FIXTURES_SETUP report_dump_scale)
  ms_browser_test(scale --msp ${MS_BROWSER_WORK}/scale.msp --memscope $<TARGET_FILE:memscope-cli> --max-load-ms 30000)
  set_tests_properties(report_browser_scale PROPERTIES FIXTURES_REQUIRED report_dump_scale)
endif()

# The size guard of ms_html_write (html_model.c), exercised with a tiny limit: the page must
# say that it lists only the biggest sites.
if(TARGET memscope-cli AND TARGET gen_dump)
  ms_browser_test(cut --msp ${MS_BROWSER_WORK}/example.msp --memscope $<TARGET_FILE:memscope-cli>
    --expect "too many for one page@overview")
  set_tests_properties(report_browser_cut PROPERTIES FIXTURES_REQUIRED report_dump_example
    ENVIRONMENT MEMSCOPE_HTML_JSON_LIMIT=2000)
endif()

# The demo program run under memscope (as `make demo` does, with ENV: "" or VAR=VALUE) into
# NAME.msp by the fixture test report_dump_NAME, and the browser test NAME on its report with
# the remaining arguments (--expect ...).
function(ms_demo_report name env)
  if(NOT (TARGET memscope-cli AND TARGET demo AND TARGET memscope))
    return()
  endif()
  add_test(NAME report_dump_${name}
    COMMAND sh -c "mkdir -p \"$1\" && rm -f \"$1/${name}.msp\" && ${env} exec \"$2\" run -o \"$1/${name}.msp\" -- \"$3\""
            sh ${MS_BROWSER_WORK} $<TARGET_FILE:memscope-cli> $<TARGET_FILE:demo>)
  set_tests_properties(report_dump_${name} PROPERTIES FIXTURES_SETUP report_dump_${name})
  ms_browser_test(${name} --msp ${MS_BROWSER_WORK}/${name}.msp --memscope $<TARGET_FILE:memscope-cli>
    ${ARGN})
  set_tests_properties(report_browser_${name} PROPERTIES FIXTURES_REQUIRED report_dump_${name})
endfunction()

# The real thing: its report checked for the demo's known leaks and named variables
# (examples/demo.c).
ms_demo_report(demo ""
  --expect leak_cache_entries@leaks --expect leak_config_strings@leaks --expect leak_cache_entries@overview
  --expect histogram@variables --expect matrix@variables --expect alice@variables --expect session_t@variables
  --expect demo.c@sites)

# Hand-made compact JSON with odd ids (out of range, negative, strings, a stack that is not a
# list, a null frame): the page shows what resolves and nothing breaks.
ms_browser_test(compact_odd --json ${MS_BROWSER_DIR}/compact_odd.json --driver $<TARGET_FILE:html_from_json>
  --expect grow_table@leaks --expect bad_frame@leaks --expect lookup_table@variables --expect release_twice@errors
  --expect parse_config@errors --expect "not freed before@errors" --expect grow_table@findings --expect no_stack@sites)

# Reference counts that change within microseconds on a 13 ms axis (issue 17): a 1->2->1 in
# 0.3 us is drawn, and clicking the variable zooms to its events.
ms_browser_test(refcount --json ${MS_BROWSER_DIR}/refcount.json --driver $<TARGET_FILE:html_from_json>
  --expect session@variables)

# Issue 17's real workloads (test/browser/workload.sh): python3 with PYTHONMALLOC=malloc building
# 200k dicts, and the sqlite3 shell inserting 100k blobs, under memscope; the figures on screen
# (peak, biggest site at the peak, leak totals, growth to the peak) must equal the JSON export's.
# Skipped (77) where python3 or sqlite3 is missing (make deps installs both).
if(TARGET memscope-cli AND TARGET memscope)
  foreach(w python sqlite)
    add_test(NAME report_dump_${w} COMMAND sh ${MS_BROWSER_DIR}/workload.sh $<TARGET_FILE:memscope-cli>
      ${MS_BROWSER_WORK}/${w}.msp ${w})
    set_tests_properties(report_dump_${w} PROPERTIES FIXTURES_SETUP report_dump_${w} SKIP_RETURN_CODE 77 TIMEOUT 600)
    ms_browser_test(${w} --msp ${MS_BROWSER_WORK}/${w}.msp --memscope $<TARGET_FILE:memscope-cli> --screen-vs-json)
    set_tests_properties(report_browser_${w} PROPERTIES FIXTURES_REQUIRED report_dump_${w})
  endforeach()
endif()

# The page without the charting library (a build where libjs-dygraphs was missing).
ms_browser_test(nodygraphs --json ${MS_BROWSER_DIR}/sample.json --driver $<TARGET_FILE:html_from_json>
  --strip-dygraphs --expect "cannot zoom@timeline")

# The demo with stacks cut at 4 frames (MEMSCOPE_STACK_DEPTH=4): the flame graph draws them under
# an explicit "[truncated]" root instead of as if mid-stack frames were roots (issue 17).
ms_demo_report(demo_trunc MEMSCOPE_STACK_DEPTH=4 --expect leak_cache_entries@leaks --expect-truncated)
