#!/bin/sh
# check.sh BUILD_DIR — install memscope from BUILD_DIR into a temporary prefix and build a
# consumer with pkg-config and with find_package(memscope); both must run on the library.
set -e
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
here=$(cd "$(dirname "$0")" && pwd)
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in lib/libmemscope.so bin/memscope include/memscope.h lib/pkgconfig/memscope.pc \
         lib/cmake/memscope/memscopeConfig.cmake; do
  [ -e "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
cc "$here/consumer.c" -o "$prefix/consumer-pc" $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs memscope)
LD_LIBRARY_PATH="$prefix/lib" "$prefix/consumer-pc"
cmake -S "$here" -B "$prefix/cm" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/cm" >/dev/null
LD_LIBRARY_PATH="$prefix/lib" "$prefix/cm/consumer"
"$prefix/bin/memscope" run -q -o "$prefix/t.msp" -- /bin/true >/dev/null
"$prefix/bin/memscope" report "$prefix/t.msp" >/dev/null
echo "install: ok"
