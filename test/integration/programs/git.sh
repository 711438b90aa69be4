#!/bin/bash
# git.sh - drive git through init, commits, log --stat, diff, gc and fsck in the current
# (temporary) directory. The environment is fixed (author, committer, dates, no system or user
# config), so the output, commit ids included, is the same on every run.
set -eu
export HOME=$PWD GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="Ada Tester" GIT_AUTHOR_EMAIL=ada@example.org
export GIT_COMMITTER_NAME="Ada Tester" GIT_COMMITTER_EMAIL=ada@example.org
export GIT_AUTHOR_DATE="2024-01-01T00:00:00+0000" GIT_COMMITTER_DATE="2024-01-01T00:00:00+0000"
export TZ=UTC LC_ALL=C
git -c init.defaultBranch=main init -q repo
cd repo
git config pack.threads 1   # deterministic packing
for c in 1 2 3 4 5 6; do
  for f in 1 2 3 4 5; do
    seq $((c * f)) $((c * f * 40)) | sed "s/^/line $c.$f /" > "file$f.txt"
  done
  mkdir -p "dir$c" && printf 'content %d\n' $(seq 1 $((c * 50))) > "dir$c/data"
  git add -A
  git commit -q -m "commit $c" -m "body of commit $c"
done
git log --stat
git diff HEAD~3 HEAD -- file2.txt | head -200
git diff --stat HEAD~5
git branch topic HEAD~2
git checkout -q topic
echo change > topic.txt && git add topic.txt
git commit -q -m "topic change"
git checkout -q main
git merge -q --no-edit topic
git log --oneline --graph --all
git gc -q
git count-objects -v | grep -v size
git fsck --no-progress 2>&1
git rev-parse HEAD HEAD^{tree}
