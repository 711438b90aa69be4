#!/bin/bash
# hwdb.sh - systemd-hwdb (Debian package udev) compiling the hardware database and answering
# queries. systemd grows its arrays with GREEDY_REALLOC, which asks malloc_usable_size() and
# then uses every byte of the slack: an allocator that loses or reports the slack wrongly changes
# the compiled database. Workload: ~9 MB of /usr/lib/udev/hwdb.d text into a ~13 MB trie, a
# local override file and a second compile, then lookups of many kinds of modalias. Prints the
# checksum of each compiled database and every query's answer (relative paths only).
#
# The compiled database records the absolute path of each source file, so the plain and the
# preloaded run must build under the same path: ../../hwdb-root, which preload_compare.sh's
# layout ($tmp/{plain,preload}/work) makes one directory for both; it is emptied first.
set -u
src=/usr/lib/udev/hwdb.d
root=$(cd ../.. && pwd)/hwdb-root
rm -rf "$root"
mkdir -p "$root/lib/udev/hwdb.d" "$root/etc/udev/hwdb.d"
cp "$src"/*.hwdb "$root/lib/udev/hwdb.d/"

queries=(usb:v1D6Bp0002 usb:v046DpC52B usb:v8087p0024 pci:v00008086d00001237 pci:v000010DEd00001C82
  pci:v00001AF4d00001000 pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01
  acpi:PNP0A08: acpi:ACPI0003: bluetooth:v000F OUI:001B21 OUI:00163E sdio:c07v0271d0301
  'evdev:atkbd:dmi:bvnAcer:bvr:bd:svnAcer:pnAspire 5720:pvr:' 'mouse:usb:v046dp4069:name:Logitech MX Master 3:'
  'input:b0003v046Dp4069e0111-e0,1,2,4,k110,111,112,r0,1,6,8,B,C,am4,lsfw' usb:v0BDAp8153 usb:v1050p0407
  'sensor:modalias:acpi:BOSC0200*:dmi:bvnLENOVO:svnLENOVO:pn81A6:' usb:vFFFFpFFFF)
query_all() {
  for q in "${queries[@]}"; do
    echo "query $q:"
    systemd-hwdb query --root="$root" "$q" | LC_ALL=C sort
  done
}

systemd-hwdb update --root="$root" --strict; echo "update: status $?"
echo "hwdb.bin: $(wc -c < "$root/etc/udev/hwdb.bin") bytes, sha256 $(sha256sum < "$root/etc/udev/hwdb.bin" | cut -c1-64)"
query_all

# a local override, as an administrator would add: the same keys get other values
cat > "$root/etc/udev/hwdb.d/99-local.hwdb" <<'HWDB'
usb:v1D6Bp0002*
 ID_MODEL_FROM_DATABASE=local root hub override
 ID_LOCAL_NOTE=added by hwdb.sh

pci:v00008086d00001237*
 ID_MODEL_FROM_DATABASE=local 440FX
HWDB
systemd-hwdb update --root="$root" --strict; echo "update with override: status $?"
echo "hwdb.bin: $(wc -c < "$root/etc/udev/hwdb.bin") bytes, sha256 $(sha256sum < "$root/etc/udev/hwdb.bin" | cut -c1-64)"
query_all
