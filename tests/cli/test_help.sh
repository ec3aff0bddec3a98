#!/usr/bin/env bash
# The README's command block, `gan --help` and each command's --help agree: every option a
# command's --help explains is in the README's lines for that command, and the README and
# `gan --help` name each command's arguments alike (RUN_DIR|CKPT.h5, ...). A new option left
# out of the README fails here.
. "$(dirname "$0")/lib.sh"
readme=$(dirname "$0")/../../README.md
# The README's command block, continuation lines joined: one line per invocation.
block=$(sed -n '/^## The `gan` command/,/^```$/p' "$readme" | sed -n '/^```sh$/,/^```$/p' | sed -e ':a' -e '/\\$/N; s/\\\n *//; ta')
check "the README has a command block" test -n "$block"
usage=$("$GAN" --help)
for cmd in train sample eval info bench report runs; do
  lines=$(grep "^build/src/gan/gan $cmd\b" <<<"$block")
  check "README shows gan $cmd" test -n "$lines"
  help=$("$GAN" $cmd --help 2>&1)
  for opt in $(grep -oE '^ {2,}--[a-z-]+' <<<"$help" | tr -d ' ' | sort -u); do
    check "README's gan $cmd lines name $opt" grep -qE -- "(^| |\[)$opt( |=|\]|$)" <<<"$lines"
  done
  # The arguments before the first option, as `gan --help` shows them, appear in the README.
  while read -r args; do
    check "gan --help's '$cmd $args' is in the README" grep -qF -- "gan $cmd $args" <<<"$lines"
  done < <(grep -E "^  $cmd( |$)" <<<"$usage" | sed -E "s/^  $cmd ?//; s/ *\[.*//; s/  .*//" | grep .)
done
finish
