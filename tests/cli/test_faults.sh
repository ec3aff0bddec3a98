#!/usr/bin/env bash
# Faults (issue 12): a full disk while a checkpoint, a sample grid or metrics.jsonl is written;
# kill -9 at random points of 100 short runs, each resumed and compared with an unbroken run;
# the dataset vanishing under a run; a read-only run directory. Whatever fails, nothing already
# on disk is lost, the error is one line naming the file and the system's reason, and the run
# resumes to the same bytes as a run that never failed. docs/reliability.md (Faults) tells what each
# part does and what was measured.
#
# A full disk is made two ways: a small tmpfs (when this process may mount one: root, and a
# container that allows it) and tests/fault's LD_PRELOAD shim (always), which fails writes to
# the files a pattern names. GAN_FAULTS_KILLS sets the number of killed runs (default 100),
# GAN_FAULTS_SEED their random delays (default 12).
. "$(dirname "$0")/lib.sh"
need_dataset
SHIM=${GAN_FAULT_SHIM:-$(dirname "$GAN")/../../tests/fault/libfail_write.so}
[ -f "$SHIM" ] || { echo "FAIL: the fault shim $SHIM is not built (GAN_FAULT_SHIM)" >&2; exit 1; }
SHIM=$(realpath "$SHIM")
cd "$SCRATCH"
tiny_config exp.yaml
# tmpfs mounts to take down however the script ends.
MOUNTS=()
trap 'for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done; rm -rf "$SCRATCH"' EXIT

# --- helpers --------------------------------------------------------------------------------

# faulty VAR=VALUE... -- COMMAND...: COMMAND with the shim loaded and the GAN_FAULT_* given.
faulty() {
  local vars=()
  while [ "$1" != -- ]; do vars+=("$1"); shift; done
  shift
  # (an AddressSanitizer build wants its runtime loaded first: it is, as gan's dependency)
  env LD_PRELOAD="$SHIM" GAN_FAULT_LOG="$SCRATCH/fault.log" \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "${vars[@]}" "$@"
}
# one_line_error FILE PATTERN: FILE (a command's stderr) is one line, an error matching PATTERN.
# The report's one warning is not an error line: a failed refresh of report.html is reported
# once and training goes on, so a disk that fills there first shows it before the error.
one_line_error() {
  local n
  n=$(grep -vc '^gan train: warning: the report was not refreshed: .*(training goes on' "$1")
  if [ "$n" != 1 ]; then
    echo "$1: $n lines, expected one error line:" >&2; cat "$1" >&2; return 1
  fi
  grep -Eq -- "^gan [a-z]+: error: .*$2" "$1" && return 0
  echo "$1 does not match /$2/:" >&2; cat "$1" >&2; return 1
}
# no_tmp DIR: no temporary (*.tmp.PID) is left anywhere under DIR.
no_tmp() {
  local left
  left=$(find "$1" -name '*.tmp.*')
  [ -z "$left" ] || { echo "temporaries left: $left" >&2; return 1; }
}
# listing DIR: every file (but the lock, which a writer rewrites) with its checksum, and every
# link with its target: what "nothing changed" compares.
listing() {
  (cd "$1" && find . -type f ! -name .lock -print0 | sort -z | xargs -0 md5sum &&
    find . -type l -printf '%p -> %l\n' | sort && find . -type d | sort)
}
# listing_with_lock DIR: the same, the lock included.
listing_with_lock() {
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 md5sum && find . -type l -printf '%p -> %l\n' | sort)
}
metric_steps() { grep -o '"step": [0-9]*' "$1" | tr -d '\n'; }
# same_end A B STEP: runs A and B end with the same weights, optimizer state, random streams and
# data position at STEP, the same sample grid and the same metrics steps.
same_end() {
  local a=$1/checkpoints/ckpt-$(printf %08d "$3").h5 b=$2/checkpoints/ckpt-$(printf %08d "$3").h5 attr
  same_datasets "$a" "$b" /G /D /optim /fixed_noise || return 1
  for attr in step rng data_epoch data_position; do same_attr "$a" "$b" $attr || return 1; done
  same_files "$1/samples/step-$(printf %08d "$3").png" "$2/samples/step-$(printf %08d "$3").png" &&
    same_text "$(metric_steps "$2/metrics.jsonl")" "$(metric_steps "$1/metrics.jsonl")"
}
info_step() { "$GAN" info "$1" 2>&1 | sed -n 's/^step *\([0-9]*\).*/\1/p'; }
can_mount=0
probe=$SCRATCH/probe
mkdir -p "$probe"
if mount -t tmpfs -o size=64k tmpfs "$probe" 2>/dev/null; then
  can_mount=1
  umount "$probe"
