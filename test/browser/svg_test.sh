#!/bin/sh
# svg_test.sh — the SVG charts through the real pipeline: dumps made by gen_dump (the fixed
# examples: full, empty, one-of-each; and a synthetic dump with thousands of symbolised stacks)
# are converted with `memscope convert -o x.svg [--chart C]`, every file must be well-formed
# XML (xmllint) and render to a non-empty PNG (rsvg-convert). Also checks report_hostile.svg,
# written by test_report (hostile names, invalid UTF-8).
#   svg_test.sh MEMSCOPE GEN_DUMP WORKDIR [EXTRA_SVG...]
set -u
ms=$1 gen=$2 work=$3; shift 3
for tool in xmllint rsvg-convert; do
  command -v $tool >/dev/null 2>&1 || { echo "FAIL: $tool missing (apt-get install libxml2-utils librsvg2-bin)"; exit 1; }
done
mkdir -p "$work"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check_svg() {  # FILE NAME
  if ! xmllint --noout "$1" 2>"$work/xmllint.err"; then bad "$2: not well-formed XML: $(head -c 300 "$work/xmllint.err")"; return; fi
  if ! rsvg-convert "$1" -o "${1%.svg}.png" 2>"$work/rsvg.err"; then bad "$2: rsvg-convert failed: $(head -c 300 "$work/rsvg.err")"; return; fi
  size=$(wc -c < "${1%.svg}.png")
  [ "$size" -gt 1000 ] && ok "$2 ($(wc -c < "$1") bytes of SVG, $size bytes of PNG)" || bad "$2: PNG only $size bytes"
}
for v in 0 1 2; do
  "$gen" example $v "$work/ex$v.msp" || { bad "gen_dump example $v"; continue; }
  for chart in all timeline flamegraph sites; do
    out="$work/ex$v-$chart.svg"
    if [ $chart = all ]; then "$ms" convert "$work/ex$v.msp" -o "$out"; else "$ms" convert "$work/ex$v.msp" -o "$out" --chart $chart; fi ||
      { bad "memscope convert example $v --chart $chart"; continue; }
    check_svg "$out" "example $v, chart $chart"
  done
done
if "$gen" synthetic "$work/syn.msp" 20000 5000 12 && "$ms" convert "$work/syn.msp" -o "$work/syn.svg"; then
  check_svg "$work/syn.svg" "synthetic dump, 5000 stacks"
  grep -q "<title>" "$work/syn.svg" && ok "flame graph frames carry <title> tooltips" || bad "no <title> tooltips"
else
  bad "synthetic dump conversion"
fi
"$ms" convert "$work/ex0.msp" -o "$work/bad.svg" --chart pie 2>/dev/null && bad "unknown chart accepted" || ok "unknown chart rejected"
for f in "$@"; do
  [ -f "$f" ] && check_svg "$f" "$(basename "$f")" || bad "$f missing"
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
