#!/bin/sh
# outfile_test.sh MEMSCOPE_BIN LIBMEMSCOPE — output files are never harmful (export/outfile.c):
#  1. `memscope convert DUMP -o X`, and a dump the library writes at exit (MEMSCOPE_OUTPUT=X),
#     where X is a FIFO, a character device (as root: a test-made copy of /dev/full's node), a
#     directory or a symlink to a sentinel file: exit status 1 / one line on stderr, and X is
#     left exactly as it was (type, link target, sentinel's content). A regular X is replaced.
#  2. `memscope run -o DIR/x` with DIR missing, or not a folder: fails at once, CMD not run.
# Regression test for issue 13 (convert -o /dev/full replaced the device node).
ms=$1 lib=$2
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
"$ms" run -q -o "$d/in.msp" -- /bin/true 2>/dev/null || { echo "FAIL: cannot make a dump"; exit 1; }
echo sentinel > "$d/sentinel"
mkfifo "$d/fifo" && mkdir "$d/dir" && ln -s "$d/sentinel" "$d/link" || exit 1
nodes="fifo dir link"
if [ "$(id -u)" = 0 ] && mknod "$d/full" c 1 7 2>/dev/null; then nodes="$nodes full"
else echo "note: not root, no character-device case"; fi
state() { # the node's type and target, to compare before and after
  stat -c '%F %t:%T %s' "$d/$1"; [ -L "$d/$1" ] && readlink "$d/$1"; cat "$d/sentinel"; }
for n in $nodes; do
  before=$(state $n)
  timeout 60 "$ms" convert "$d/in.msp" --format json -o "$d/$n" 2>"$d/err"; rc=$?
  [ $rc = 1 ] || bad "convert -o $n: exit status $rc, want 1"
  [ "$(wc -l < "$d/err")" = 1 ] || bad "convert -o $n: want one line on stderr, got: $(cat "$d/err")"
  [ "$(state $n)" = "$before" ] || bad "convert -o $n: $n was changed ($before -> $(state $n))"
  timeout 60 env LD_PRELOAD="$lib" MEMSCOPE_OUTPUT="$d/$n" /bin/true 2>"$d/err"
  grep -q "could not write dump" "$d/err" || bad "MEMSCOPE_OUTPUT=$n: no error line: $(cat "$d/err")"
  [ "$(state $n)" = "$before" ] || bad "MEMSCOPE_OUTPUT=$n: $n was changed ($before -> $(state $n))"
done
ls "$d" | grep -q tmp && bad "temporary files left behind: $(ls "$d")"
# a regular file is replaced, through the temporary file
echo old > "$d/reg.json"
"$ms" convert "$d/in.msp" -o "$d/reg.json" || bad "convert over a regular file failed"
grep -q format_version "$d/reg.json" || bad "convert did not replace the regular file"
# memscope run checks the output folder before running CMD
"$ms" run -o "$d/missing/x.msp" -- touch "$d/ran" 2>"$d/err"; rc=$?
[ $rc = 1 ] || bad "run -o missing/x.msp: exit status $rc, want 1"
[ -e "$d/ran" ] && bad "run -o missing/x.msp: CMD ran"
grep -q "does not exist" "$d/err" || bad "run -o missing/x.msp: unclear error: $(cat "$d/err")"
"$ms" run -o "$d/sentinel/%p.msp" -- touch "$d/ran" 2>"$d/err"; rc=$?
[ $rc = 1 ] && [ ! -e "$d/ran" ] || bad "run -o file/%p.msp: status $rc or CMD ran"
"$ms" run -o "$d/fifo" -- touch "$d/ran" 2>"$d/err"; rc=$?
[ $rc = 1 ] && [ ! -e "$d/ran" ] || bad "run -o fifo: status $rc or CMD ran"
[ $fail = 0 ] && echo "outfile: ok ($nodes refused; regular file replaced; run checks before CMD)"
exit $fail