fi
# small_fs DIR KBYTES: a tmpfs of that size at DIR, taken down at exit.
small_fs() {
  mkdir -p "$1" && mount -t tmpfs -o "size=$2k" tmpfs "$1" && MOUNTS+=("$1")
}

check "an unbroken run" "$GAN" train exp.yaml --run-dir full >/dev/null
[ -e full/checkpoints/ckpt-00000006.h5 ] || { echo "no unbroken run to compare with: stopping" >&2; finish; exit 1; }

# --- 1. A full disk ---------------------------------------------------------------------------

# While the checkpoint of step 6 is written (the shim: writes to it fail after 50000 bytes).
rm -f fault.log
faulty GAN_FAULT_PATH=ckpt-00000006.h5 GAN_FAULT_AFTER=50000 -- "$GAN" train exp.yaml --run-dir inj >/dev/null 2>inj.err
check "ENOSPC in a checkpoint: exit 1" test $? = 1
check "the fault was injected" test -s fault.log
check "one line naming the file, the reason and the previous checkpoint" one_line_error inj.err \
  "inj/checkpoints/ckpt-00000006.h5: .*No space left on device.*the previous checkpoint inj/checkpoints/ckpt-00000003.h5 is intact and inj/checkpoints/latest.h5 still names it"
check "latest.h5 still names the previous checkpoint" test "$(readlink inj/checkpoints/latest.h5)" = ckpt-00000003.h5
check "the failed checkpoint is not there" test ! -e inj/checkpoints/ckpt-00000006.h5
check "no temporary left by the failed write" no_tmp inj
check "the previous checkpoint opens" test "$(info_step inj)" = 3
check "resumed once there is space" "$GAN" train --resume inj >/dev/null
check "and ends as the unbroken run" same_end full inj 6
check "nothing left over after the resume" no_tmp inj

# The disk fills at any point of a run: every write into the run directory (lock, config,
# grids, metrics, checkpoints) counts against one budget, swept from nothing to more than a run
# writes (SQLite's way: the Nth byte fails, then a later one). Each failed run stops with one
# line naming a file and the reason, leaves no temporary, and ends as the unbroken run once
# resumed (or, killed before its config.yaml, trained again).
sweep_fails=0
for budget in 0 1 40 300 2000 9000 30000 70000 120000 160000 200000 260000 330000 420000 600000 2000000; do
  run=sw$budget
  faulty GAN_FAULT_PATH="/$run/" GAN_FAULT_AFTER=$budget -- "$GAN" train exp.yaml --run-dir $run >/dev/null 2>$run.err
  rc=$?
  if [ "$rc" = 1 ]; then
    sweep_fails=$((sweep_fails + 1))
    check "budget $budget: one line naming the reason" one_line_error $run.err "$run/.*No space left on device"
  else
    check "budget $budget: exit 0 or 1 (got $rc: $(head -c 300 $run.err))" test "$rc" = 0
  fi
  check "budget $budget: no temporary left" no_tmp $run
  if [ -f $run/config.yaml ]; then
    check "budget $budget: resumed" "$GAN" train --resume $run >/dev/null
  else
    check "budget $budget: trained again" "$GAN" train exp.yaml --run-dir $run >/dev/null
  fi
  check "budget $budget: ends as the unbroken run" same_end full $run 6
done
check "the sweep failed runs at many points ($sweep_fails of 16) and let the last through" \
  test "$sweep_fails" -ge 10 -a "$rc" = 0

# The disk fills at fsync (delayed allocation: the writes went into the page cache), with
# checkpoint.keep=1, where the rotation would delete the only earlier checkpoint.
faulty GAN_FAULT_PATH=ckpt-00000006.h5 GAN_FAULT_OP=fsync -- "$GAN" train exp.yaml --run-dir sync checkpoint.keep=1 \
  >/dev/null 2>sync.err
