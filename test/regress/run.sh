#!/bin/sh
# run.sh — run one regression program (test/regress/*.c) on memscope and check how it ends.
#   run.sh LIB PROG EXPECT [GREP] [ENV=VALUE ...]
# EXPECT: "ok" (exit 0), "abort" (SIGABRT: a fatal report, as designed), or "exit:N".
# GREP: a text stderr must contain ("-" for none). Any other end (SIGSEGV, a hang past the
# timeout) fails: these programs once crashed or hung memscope (the reviewer's findings).
lib=$1 prog=$2 expect=$3 want=${4:--}
shift 4 2>/dev/null || shift $#
err=$(mktemp)
env LD_PRELOAD="$lib" "$@" timeout -s KILL "${REGRESS_TIMEOUT:-600}" "$prog" >/dev/null 2>"$err"
rc=$?
case $expect in
  ok) good=0 ;;
  abort) good=134 ;;
  exit:*) good=${expect#exit:} ;;
esac
status=0
if [ "$rc" != "$good" ]; then
  echo "FAIL: $(basename "$prog") ended with status $rc, expected $expect ($good)"; status=1
fi
if [ "$want" != "-" ] && ! grep -q "$want" "$err"; then
  echo "FAIL: stderr does not contain '$want'"; status=1
fi
[ $status = 0 ] && echo "ok: $(basename "$prog") ($expect)" || { echo "--- stderr:"; head -40 "$err"; }
rm -f "$err"
exit $status
