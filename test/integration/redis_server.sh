#!/bin/bash
# redis_server.sh - Debian's redis-server, unmodified, on libmemscope.so: a server that writes
# into the slack past its requests (sds, listpack, zmalloc all use malloc_usable_size), driven
# by redis-benchmark, with a dump taken by signal in the middle of the load.
#
#   redis_server.sh LIB CLI RATE      LIB = libmemscope.so, CLI = the memscope converter,
#                                     RATE = MEMSCOPE_SAMPLE_RATE (0, 512K, 1, ...)
#
# 1. An untraced redis-server gets two rounds of writes from programs/redis_data.py (a few
#    hundred keys: strings grown by APPEND/SETRANGE, lists, hashes, values of many sizes), each
#    read back and compared byte for byte; its output (with a hash of every reply) is kept.
# 2. The same server started with LD_PRELOAD=LIB (command-line options only, a random free
#    port, MEMSCOPE_SNAPSHOT_SIGNAL=USR2): round 1 written and read back; redis-benchmark
#    -t set,get,lpush,lpop runs while the server gets SIGUSR2 every half second; the data is read
#    back again, round 2 written and read back. Every output line must equal the untraced one.
# 3. The dump taken during the load converts to JSON that parses, names the server's pid and
#    has allocation sites (rate > 0; at rate 0 there are none by design, the counters are
#    checked instead). The server still answers PING, shuts down with status 0, and its log
#    shows no assertion or crash report.
# Exits 77 (a ctest SKIP) when redis-server, redis-cli, redis-benchmark or python3 is missing.
set -u
lib=${1:?usage: redis_server.sh LIB CLI RATE}
cli=${2:?usage: redis_server.sh LIB CLI RATE}
rate=${3:?usage: redis_server.sh LIB CLI RATE}
here=$(cd "$(dirname "$0")" && pwd)
data=$here/programs/redis_data.py

for tool in redis-server redis-cli redis-benchmark python3; do
  command -v $tool >/dev/null 2>&1 || { echo "SKIP: $tool not installed (Debian packages redis-server, redis-tools)"; exit 77; }
done
[ -r "$lib" ] || { echo "FAIL: library $lib not found"; exit 1; }
[ -x "$cli" ] || { echo "FAIL: converter $cli not found"; exit 1; }
lib=$(readlink -f "$lib") # /proc/PID/maps names the file itself