check "ENOSPC at fsync: exit 1" test $? = 1
check "says so" one_line_error sync.err \
  "sync/checkpoints/ckpt-00000006.h5: .*No space left on device \(syncing the new file to disk\).*ckpt-00000003.h5 is intact"
check "keep=1: the previous checkpoint was not rotated away" test "$(info_step sync)" = 3
check "no temporary left" no_tmp sync
check "resumed" "$GAN" train --resume sync >/dev/null
check "and ends as the unbroken run" same_end full sync 6

# latest.h5 cannot be linked (the disk filled between the checkpoint and its link): the
# checkpoint itself is saved and found as the newest.
faulty GAN_FAULT_PATH=latest.h5 GAN_FAULT_OP=symlink -- "$GAN" train exp.yaml --run-dir link >/dev/null 2>link.err
check "ENOSPC linking latest.h5: exit 1" test $? = 1
check "says the checkpoint is saved" one_line_error link.err \
  "link/checkpoints/latest.h5: cannot point it at ckpt-00000003.h5: No space left on device.*ckpt-00000003.h5 itself is saved"
check "info finds it" test "$(info_step link)" = 3
check "resumed from it" "$GAN" train --resume link >/dev/null
check "and ends as the unbroken run" same_end full link 6
check "latest.h5 is linked again" test "$(readlink link/checkpoints/latest.h5)" = ckpt-00000006.h5

# A sample grid that cannot be written stops the run before its checkpoint; the earlier grids,
# checkpoints and metrics stay.
faulty GAN_FAULT_PATH=step-00000006.png -- "$GAN" train exp.yaml --run-dir png >/dev/null 2>png.err
check "ENOSPC in a sample grid: exit 1" test $? = 1
check "says so" one_line_error png.err "png/samples/step-00000006.png: cannot write: No space left on device"
check "no temporary left" no_tmp png
check "the earlier grid is there" same_files full/samples/step-00000003.png png/samples/step-00000003.png
check "the last checkpoint is step 3" test "$(info_step png)" = 3
check "resumed" "$GAN" train --resume png >/dev/null
check "and ends as the unbroken run" same_end full png 6

# metrics.jsonl fills up 20 bytes into the line of step 4: the run stops, saying so; the lines
# written before stay and no torn line is left; the resume ends as the unbroken run.
m3=$(head -3 full/metrics.jsonl | wc -c)
faulty GAN_FAULT_PATH=metrics.jsonl GAN_FAULT_AFTER=$((m3 + 20)) -- "$GAN" train exp.yaml --run-dir met >/dev/null 2>met.err
rc=$?
check "ENOSPC in metrics.jsonl: exit 1 (got $rc)" test "$rc" = 1
check "says so in one line" one_line_error met.err \
  "met/metrics.jsonl: cannot append: No space left on device; its earlier contents are intact"
check "the lines before the fault are intact, and only they" same_text "$(metric_steps met/metrics.jsonl)" \
  '"step": 1"step": 2"step": 3'
check "no torn line" bash -c "! grep -qv '}\$' met/metrics.jsonl"
check "no temporary left" no_tmp met
check "resumed" "$GAN" train --resume met >/dev/null
check "and ends as the unbroken run" same_end full met 6

# A line torn by a killed writer (no newline at its end) is dropped when the run resumes,
# instead of having the next line glued to it: here the line of a step 1x torn after its first
# digit, which reads as step 1.
mkdir -p torn && cp -r full/. torn/ && rm -f torn/.lock
rm torn/checkpoints/ckpt-00000006.h5 torn/samples/step-00000006.png && ln -sfn ckpt-00000003.h5 torn/checkpoints/latest.h5
head -3 full/metrics.jsonl > torn/metrics.jsonl && printf '{"step": 1' >> torn/metrics.jsonl
check "resumed over a torn line" "$GAN" train --resume torn >/dev/null
check "no torn line" bash -c "! grep -qv '}\$' torn/metrics.jsonl"
check "and ends as the unbroken run" same_end full torn 6

