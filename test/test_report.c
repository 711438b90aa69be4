/* test_report.c — unit tests of export/report/: the HTML page writer's embedding of the JSON
 * (markup in the profiled program's strings must stay text) and the SVG charts (escaping,
 * invalid UTF-8, empty models, chart selection). The browser tests (test/browser/) check what
 * the page shows; these check the bytes written.
 * The hostile SVG is also written to report_hostile.svg for the xmllint/rsvg-convert test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memscope.h"
#include "report.h"

static char *render_html(const char *json, size_t *len) {
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  assert_non_null(f);
  assert_int_equal(_ms_html_write_json(f, json, strlen(json)), MS_OK);
  fclose(f);
  return buf;
}

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p++) n++;
  return n;
}

static void test_report_html_escapes_markup(void **state) {
  (void)state;
  const char *json = "{\"process\":{\"exe\":\"/x/</script><b>evil</b><!--\"},\"n\":\"a&b>c\"}";
  size_t len;
  char *html = render_html(json, &len);
  assert_null(strstr(html, "</script><b>"));
  assert_null(strstr(html, "<b>evil"));
  assert_non_null(strstr(html, "\\u003c/script\\u003e\\u003cb\\u003eevil"));
  assert_non_null(strstr(html, "a\\u0026b\\u003ec"));
  /* The data element holds exactly the JSON with the three characters escaped. */
  const char *open = "<script type=\"application/json\" id=\"ms-data\">";
  char *start = strstr(html, open);
  assert_non_null(start);
  start += strlen(open);
  char *end = strstr(start, "</script>");
  assert_non_null(end);
  size_t specials = 0;
  for (const char *p = json; *p; p++) specials += *p == '<' || *p == '>' || *p == '&';
  assert_int_equal((size_t)(end - start), strlen(json) + 5 * specials); /* each became \u00XX */
  free(html);
}

static void test_report_html_is_self_contained(void **state) {
  (void)state;
  size_t len;
  char *html = render_html("{}", &len);
  /* No external script, stylesheet, image or font: everything is inline. */
  assert_null(strstr(html, "<script src"));
  assert_null(strstr(html, "<link"));
  assert_null(strstr(html, "<img"));
  assert_null(strstr(html, "@import"));
  /* The CSP forbids fetches, so the page cannot reach the network even by mistake. */
  assert_non_null(strstr(html, "default-src 'none'"));
  /* Our scripts are all there, in order: data first, then the code that reads it. */
  char *data = strstr(html, "id=\"ms-data\"");
  char *main_js = strstr(html, "window.memscope =");
  assert_non_null(data);
  assert_non_null(main_js);
  assert_true(data < main_js);
  assert_non_null(strstr(html, "MS.FlameGraph = FlameGraph"));
  assert_non_null(strstr(html, "MS.DataTable = DataTable"));
  assert_true(count(html, "</html>") == 1);
  free(html);
}

/* ------------------------------------------------------------------ a hand-made model */

typedef struct fake {
  ms_dump_t d;
  ms_model_t m;
  ms_frame_t frames[4];
  uint32_t st0[3], st1[2];
  ms_mstack_t stacks[2];
  ms_msite_t sites[2];
  uint32_t order[2];
  ms_dump_point_t tl[3];
} fake_t;

static void fake_init(fake_t *f) {
  memset(f, 0, sizeof *f);
  f->d.process.exe = "/bin/a&b<c>";
  f->d.summary.peak_live_bytes = 3000;
  f->d.summary.peak_time_ns = 2000000;
  f->tl[0] = (ms_dump_point_t){0, 100, 5000};
  f->tl[1] = (ms_dump_point_t){2000000, 3000, 9000};
  f->tl[2] = (ms_dump_point_t){4000000, 1000, 8000};
  f->d.timeline = f->tl;
  f->d.n_timeline = 3;
  f->m.dump = &f->d;
  const char *names[4] = {"main", "parse<b>&\"q\"</b>", "bad\xff\xfe utf8 \x01", "alloc_\xc3\xa9t\xc3\xa9"};
  for (int i = 0; i < 4; i++) {
    f->frames[i] = (ms_frame_t){.address = 0x1000u + (uint64_t)i, .function = names[i], .file = "src/<x>.c",
                                .line = 10u + (uint32_t)i, .module = MS_DUMP_NONE, .quality = MS_SYM_DWARF,
                                .key_hash = 77u + (uint64_t)i};
  }
  f->st0[0] = 1; f->st0[1] = 2; f->st0[2] = 0;  /* innermost first: parse <- bad <- main */
  f->st1[0] = 3; f->st1[1] = 0;
  f->stacks[0] = (ms_mstack_t){3, f->st0, 3, 0, 1, 0};
  f->stacks[1] = (ms_mstack_t){2, f->st1, 2, 1, 2, 0};
  f->sites[0] = (ms_msite_t){.stack = 0, .tag = MS_DUMP_NONE, .live_bytes = 2000, .live_count = 2, .total_bytes = 5000, .total_count = 9};
  f->sites[1] = (ms_msite_t){.stack = 1, .tag = MS_DUMP_NONE, .live_bytes = 1000, .live_count = 1, .total_bytes = 9000, .total_count = 3};
  f->order[0] = 1; f->order[1] = 0;
  f->m.frames = f->frames; f->m.n_frames = 4;
  f->m.stacks = f->stacks; f->m.n_stacks = 2;
  f->m.sites = f->sites; f->m.n_sites = 2;
  f->m.by_total = f->order; f->m.by_peak = f->order; f->m.by_count = f->order; f->m.by_temp = f->order;
}

