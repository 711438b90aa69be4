#!/bin/bash
# forks.sh - a bash script that forks in every way bash can: subshells, pipelines, command
# substitution, process substitution, background jobs + wait, and a child exiting with a status.
# Run under LD_PRELOAD, every forked child inherits the allocator; the output is deterministic.
# It ends with exit status 7 so the harness also checks that the status survives.
set -u
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

declare -A table
for i in $(seq 1 2000); do table["key$i"]=$((i * i)); done
sum=0
for k in "${!table[@]}"; do sum=$((sum + table[$k])); done
echo "assoc ${#table[@]} $sum"

words=$(for i in $(seq 1 300); do echo "w$((i % 17))"; done | sort | uniq -c | sort -rn | head -3 | tr -s ' ')
echo "pipeline $words"

( for i in 1 2 3; do echo "sub $i $(echo $((i * 10)))"; done )
x=$( (echo a; echo b) | wc -l )
echo "cmdsubst $x"
while read -r a b; do echo "procsubst $a $b"; done < <(printf '%s %s\n' one 1 two 2)

for j in $(seq 1 16); do
  ( s=0; for i in $(seq 1 200); do s=$((s + i * j)); done; echo "job $j $s" > "$out/job$j" ) &
done
wait
cat $(for j in $(seq 1 16); do echo "$out/job$j"; done)

bash -c 'exit 3'
echo "child status $?"
str=""
for i in $(seq 1 3000); do str+="$((i % 10))"; done
echo "string ${#str} ${str:100:20}"
exit 7