# The same on a real full file system: a tmpfs that holds the first checkpoint but not the
# second, then grows (space freed) and the run resumes.
if [ "$can_mount" = 1 ]; then
  ck=$(stat -c %s full/checkpoints/ckpt-00000003.h5)
  # the checkpoint, six small files of a page each, and half of a second checkpoint
  small_fs tfs $(( (ck + 4095) / 4096 * 4 + 32 + ck / 2048 ))
  "$GAN" train exp.yaml --run-dir tfs/run >/dev/null 2>tfs.err
  check "tmpfs full at the second checkpoint: exit 1" test $? = 1
  check "says so" one_line_error tfs.err \
    "tfs/run/checkpoints/ckpt-00000006.h5: cannot write: No space left on device.*the previous checkpoint tfs/run/checkpoints/ckpt-00000003.h5 is intact"
  check "no temporary left" no_tmp tfs
  check "the previous checkpoint opens" test "$(info_step tfs/run)" = 3
  mount -o remount,size=4m tfs
  check "resumed once the file system grew" "$GAN" train --resume tfs/run >/dev/null
  check "and ends as the unbroken run" same_end full tfs/run 6

  # A file system full to the last page when a resume starts: the resume fails rewriting
  # config.yaml (with its resumable keys), which keeps the old one.
  small_fs tfs2 4096
  check "three steps" "$GAN" train exp.yaml --run-dir tfs2/run train.steps=3 >/dev/null
  before=$(listing tfs2/run)
  fallocate -l $(df -B1 --output=avail tfs2 | tail -1) tfs2/filler 2>/dev/null ||
    dd if=/dev/zero of=tfs2/filler bs=4k 2>/dev/null
  "$GAN" train --resume tfs2/run train.steps=6 >/dev/null 2>tfs2.err
  check "a full tmpfs: exit 1" test $? = 1
  check "says which file" one_line_error tfs2.err \
    "tfs2/run/config.yaml: cannot write: No space left on device; the file already there is unchanged"
  check "nothing in the run changed" same_text "$(listing tfs2/run)" "$before"
  check "no temporary left" no_tmp tfs2
  rm tfs2/filler
  check "resumed once there is space" "$GAN" train --resume tfs2/run train.steps=6 >/dev/null
  check "and ends as the unbroken run" same_end full tfs2/run 6
else
  echo "note: cannot mount a tmpfs here: the full-disk cases ran with the LD_PRELOAD shim only"
fi

# --- 2. kill -9 at random points of 100 short runs ----------------------------------------------

# 48 steps, a checkpoint and a sample grid every three: about 0.2 s a run, 0.08 s of it starting
# the process (loading its libraries) and reading the data.
tiny_config kill.yaml
sed -i 's/steps: 6/steps: 48/' kill.yaml
check "an unbroken run to compare with" "$GAN" train kill.yaml --run-dir kfull >/dev/null
# The delays are spread over the time an unbroken run takes (the fastest of three), from the
# start of the process to its exit.
span=0
for _ in 1 2 3; do
  rm -rf ktime
  t0=$(date +%s%N)
  "$GAN" train kill.yaml --run-dir ktime >/dev/null
  t=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$span" = 0 ] || [ "$t" -lt "$span" ] && span=$t