static char *render_svg(const ms_model_t *m, const char *chart, int *rc) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  *rc = ms_svg_write(f, m, chart);
  fclose(f);
  return buf;
}

/* Every byte sequence is valid UTF-8 and no control character other than \t\n\r remains. */
static int valid_xml_chars(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') return 0;
    if (*p < 0x80) { p++; continue; }
    int n = *p >= 0xF0 ? 3 : *p >= 0xE0 ? 2 : *p >= 0xC2 ? 1 : -1;
    if (n < 0 || *p > 0xF4) return 0;
    for (int i = 1; i <= n; i++) if ((p[i] & 0xC0) != 0x80) return 0;
    p += n + 1;
  }
  return 1;
}

static void test_report_svg_escapes_hostile_names(void **state) {
  (void)state;
  fake_t f;
  fake_init(&f);
  int rc;
  char *svg = render_svg(&f.m, NULL, &rc);
  assert_int_equal(rc, MS_OK);
  assert_null(strstr(svg, "<b>"));
  assert_non_null(strstr(svg, "parse&lt;b&gt;&amp;&quot;q&quot;&lt;/b&gt;"));
  assert_non_null(strstr(svg, "/bin/a&amp;b&lt;c&gt;"));
  assert_non_null(strstr(svg, "alloc_\xc3\xa9t\xc3\xa9"));        /* valid UTF-8 kept */
  assert_non_null(strstr(svg, "bad\xef\xbf\xbd\xef\xbf\xbd utf8")); /* invalid bytes -> U+FFFD */
  assert_true(valid_xml_chars(svg));
  assert_non_null(strstr(svg, "peak 2.9 KiB"));
  assert_int_equal(count(svg, "<svg"), 1);
  FILE *out = fopen("report_hostile.svg", "w");
  if (out) { fputs(svg, out); fclose(out); }
  free(svg);
}

static void test_report_svg_charts_selectable(void **state) {
  (void)state;
  fake_t f;
  fake_init(&f);
  int rc;
  char *svg = render_svg(&f.m, "timeline", &rc);
  assert_int_equal(rc, MS_OK);
  assert_non_null(strstr(svg, "Live heap and RSS"));
  assert_null(strstr(svg, "flame graph"));
  free(svg);
  svg = render_svg(&f.m, "flamegraph", &rc);
  assert_int_equal(rc, MS_OK);
  assert_non_null(strstr(svg, "Allocation flame graph"));
  /* Both sites share main: one "main" frame spanning all 3000 live bytes (100%). */
  assert_non_null(strstr(svg, "main (src/&lt;x&gt;.c:10) \xE2\x80\x94 2.9 KiB live (100.00%)"));
  free(svg);
  svg = render_svg(&f.m, "sites", &rc);
  assert_int_equal(rc, MS_OK);
  assert_non_null(strstr(svg, "Top allocation sites by live bytes"));
  free(svg);
  svg = render_svg(&f.m, "pie", &rc);
  assert_int_equal(rc, MS_EINVAL);
  free(svg);
}

/* A format-3 dump lists the biggest sites at each timeline point: the timeline is stacked by
 * them (one area per site, then "other sites"), with the sites' legend under it. */
static void test_report_svg_timeline_stacked_by_site(void **state) {
  (void)state;
  fake_t f;
  fake_init(&f);
  ms_dump_point_site_t rows[3] = {{0, 0, 60}, {1, 0, 2000}, {1, 1, 900}};
  f.d.format_version = 3;
  f.d.timeline_sites = rows;
  f.d.n_timeline_sites = 3;
  f.sites[0].peak_bytes = 2000, f.sites[1].peak_bytes = 1000;
  f.order[0] = 0, f.order[1] = 1; /* by_peak */
  int rc;
  char *svg = render_svg(&f.m, "timeline", &rc);
  assert_int_equal(rc, MS_OK);
  assert_non_null(strstr(svg, "Live heap over time, by allocation site"));
  assert_int_equal(count(svg, "class=\"site-area\""), 3); /* two sites and the others */
  assert_non_null(strstr(svg, ">other sites</text>"));
  assert_non_null(strstr(svg, "<title>parse&lt;b&gt;")); /* site 0's label, escaped */
  free(svg);
  f.d.format_version = 2; /* older dumps: the single live-heap area */
  svg = render_svg(&f.m, "timeline", &rc);
  assert_int_equal(count(svg, "site-area"), 0);
  assert_non_null(strstr(svg, "Live heap and RSS over time"));
  free(svg);
}

static void test_report_svg_empty_model(void **state) {
  (void)state;
  ms_dump_t d;
  ms_model_t m;
  memset(&d, 0, sizeof d);
  memset(&m, 0, sizeof m);
  m.dump = &d;
  int rc;
  char *svg = render_svg(&m, NULL, &rc);
  assert_int_equal(rc, MS_OK);
  assert_non_null(strstr(svg, "No timeline"));
  assert_non_null(strstr(svg, "No allocation sites"));
  assert_non_null(strstr(svg, "</svg>"));
  free(svg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_report_html_escapes_markup),
    cmocka_unit_test(test_report_html_is_self_contained),
    cmocka_unit_test(test_report_svg_escapes_hostile_names),
    cmocka_unit_test(test_report_svg_charts_selectable),
    cmocka_unit_test(test_report_svg_timeline_stacked_by_site),
    cmocka_unit_test(test_report_svg_empty_model),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
