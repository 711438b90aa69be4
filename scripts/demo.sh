#!/bin/sh
# make demo: run the example program under memscope and write a report in every format.
set -e
BUILD=${1:-build}
OUT=$BUILD/demo-out
mkdir -p "$OUT"
rm -f "$OUT"/demo.*.msp
MS="$BUILD/bin/memscope"
"$MS" run -o "$OUT/demo.%p.msp" -- "$BUILD/bin/demo"
DUMP=$(ls "$OUT"/demo.*.msp | head -n 1)
"$MS" report "$DUMP" > "$OUT/report.txt"
"$MS" convert "$DUMP" -o "$OUT/demo.json"
"$MS" convert "$DUMP" -o "$OUT/demo.svg"
"$MS" convert "$DUMP" -o "$OUT/demo.html"
head -n 40 "$OUT/report.txt"
echo
echo "memscope demo outputs:"
for f in "$DUMP" "$OUT/report.txt" "$OUT/demo.json" "$OUT/demo.svg" "$OUT/demo.html"; do
  echo "  $(cd "$(dirname "$f")" && pwd)/$(basename "$f")"
done
echo "Open the HTML report in a browser (it works offline)."
