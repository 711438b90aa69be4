#!/bin/bash
# bench/redis.sh — redis-server throughput and peak RSS under each allocator: Debian's
# redis-server, unmodified, driven by redis-benchmark (set, get, lpush, lpop).
#
#   bench/redis.sh [BUILD_DIR]            (default build/; needs BUILD_DIR/lib/libmemscope.so)
#
# Configurations (how the server is started):
#   jemalloc    no preload: Debian builds redis against libjemalloc2, whose malloc it binds to
#   glibc       LD_PRELOAD=libc.so.6: puts glibc's malloc ahead of jemalloc's in the lookup
#   mimalloc    LD_PRELOAD of Debian's libmimalloc.so.2 (memscope's own allocator, bare): the
#               yardstick every ratio is taken against
#   ms-0        memscope, MEMSCOPE_SAMPLE_RATE=0 (statistics only)
#   ms-512K     memscope, the default sampling (512 KiB)
#   ms-1        memscope, MEMSCOPE_SAMPLE_RATE=1 (every allocation tracked with its stack)
# ROUNDS interleaved rounds: each round starts a fresh server per configuration and runs the
# benchmark once against it, the configurations' order rotated by one each round, so that a
# slow minute on a shared machine hits every configuration alike. Per configuration and test:
# median requests/s over the rounds, min-max, and the ratio of the medians to mimalloc's. Peak
# RSS of the server: VmHWM from /proc/PID/status after the benchmark, before shutdown (median).
# Knobs (environment): ROUNDS (9), REQUESTS (-n, 100000), CLIENTS (-c, 50), PIPELINE (-P, 1),
# KEYSPACE (-r, 100000), DATA (-d, value size in bytes, 3), CONFIGS (a space-separated subset).
# Raw results: BUILD_DIR/bench-results/redis.tsv; the table is printed (markdown).
# The benchmark client runs on the same machine: read the ratios, not the absolute numbers.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "bench/redis.sh: no build directory ${1:-build}" >&2; exit 1; }
ms=$build/lib/libmemscope.so
mi=${MIMALLOC_LIB:-/usr/lib/x86_64-linux-gnu/libmimalloc.so.2}
libc=$(ldd /bin/sh | awk '/libc\.so/ {print $3}')
for f in "$ms" "$mi" "$libc"; do [ -e "$f" ] || { echo "bench/redis.sh: missing $f (build first; libmimalloc2)" >&2; exit 1; }; done
for t in redis-server redis-cli redis-benchmark python3; do
  command -v $t >/dev/null || { echo "bench/redis.sh: needs $t (Debian: redis-server redis-tools)" >&2; exit 1; }
done
ms=$(readlink -f "$ms")