done
# quick_same_end A B STEP: same_end with fewer tool runs (h5diff of each group, one h5dump of
# the attributes), as 100 comparisons need.
quick_same_end() {
  local a=$1/checkpoints/ckpt-$(printf %08d "$3").h5 b=$2/checkpoints/ckpt-$(printf %08d "$3").h5 obj
  for obj in /G /D /optim /fixed_noise; do
    h5diff -q "$a" "$b" $obj $obj >/dev/null 2>&1 || { echo "$obj differs, or is missing, in $b" >&2; return 1; }
  done
  local attrs=(-a /step -a /rng -a /data_epoch -a /data_position)
  same_text "$(h5dump "${attrs[@]}" "$b" 2>&1 | tail -n +2)" "$(h5dump "${attrs[@]}" "$a" 2>&1 | tail -n +2)" &&
    same_files "$1/samples/step-$(printf %08d "$3").png" "$2/samples/step-$(printf %08d "$3").png" &&
    same_text "$(metric_steps "$2/metrics.jsonl")" "$(metric_steps "$1/metrics.jsonl")"
}
quick_differs() { ! quick_same_end "$@" 2>/dev/null; }
check "the quick comparison sees two runs that end alike" quick_same_end full inj 6
check "a run of another seed" "$GAN" train exp.yaml --run-dir seed4 seed=4 >/dev/null
check "the quick comparison sees a difference" quick_differs full seed4 6
kills=${GAN_FAULTS_KILLS:-100}
RANDOM=${GAN_FAULTS_SEED:-12}
declare -A phases=()
loop_start=$(date +%s%N)
for i in $(seq 1 "$kills"); do
  delay=$((RANDOM % span))
  run=k$i
  "$GAN" train kill.yaml --run-dir $run >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  rc=$?
  # Where the kill landed, from what it left.
  if [ "$rc" = 0 ]; then phase="exited before the kill"
  elif [ ! -f $run/config.yaml ]; then phase="before config.yaml"
  elif [ -n "$(find $run/checkpoints -name '*.tmp.*' 2>/dev/null)" ]; then phase="writing a checkpoint"
  elif [ -z "$(ls $run/checkpoints 2>/dev/null | grep '^ckpt-')" ]; then phase="before the first checkpoint"
  elif [ -n "$(find $run/samples -name '*.tmp.*' 2>/dev/null)" ]; then phase="writing a sample grid"
  elif [ -e $run/checkpoints/ckpt-00000048.h5 ]; then phase="after the last checkpoint"
  else phase="between checkpoints"
  fi
  phases[$phase]=$(( ${phases[$phase]:-0} + 1 ))
  # What a user does: resume a run that has its config, start again one that has not.
  if [ -f $run/config.yaml ]; then
    "$GAN" train --resume $run >$run.log 2>&1
  else
    "$GAN" train kill.yaml --run-dir $run >$run.log 2>&1
  fi
  rc=$?
  why=""
  if [ "$rc" != 0 ]; then why="the restart failed (exit $rc): $(tail -1 $run.log)"
  elif ! quick_same_end kfull $run 48 2>$run.diff; then why="it ends unlike the unbroken run: $(head -3 $run.diff)"
  elif ! no_tmp $run 2>$run.diff; then why=$(cat $run.diff)
  fi
  checks=$((checks + 1))
  if [ -n "$why" ]; then
    fail "kill -9 after $delay ms ($phase; GAN_FAULTS_SEED=${GAN_FAULTS_SEED:-12}, run $i): $why"
  else
    rm -rf $run $run.log $run.diff
  fi
done
loop_ms=$(( ($(date +%s%N) - loop_start) / 1000000 ))
echo "kill -9: $kills runs killed at random points in 0-$span ms and resumed, in $((loop_ms / 1000)).$(printf %03d $((loop_ms % 1000))) s"
for p in "${!phases[@]}"; do echo "  ${phases[$p]} $p"; done | sort -k1,1nr

# --- 3. The dataset vanishing under a run ---------------------------------------------------

# A 200-image IDX file of the run's own: the data is read whole when a run starts, so a run
# goes on without it; a resume then names the file, and the run is left as it was.
{ printf '\x00\x00\x08\x03\x00\x00\x00\xc8\x00\x00\x00\x1c\x00\x00\x00\x1c'
  gzip -dc "$FMNIST" | tail -c +17 | head -c $((200 * 784)); } > data.idx
