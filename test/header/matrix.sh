#!/bin/sh
# matrix.sh SRC_DIR LIB OUT_DIR — the public header's compile matrix and its "not loaded" run.
# test/header/api_calls.c is compiled against include/memscope.h (never linked with memscope) as
# C99 -pedantic, C11, C17 and C++11/14/17/20 with -Wall -Wextra -Werror, by gcc/g++ and, when
# installed, clang/clang++. Each binary then runs without memscope (every call: the documented
# "not loaded" result) and with LD_PRELOAD=LIB --loaded (every call reaches the library).
# Fails with one line per broken combination.
src=$1 lib=$(realpath "$2") out=$3
mkdir -p "$out" || exit 1
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
fail=0 n=0
flags="-Wall -Wextra -Werror -pedantic -I$src/include"
try() { # compiler std lang
  exe="$out/api_$1_$2"
  if ! $1 -std=$2 $flags -x $3 "$src/test/header/api_calls.c" -o "$exe" 2>"$work/err"; then
    echo "FAIL: $1 -std=$2 $flags: does not compile:"; sed 's/^/  /' "$work/err" | head -20
    fail=1; return
  fi
  n=$((n + 1))
  (cd "$work" && "$exe" >/dev/null 2>"$work/err") ||
    { echo "FAIL: $1 -std=$2: run without memscope (status $?):"; head -5 "$work/err"; fail=1; }
  (cd "$work" && LD_PRELOAD="$lib" "$exe" --loaded >/dev/null 2>"$work/err") ||
    { echo "FAIL: $1 -std=$2: run with LD_PRELOAD=$lib (status $?):"; head -5 "$work/err"; fail=1; }
}
for std in c99 c11 c17; do try gcc $std c; done
for std in c++11 c++14 c++17 c++20; do try g++ $std c++; done
if command -v clang >/dev/null 2>&1; then
  for std in c99 c11 c17; do try clang $std c; done
  for std in c++11 c++14 c++17 c++20; do try clang++ $std c++; done
else
  echo "note: clang not installed, gcc/g++ only"
fi
[ $fail = 0 ] && echo "header matrix: $n combinations compiled and ran, loaded and not loaded"
exit $fail
