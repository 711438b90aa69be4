#!/bin/sh
# run.sh — runs one browser test of the HTML report (called by ctest, see test/report.cmake).
#   run.sh WORKDIR MODE HTML_OR_JSON [DRIVER]
# Installs playwright-core (npm ci, from the committed package-lock.json) into WORKDIR — the
# build directory, never the source tree — then runs report_test.js with Debian's chromium.
# No browser (or no npm) => a loud skip (exit 77, ctest SKIP_RETURN_CODE), except under CI=true,
# where a missing browser is a failure: CI must run these tests.
set -u
work=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
skip() {
  echo "########################################################################" >&2
  echo "##  SKIPPED: memscope HTML report browser test: $1" >&2
  echo "##  Install it with: apt-get install chromium nodejs npm (make deps does)" >&2
  echo "########################################################################" >&2
  if [ "${CI:-}" = "true" ]; then echo "CI=true: a browser is required, failing" >&2; exit 1; fi
  exit 77
}
chrome=${MEMSCOPE_CHROMIUM:-/usr/bin/chromium}
[ -x "$chrome" ] || skip "no chromium at $chrome"
command -v node >/dev/null 2>&1 || skip "no node"
mkdir -p "$work"
command -v npm >/dev/null 2>&1 || [ -f "$work/node_modules/playwright-core/package.json" ] ||
  skip "no npm to install playwright-core"
# The lock file makes the install reproducible; flock keeps parallel ctest jobs from racing.
(
  flock 9
  if [ ! -f "$work/node_modules/playwright-core/package.json" ] ||
     ! cmp -s "$here/package-lock.json" "$work/package-lock.json"; then
    cp "$here/package.json" "$here/package-lock.json" "$work/" &&
      (cd "$work" && npm_config_cache="$work/.npm-cache" npm ci --no-audit --no-fund --loglevel=error) >&2
  fi
) 9>"$work/.npm.lock" || skip "npm ci of playwright-core failed (no access to the npm registry?)"
NODE_PATH="$work/node_modules" MEMSCOPE_CHROMIUM="$chrome" exec node "$here/report_test.js" "$@"
