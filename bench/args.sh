# bench/args.sh — the command line of the bench scripts that take [BUILD_DIR] [--quick]
# (run.sh, checks.sh), sourced by them: bench_args HELP_LAST_LINE "$@" sets $build (absolute)
# and $quick (0/1), or prints the caller's header comment (lines 2..HELP_LAST_LINE) for -h.
bench_args() {
  local help_last=$1 a
  shift
  build=build
  quick=0
  for a in "$@"; do
    case $a in
      --quick) quick=1 ;;
      -h|--help) sed -n "2,${help_last}p" "$0"; exit 0 ;;
      *) build=$a ;;
    esac
  done
  build=$(cd "$build" && pwd)
}