# Nothing from the caller's environment may change what is measured.
for v in $(env | sed -n 's/^\(MEMSCOPE_[A-Z_]*\)=.*/\1/p; s/^\(MIMALLOC_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD
export LC_ALL=C

rounds=${ROUNDS:-9} requests=${REQUESTS:-100000} clients=${CLIENTS:-50} pipeline=${PIPELINE:-1}
keyspace=${KEYSPACE:-100000} data=${DATA:-3}
configs=(${CONFIGS:-jemalloc glibc mimalloc ms-0 ms-512K ms-1})
declare -A envs=(
  [jemalloc]=""
  [glibc]="LD_PRELOAD=$libc"
  [mimalloc]="LD_PRELOAD=$mi"
  [ms-0]="LD_PRELOAD=$ms MEMSCOPE_SAMPLE_RATE=0"
  [ms-512K]="LD_PRELOAD=$ms MEMSCOPE_SAMPLE_RATE=512K"
  [ms-1]="LD_PRELOAD=$ms MEMSCOPE_SAMPLE_RATE=1"
)
for c in "${configs[@]}"; do [ -n "${envs[$c]+x}" ] || { echo "bench/redis.sh: unknown configuration $c" >&2; exit 1; }; done

out=$build/bench-results
mkdir -p "$out"
tsv=$out/redis.tsv
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ms-redis-bench.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null; sleep 0.5; kill -9 "$server_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run_one ROUND CONFIG: a fresh server, one benchmark, its VmHWM; appends to the TSV.
run_one() {
  local round=$1 cfg=$2 port i hwm
  port=$(free_port)
  rm -rf "$tmp/srv"; mkdir -p "$tmp/srv"
  # shellcheck disable=SC2086 # the configuration's VAR=VALUE words
  env ${envs[$cfg]} redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$tmp/srv" --daemonize no > "$tmp/log" 2>&1 &
  server_pid=$!
  for i in $(seq 200); do
    [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] ||
    { echo "bench/redis.sh: $cfg: redis-server did not start: $(tail -3 "$tmp/log")" >&2; exit 1; }
  redis-benchmark -p "$port" --csv -n "$requests" -c "$clients" -P "$pipeline" -r "$keyspace" \
    -d "$data" -t set,get,lpush,lpop > "$tmp/bench.csv" 2> "$tmp/bench.err" ||
    { echo "bench/redis.sh: $cfg: redis-benchmark failed: $(tail -3 "$tmp/bench.err")" >&2; exit 1; }
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
  wait "$server_pid" 2>/dev/null
  server_pid=
  sed -n 's/^"\(SET\|GET\|LPUSH\|LPOP\)","\([0-9.]*\)".*/\1 \2/p' "$tmp/bench.csv" |
    while read -r test rps; do printf '%s\t%s\t%s\t%s\n' "$round" "$cfg" "$test" "$rps"; done >> "$tsv"
  printf '%s\t%s\tVmHWM_KiB\t%s\n' "$round" "$cfg" "$hwm" >> "$tsv"
}

printf 'round\tconfig\ttest\tvalue\n' > "$tsv"
n=${#configs[@]}
echo "bench/redis.sh: $rounds rounds x ${configs[*]}; redis-benchmark -n $requests -c $clients -P $pipeline -r $keyspace -d $data -t set,get,lpush,lpop" >&2
for ((r = 0; r < rounds; r++)); do
  order=()
  for ((k = 0; k < n; k++)); do order+=("${configs[$(((k + r) % n))]}"); done
  echo "  round $((r + 1))/$rounds: ${order[*]}" >&2
  for cfg in "${order[@]}"; do run_one "$r" "$cfg"; done
done

python3 - "$tsv" "${configs[@]}" <<'EOF'
import statistics, sys
from collections import defaultdict
path, configs = sys.argv[1], sys.argv[2:]
vals = defaultdict(list)
with open(path) as f:
    next(f)
    for line in f:
        rnd, cfg, test, v = line.rstrip("\n").split("\t")
        vals[cfg, test].append(float(v))
tests = ["SET", "GET", "LPUSH", "LPOP"]
base = "mimalloc" if "mimalloc" in configs else configs[0]
rounds = len(vals[configs[0], "SET"])
print("redis-benchmark requests/s: median over %d rounds (min-max), ratio of medians to %s\n" % (rounds, base))
print("| config | " + " | ".join(tests) + " | peak RSS (VmHWM) |")
print("|---" * (len(tests) + 2) + "|")
for c in configs:
    cells = []
    for t in tests + ["VmHWM_KiB"]:
        v = vals[c, t]
        if not v:
            cells.append("-")
            continue
        m, b = statistics.median(v), statistics.median(vals[base, t]) or 1
        if t == "VmHWM_KiB":
            cells.append("%.1f MiB (%.1f-%.1f) %.2fx" % (m / 1024, min(v) / 1024, max(v) / 1024, m / b))
        else:
            cells.append("%.0f (%.0f-%.0f) %.3fx" % (m, min(v), max(v), m / b))
    print("| %s | %s |" % (c, " | ".join(cells)))
EOF
echo "raw results: $tsv" >&2
