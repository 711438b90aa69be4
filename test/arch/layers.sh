#!/bin/bash
# layers.sh — the include-direction check of docs/ARCHITECTURE.md.
#
# Owns one rule: dependencies point one way, alloc → track → dump → model → formats → report →
# cli. It reads every quoted #include in alloc/, track/ and export/, resolves the header the way
# the compiler would (the including file's own folder first, then the project's folders), and
# fails when
#   - a file in export/<layer>/ includes a header of a higher export layer, or of alloc/ or track/;
#   - a file in alloc/ or track/ includes anything from export/ other than export/dump/dump.h
#     (the format) and export/dump/outfile.h (how a dump file is created safely).
# include/ (the public memscope.h) and alloc/parse.h (the option syntax, a leaf that includes
# no project header) may be included by anyone. CMake enforces the same order (each
# layer's library only sees the include folders of the layers below it); this test also catches
# a header reached through a same-folder include or a future include path added by hand.
#
# Usage: layers.sh ROOT          check the tree at ROOT
#        layers.sh --self-test   check that violations in a scratch tree are caught (so the check
#                                cannot pass by finding nothing)
set -u

# RANK := the rank of a project path's layer (set, not echoed: no subshell per include). alloc
# and track share one rank here: their seam is the lead's declared headers, not this script's.
rank_of() {
  case "$1" in
    include/*|alloc/parse.h) RANK=0 ;;   # parse.h: a leaf the CLI shares (alloc/parse.h says why)
    alloc/*|track/*) RANK=1 ;;
    export/dump/*) RANK=2 ;;
    export/model/*) RANK=3 ;;
    export/formats/*) RANK=4 ;;
    export/report/*) RANK=5 ;;
    export/cli/*) RANK=6 ;;
    *) RANK=-1 ;;
  esac
}

check_tree() {
  local root=$1 bad=0 checked=0
  cd "$root" || { echo "layers.sh: cannot enter $root" >&2; return 2; }
  # every project header, by base name (a base name in two folders would make the include path
  # decide which one wins: refused outright)
  declare -A where=()
  local h
  while IFS= read -r h; do
    local b=${h##*/}
    if [[ -n ${where[$b]:-} ]]; then
      echo "layers.sh: header name $b is used twice ($h, ${where[$b]}): an include of it is ambiguous" >&2
      bad=1
    fi
    where[$b]=$h
  done < <(find include alloc track export -name '*.h' 2>/dev/null | sort)

  local f
  while IFS= read -r f; do
    local dir=${f%/*} from
    rank_of "$f"; from=$RANK
    local line
    while IFS= read -r line; do
      local n=${line%%:*} name
      [[ $line =~ \"([^\"]+)\" ]] || continue
      name=${BASH_REMATCH[1]}
      local target=""
      if [[ -f $dir/$name && $name != */* ]]; then
        target=$dir/$name
      elif [[ -f $dir/$name ]]; then
        target=$(realpath -m --relative-to=. "$dir/$name")
      elif [[ $name == */* && -f $name ]]; then
        target=$name
      elif [[ -n ${where[${name##*/}]:-} && $name != */* ]]; then
        target=${where[${name##*/}]}
      fi
      [[ -z $target ]] && continue            # a system or generated header
      checked=$((checked + 1))
      local to
      rank_of "$target"; to=$RANK
      if [[ $from -ge 2 && ( $to -gt $from || $to -eq 1 ) ]]; then
        echo "$f:$n: includes $target, a header of a higher layer (docs/ARCHITECTURE.md)"
        bad=1
      elif [[ $from -eq 1 && $to -ge 2 && $target != export/dump/dump.h && $target != export/dump/outfile.h ]]; then
        echo "$f:$n: alloc/ and track/ may include only export/dump/dump.h and outfile.h from export/, not $target"
        bad=1
      fi
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
  done < <(find alloc track export -name '*.[ch]' -o -name '*.cpp' 2>/dev/null | sort)

  if [[ $checked -eq 0 ]]; then
    echo "layers.sh: no project #include found under $root: nothing was checked" >&2
    return 1
  fi
  [[ $bad -eq 0 ]] && echo "layers.sh: $checked project includes checked, all point down"
  return $bad
}

self_test() {
  local t
  MS_LAYERS_TMP=$(mktemp -d) || exit 2   # global: the EXIT trap runs after this function
  t=$MS_LAYERS_TMP
  trap 'rm -rf "$MS_LAYERS_TMP"' EXIT
  mkdir -p "$t"/{include,alloc,track,export/dump,export/model,export/formats,export/report,export/cli}
  touch "$t"/include/memscope.h "$t"/alloc/internal.h "$t"/export/dump/dump.h \
        "$t"/export/model/model.h "$t"/export/formats/json_out.h "$t"/export/cli/cli.h
  printf '#include "dump.h"\n#include "memscope.h"\n' >"$t"/track/track.c
  printf '#include "model.h"\n#include "dump.h"\n' >"$t"/export/formats/json_out.c
  printf '#include "cli.h"\n#include "json_out.h"\n' >"$t"/export/cli/main.c
  check_tree "$t" >/dev/null || { echo "self-test: a clean tree was refused"; return 1; }
  local c
  for c in 'export/dump/x.c:model.h' 'export/model/x.c:json_out.h' 'export/formats/x.c:cli.h' \
           'export/model/y.c:internal.h' 'alloc/x.c:model.h' 'track/y.c:../export/model/model.h'; do
    local file=${c%%:*} hdr=${c#*:}
    printf '#include "%s"\n' "$hdr" >"$t/$file"
    if (check_tree "$t" >/dev/null); then
      echo "self-test: $file including $hdr was not caught"
      return 1
    fi
    rm "$t/$file"
  done
  echo "layers.sh self-test: 6 planted violations caught, the clean tree passes"
}

if [[ ${1:-} == --self-test ]]; then
  self_test
else
  check_tree "${1:?usage: layers.sh ROOT | --self-test}"
fi