for v in $(env | sed -n 's/^\(MEMSCOPE_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ms-redis.XXXXXX")
server_pid=
bench_pid=
cleanup() { # never leave a server (or a benchmark) behind, whatever happened
  [ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null; sleep 0.5; kill -9 "$server_pid" 2>/dev/null
  fi
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL (rate $rate): $*"; [ -s "$tmp/log" ] && { echo "--- server log:"; tail -20 "$tmp/log"; }; exit 1; }

free_port() { # the kernel's choice of a free port; the server retries on the rare clash
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

rcli() { timeout 60 redis-cli -p "$port" "$@"; }

# start_server [VAR=VALUE...]: redis-server with command-line options only, in $tmp/srv, log in
# $tmp/log; sets port and server_pid and waits until it answers PING.
# redis's setproctitle() overwrites the strings of its environment: memscope copies its options
# at start-up (test/consistency/environ_clobber.c), so the dumps below still find their path.
start_server() {
  local attempt i
  rm -rf "$tmp/srv"; mkdir -p "$tmp/srv"
  for attempt in 1 2 3; do
    port=$(free_port)
    env "$@" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --dir "$tmp/srv" --daemonize no --loglevel notice > "$tmp/log" 2>&1 &
    server_pid=$!
    for i in $(seq 200); do # up to 20 s: the build machine is busy
      [ "$(rcli ping 2>/dev/null)" = PONG ] && return 0
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$server_pid" 2>/dev/null && fail "redis-server does not answer PING after 20 s"
    wait "$server_pid" 2>/dev/null; server_pid=
    grep -q 'Address already in use' "$tmp/log" || fail "redis-server did not start: $(grep -m2 -E '>>>|FATAL|ASSERT|rror' "$tmp/log" | tr '\n' ' ')"
  done
  fail "no free port found in 3 attempts"
}

stop_server() { # SHUTDOWN NOSAVE; the server must exit 0
  rcli shutdown nosave >/dev/null 2>&1
  local st i
  for i in $(seq 200); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  wait "$server_pid"; st=$?
  server_pid=
  [ $st = 0 ] || fail "redis-server exited with status $st after SHUTDOWN"
}

data_step() { # data_step OUT write SEED | data_step OUT check: one redis_data.py run, output kept
  local out=$1; shift
  local verb=$1; shift
  timeout 300 python3 "$data" "$verb" "$port" "$tmp/state.$run" "$@" >> "$tmp/$out" 2> "$tmp/data.err" ||
    fail "redis_data.py $verb: $(cat "$tmp/data.err")"
}

# ---- 1. untraced reference run
run=plain
start_server
data_step plain.out write 1
data_step plain.out check
data_step plain.out write 2
data_step plain.out check
stop_server

# ---- 2. the same on memscope, with the benchmark and the signal in between
run=ms
start_server LD_PRELOAD="$lib" MEMSCOPE_SAMPLE_RATE="$rate" MEMSCOPE_SNAPSHOT_SIGNAL=USR2 \
  "MEMSCOPE_OUTPUT=$tmp/dump.%p.%n.msp"
grep -qF "$lib" "/proc/$server_pid/maps" || fail "$lib is not mapped into redis-server"
pid=$server_pid
data_step ms.out write 1
data_step ms.out check

timeout 300 redis-benchmark -p "$port" --csv -n 20000 -r 10000 -d 200 -t set,get,lpush,lpop \
  > "$tmp/bench.out" 2>&1 &
bench_pid=$!
signals=0
while sleep 0.1 && kill -0 "$bench_pid" 2>/dev/null; do
  kill -USR2 "$pid" 2>/dev/null || fail "redis-server is gone during the benchmark"
  signals=$((signals + 1))
  sleep 0.4
done
wait "$bench_pid"; bst=$?; bench_pid=
[ $bst = 0 ] || fail "redis-benchmark exited with status $bst: $(tail -3 "$tmp/bench.out")"
[ $signals -ge 1 ] || fail "the benchmark ended before a signal could be sent"
kill -0 "$pid" 2>/dev/null || fail "redis-server died under the benchmark"
# --csv: "TEST","requests per second",latencies...
rps=$(sed -n 's/^"\(SET\|GET\|LPUSH\|LPOP\)","\([0-9.]*\)".*/\1 \2/p' "$tmp/bench.out" | tr '\n' ' ')
[ "$(echo $rps | wc -w)" = 8 ] || fail "redis-benchmark did not report all 4 tests: $(tail -4 "$tmp/bench.out")"

data_step ms.load.out check # the data written before the load is intact after it
data_step ms.out write 2
data_step ms.out check
cmp -s "$tmp/plain.out" "$tmp/ms.out" ||
  fail "redis_data.py output differs from the untraced server's: $(diff "$tmp/plain.out" "$tmp/ms.out" | head -6)"

# ---- 3. the dump taken by signal during the load
dump=
for i in $(seq 300); do # written by a helper thread, renamed into place when complete
  dump=$(ls "$tmp"/dump.$pid.*.msp 2>/dev/null | head -1)
  [ -n "$dump" ] && break
  sleep 0.1
done
[ -n "$dump" ] || fail "no dump appeared after $signals SIGUSR2 (MEMSCOPE_OUTPUT=$tmp/dump.%p.%n.msp)"
"$cli" convert "$dump" -o "$tmp/dump.json" 2> "$tmp/convert.err" ||
  fail "memscope convert $dump failed: $(cat "$tmp/convert.err")"
exe=$(readlink -f "$(command -v redis-server)") # Debian: a link to redis-check-rdb
python3 - "$tmp/dump.json" "$pid" "$rate" "$exe" <<'EOF' || fail "the converted dump is not what it should be"
import json, sys
d = json.load(open(sys.argv[1]))
pid, rate, exe = int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = d["summary"]
problems = []
if d["process"]["pid"] != pid: problems.append("pid %s, expected %d" % (d["process"]["pid"], pid))
if d["process"]["exe"] != exe: problems.append("exe %r, expected %r" % (d["process"]["exe"], exe))
if s["total_allocations"] < 1000: problems.append("total_allocations %d" % s["total_allocations"])
if not 0 < s["live_bytes"] <= s["peak_live_bytes"]: problems.append("live %d peak %d" % (s["live_bytes"], s["peak_live_bytes"]))
if not d["size_classes"]: problems.append("no size_classes")
if rate == "0":
    if d["sites"]: problems.append("%d sites at rate 0" % len(d["sites"]))
else:
    if not d["sites"]: problems.append("no sites")
    frames = [f for site in d["sites"] for f in site["stack"]]
    if not any(f.get("module") == exe for f in frames):
        problems.append("no stack frame in %s" % exe)
for p in problems: print("  dump:", p)
print("dump: %d sites, %d allocations, live %d bytes" % (len(d["sites"]), s["total_allocations"], s["live_bytes"]))
sys.exit(1 if problems else 0)
EOF

# ---- the server is alive and well, and stops cleanly
[ "$(rcli ping 2>/dev/null)" = PONG ] || fail "redis-server does not answer PING at the end"
stop_server
if grep -nE 'ASSERTION|crashed by signal|Guru Meditation|memscope' "$tmp/log" | head -3 | grep .; then
  fail "the server's log reports the lines above"
fi
echo "PASS: redis-server at rate $rate: $(head -1 "$tmp/ms.out"); requests/s $rps($signals SIGUSR2 during the load)"
exit 0
