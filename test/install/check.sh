#!/bin/sh
# check.sh BUILD_DIR [SRC_DIR] — install memscope from BUILD_DIR into a temporary prefix and
# build a consumer with pkg-config and with find_package(memscope); both must run on the
# library without LD_LIBRARY_PATH (the .pc adds an rpath; CMake's build rpath does the same).
# Then the multiarch layout (lib/x86_64-linux-gnu/pkgconfig, as a /usr install on Debian
# has): memscope.pc generated for that libdir by cmake/memscope-pc.cmake, library and header
# copied there, and `pkg-config --cflags --libs memscope` must again give a working build.
set -e
build=$1
src=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
here=$(cd "$(dirname "$0")" && pwd)
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in lib/libmemscope.so bin/memscope include/memscope.h lib/pkgconfig/memscope.pc \
         lib/cmake/memscope/memscopeConfig.cmake; do
  [ -e "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
unset LD_LIBRARY_PATH
cc "$here/consumer.c" -o "$prefix/consumer-pc" $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs memscope)
"$prefix/consumer-pc"
cmake -S "$here" -B "$prefix/cm" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/cm" >/dev/null
"$prefix/cm/consumer"
# the multiarch layout
ma="$prefix/ma" libdir=lib/x86_64-linux-gnu
mkdir -p "$ma/$libdir/pkgconfig" "$ma/include"
cp -P "$prefix"/lib/libmemscope.so* "$ma/$libdir/"
cp "$prefix/include/memscope.h" "$ma/include/"
cmake -DMS_PC_OUT="$ma/$libdir/pkgconfig/memscope.pc" -DMS_PC_LIBDIR=$libdir -DMS_PC_INCLUDEDIR=include \
      -DMS_PC_VERSION=0 -DMS_PC_RPATH=ON -P "$src/cmake/memscope-pc.cmake"
flags=$(PKG_CONFIG_PATH="$ma/$libdir/pkgconfig" pkg-config --cflags --libs memscope)
echo "multiarch: pkg-config --cflags --libs memscope: $flags"
cc "$here/consumer.c" -o "$ma/consumer" $flags
"$ma/consumer"
"$prefix/bin/memscope" run -q -o "$prefix/t.msp" -- /bin/true >/dev/null
"$prefix/bin/memscope" report "$prefix/t.msp" >/dev/null
echo "install: ok"
