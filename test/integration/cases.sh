# cases.sh — the real programs of the integration and no-false-positive tests, one table for
# both (sourced by preload_compare.sh and test/safety/no_false_positives.sh).
#
#   ms_case CASE   sets cmd=(...) for CASE (python | python-malloc | perl | bash | git | gcc | hwdb)
#                  and checks that every tool the case runs is installed. A missing tool is a
#                  visible skip, exit 77 (ctest SKIP_RETURN_CODE), never a pass: without it both
#                  runs would fail the same way and compare equal. Under CI=true it is a failure
#                  (make deps installs them all).
# Needs: $progs (test/integration/programs).

ms_skip() {
  echo "SKIPPED: $1 (apt-get install python3 perl git gcc; make deps does)"
  if [ "${CI:-}" = "true" ]; then echo "CI=true: every tool is required, failing"; exit 1; fi
  exit 77
}

ms_case() {
  local needs
  case $1 in
    python) cmd=(/usr/bin/python3 -s "$progs/work.py"); needs="/usr/bin/python3" ;;
    python-malloc) export PYTHONMALLOC=malloc; cmd=(/usr/bin/python3 -s "$progs/work.py")
                   needs="/usr/bin/python3" ;;
    perl) cmd=(/usr/bin/perl "$progs/work.pl"); needs="/usr/bin/perl" ;;
    bash) cmd=(/bin/bash "$progs/forks.sh"); needs="/bin/bash" ;;
    git) cmd=(/bin/bash "$progs/git.sh"); needs="/bin/bash git" ;;
    gcc) cmd=(/bin/bash "$progs/gcc.sh"); needs="/bin/bash gcc as ld objdump" ;;
    hwdb)
      ls /usr/lib/udev/hwdb.d/*.hwdb >/dev/null 2>&1 ||
        ms_skip "case hwdb needs /usr/lib/udev/hwdb.d (Debian package udev)"
      cmd=(/bin/bash "$progs/hwdb.sh"); needs="/bin/bash systemd-hwdb" ;;
    *) echo "FAIL: unknown case $1"; exit 1 ;;
  esac
  local t
  for t in $needs; do
    command -v "$t" >/dev/null 2>&1 || ms_skip "case $1 needs $t, which is not installed"
  done
}