tiny_config long.yaml
sed -i "s|path: [^,]*,|path: $SCRATCH/data.idx,|; s/steps: 6/steps: 100000/; s/every: 3, keep/every: 100000, keep/; s/sample: {every: 3/sample: {every: 100000/" long.yaml
wait_for() { for _ in $(seq 1 300); do "$@" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
"$GAN" train long.yaml --run-dir gone >/dev/null 2>gone.err &
pid=$!
check "the run is training" wait_for grep -q '"step": 2,' gone/metrics.jsonl
mv data.idx data.idx.away
lines_at_least() { [ "$(grep -c . gone/metrics.jsonl)" -ge "$1" ]; }
n=$(grep -c . gone/metrics.jsonl)
check "it trains on after its dataset vanished" wait_for lines_at_least $((n + 5))
kill -INT $pid; wait $pid
rc=$?
check "and stops on Ctrl-C with a checkpoint (exit $rc)" test $rc = 0 -a -e gone/checkpoints/latest.h5
stopped=$(info_step gone)
before=$(listing gone)
expect_exit 1 "^gan train: error: $SCRATCH/data.idx: no such file or directory \(data.path\)$" "$GAN" train --resume gone
check "a resume without the dataset changes nothing" same_text "$(listing gone)" "$before"
: > data.idx
expect_exit 1 "data.idx: .*not an IDX file" "$GAN" train --resume gone
head -c 1000 data.idx.away > data.idx
expect_exit 1 "data.idx: truncated: expected 200 images" "$GAN" train --resume gone
check "the refused resumes change nothing" same_text "$(listing gone)" "$before"
check "no temporary left" no_tmp gone
mv data.idx.away data.idx
check "with the dataset back it resumes" "$GAN" train --resume gone train.steps=$((stopped + 3)) >/dev/null
check "an unbroken run of as many steps" "$GAN" train long.yaml --run-dir gfull train.steps=$((stopped + 3)) >/dev/null
check "ends as that run" same_datasets gfull/checkpoints/latest.h5 gone/checkpoints/latest.h5 /G /D /optim

# An image folder is decoded whole at the start too: a resume after an image went names the
# folder and the counts; after the folder went, the folder.
mkdir imgs
for s in 1 2 3 4 5 6 7 8 9 10; do "$GAN" sample full --n 1 --seed $s --out imgs/im$s.png >/dev/null; done
check "a run on an image folder" "$GAN" train exp.yaml --run-dir fold data.path=$SCRATCH/imgs data.limit=0 train.steps=3 \
  >/dev/null
before=$(listing fold)
rm imgs/im3.png
expect_exit 2 "the run was trained on 10 images of $SCRATCH/imgs, which now holds 9" "$GAN" train --resume fold train.steps=6
rm -r imgs
expect_exit 1 "$SCRATCH/imgs: no such file or directory \(data.path\)" "$GAN" train --resume fold train.steps=6
check "the refused resumes change nothing" same_text "$(listing fold)" "$before"

# --- 4. A read-only run directory -------------------------------------------------------------

# `gan train --resume` fails before it writes anything, naming the path and the reason; the
# readers work, writing elsewhere. Root ignores permission bits, so as root the gan process
# runs as nobody (setpriv), and a tmpfs remounted read-only gives "Read-only file system".
cp -a full ro
chmod -R a-w ro
as_user=()
if [ "$(id -u)" = 0 ]; then
  if setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null; then
    as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    chmod 755 "$SCRATCH"
    mkdir out && chmod 777 out
  else
    as_user=(none)
  fi
else
  mkdir out
fi
if [ "${as_user[0]:-}" = none ]; then
  echo "note: root without setpriv: the permission case is skipped"
else
  before=$(listing_with_lock ro)
  expect_exit 1 "^gan train: error: ro/.lock: cannot open the run's lock: Permission denied$" \
    "${as_user[@]}" "$GAN" train --resume ro train.steps=9
  check "nothing in the run changed" same_text "$(listing_with_lock ro)" "$before"
  check "info reads it" "${as_user[@]}" "$GAN" info ro >/dev/null
  check "sample reads it, writing elsewhere" "${as_user[@]}" "$GAN" sample ro --n 4 --out out/ro.png >/dev/null
  check "the grid is the run's" "$GAN" sample full --n 4 --out full.png >/dev/null
  check "the same grid" same_files full.png out/ro.png
  expect_exit 1 "cannot create directory ro/new: Permission denied" "${as_user[@]}" "$GAN" train exp.yaml --run-dir ro/new
  check "nothing in the run changed" same_text "$(listing_with_lock ro)" "$before"
fi
chmod -R u+w ro
if [ "$can_mount" = 1 ]; then
  small_fs rofs 4096
  cp -a full rofs/run
  mount -o remount,ro rofs
  before=$(listing_with_lock rofs/run)
  expect_exit 1 "^gan train: error: rofs/run/.lock: cannot open the run's lock: Read-only file system$" \
    "$GAN" train --resume rofs/run train.steps=9
  check "nothing in the run changed" same_text "$(listing_with_lock rofs/run)" "$before"
  check "info reads it" "$GAN" info rofs/run >/dev/null
  check "sample reads it, writing elsewhere" "$GAN" sample rofs/run --n 4 --out rofs.png >/dev/null
  check "the same grid" same_files full.png rofs.png
else
  echo "note: cannot mount a tmpfs here: the read-only file system case is skipped"
fi
finish
