#!/bin/sh
# workload.sh — runs one of issue 17's real workloads under memscope and writes its dump, for the
# screen-vs-JSON browser tests (test/report.cmake, report_browser_python / _sqlite).
#   workload.sh MEMSCOPE OUT.msp python|sqlite
#   python: python3 with PYTHONMALLOC=malloc (so every object goes through malloc) building
#           200k dicts and dumping them as JSON;
#   sqlite: the sqlite3 shell inserting 100k random 100-byte blobs into an in-memory table.
# Exit 77 (ctest's skip) when the program is not installed.
set -eu
ms=$1 out=$2 what=$3
mkdir -p "$(dirname "$out")"
rm -f "$out"
case $what in
python)
  command -v python3 >/dev/null 2>&1 || { echo "SKIPPED: no python3" >&2; exit 77; }
  PYTHONMALLOC=malloc exec "$ms" run -q -o "$out" -- python3 -c '
import json
rows = [{"id": i, "name": "item%d" % i, "tags": [i % 7, i % 11]} for i in range(200000)]
text = json.dumps(rows)
print(len(rows), len(text))'
  ;;
sqlite)
  command -v sqlite3 >/dev/null 2>&1 || { echo "SKIPPED: no sqlite3 (apt-get install sqlite3)" >&2; exit 77; }
  exec "$ms" run -q -o "$out" -- sqlite3 :memory: \
    "create table t(id integer primary key, b blob);
     with recursive c(x) as (select 1 union all select x + 1 from c where x < 100000)
     insert into t(b) select randomblob(100) from c;
     select count(*), sum(length(b)) from t;"
  ;;
*) echo "usage: workload.sh MEMSCOPE OUT.msp python|sqlite" >&2; exit 2 ;;
esac
