/* assets.h — the report's embedded assets (internal to export/report/).
 *
 * Each array is generated at build time by embed.cmake from a file in assets/ or from a
 * Debian-packaged library (libjs-dygraphs), so the HTML report is one self-contained file.
 * Lengths exclude the trailing NUL the generator appends. An empty dygraphs array means the
 * library was not found at build time; the page then draws its own simpler timeline.
 */
#ifndef MEMSCOPE_REPORT_ASSETS_H
#define MEMSCOPE_REPORT_ASSETS_H

#include <stddef.h>

#define _MS_ASSET(name) extern const unsigned char name[]; extern const size_t name##_len;
_MS_ASSET(_ms_asset_report_css)
_MS_ASSET(_ms_asset_dygraph_css)
_MS_ASSET(_ms_asset_dygraph_js)
_MS_ASSET(_ms_asset_util_js)
_MS_ASSET(_ms_asset_flame_js)
_MS_ASSET(_ms_asset_table_js)
_MS_ASSET(_ms_asset_views_js)
_MS_ASSET(_ms_asset_tree_js)
_MS_ASSET(_ms_asset_main_js)
#undef _MS_ASSET

#endif /* MEMSCOPE_REPORT_ASSETS_H */
