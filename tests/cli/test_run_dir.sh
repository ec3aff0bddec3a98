#!/usr/bin/env bash
# The run directory (issue 12): created with its config before anything else, owned by one
# writer at a time (RUN/.lock), never written outside runs/ by a name, never mixed with another
# model's checkpoint; latest.h5 names the newest checkpoint of the branch being written; stale
# temporaries of killed writers go; a finished run has nothing to do.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"
tiny_config exp.yaml
tiny_config long.yaml
sed -i 's/steps: 6/steps: 100000/; s/every: 3, keep/every: 100000, keep/; s/sample: {every: 3/sample: {every: 100000/' long.yaml

# wait_for COMMAND...: until COMMAND succeeds (30 s at most).
wait_for() { for _ in $(seq 1 300); do "$@" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
metric_steps() { grep -o '"step": [0-9]*' "$1" | tr -d '\n'; }
# A pid no process has: a child that has exited and been reaped.
sleep 0 & dead=$!; wait $dead

check "unbroken run" "$GAN" train exp.yaml --run-dir full train.steps=7 >/dev/null

# Row 24: a finished run has nothing to do and rewrites nothing.
before=$(md5sum full/config.yaml full/metrics.jsonl full/checkpoints/* full/samples/*)
expect_exit 0 "nothing to do: the run is at step 7 of 7; raise train.steps to continue" "$GAN" train --resume full
check "a finished run is not rewritten" unchanged "$before" full/config.yaml full/metrics.jsonl full/checkpoints/* full/samples/*
out=$("$GAN" train --resume full 2>&1)
check "no done line for a finished run" test -z "$(grep done: <<<"$out")"

# Row 3: resuming from an older checkpoint moves the newer ones aside (an abandoned branch);
# latest.h5, info and the next resume follow the new branch.
check "a run of 9 steps" "$GAN" train exp.yaml --run-dir br train.steps=9 checkpoint.keep=3 >/dev/null
check "resume from ckpt 3" "$GAN" train --resume br/checkpoints/ckpt-00000003.h5 train.steps=5 >/dev/null
check "latest.h5 names the new branch's head" test "$(readlink br/checkpoints/latest.h5)" = ckpt-00000005.h5
check "the new branch keeps ckpt 3" test -f br/checkpoints/ckpt-00000003.h5
check "the abandoned checkpoints are gone from checkpoints/" test ! -e br/checkpoints/ckpt-00000006.h5 -a ! -e br/checkpoints/ckpt-00000009.h5
aside=$(ls -d br/checkpoints/abandoned-* 2>/dev/null | head -1)
check "the abandoned branch is kept aside" test -n "$aside" -a -f "$aside/ckpt-00000006.h5" -a -f "$aside/ckpt-00000009.h5"
check "its metrics are kept aside" same_text "$(metric_steps "$aside/metrics.jsonl")" '"step": 4"step": 5"step": 6"step": 7"step": 8"step": 9'
check "info reads the new branch" bash -c "'$GAN' info br | grep -Eq '^step +5\b'"
check "the next resume" "$GAN" train --resume br train.steps=7 > br.log
check "continues the new branch" grep -q "resuming at step 5" br.log
check "the branch ends as an unbroken run" same_datasets full/checkpoints/ckpt-00000007.h5 br/checkpoints/ckpt-00000007.h5 /G /D /optim
check "metrics read as one run" same_text "$(metric_steps br/metrics.jsonl)" "$(metric_steps full/metrics.jsonl)"

# Row 4: a checkpoint of another model, or of another config, in a run is refused naming both.
cat > sg2.yaml <<EOF2
seed: 5
model: {type: stylegan2, resolution: 32, channels: 1, z_dim: 16, w_dim: 16, mapping_layers: 2,
        channel_base: 256, channel_max: 16}
data: {path: $FMNIST, limit: 200}
train: {steps: 1, batch_size: 4, threads: 2}
checkpoint: {every: 1, keep: 1}
sample: {every: 1, n: 4}
EOF2
check "a StyleGAN2 checkpoint" "$GAN" train sg2.yaml --run-dir sg >/dev/null
check "a DCGAN of another width" "$GAN" train exp.yaml --run-dir wide model.ngf=8 train.steps=3 >/dev/null
cp -r full mixed
cp sg/checkpoints/ckpt-00000001.h5 mixed/checkpoints/ckpt-00000008.h5
ln -sfn ckpt-00000008.h5 mixed/checkpoints/latest.h5
before=$(md5sum mixed/config.yaml mixed/metrics.jsonl mixed/checkpoints/*.h5)
expect_exit 2 "mixed/checkpoints/latest.h5.*stylegan2.*mixed/config.yaml.*dcgan" "$GAN" train --resume mixed train.steps=9
check "a refused model changes nothing" unchanged "$before" mixed/config.yaml mixed/metrics.jsonl mixed/checkpoints/*.h5
cp wide/checkpoints/ckpt-00000003.h5 mixed/checkpoints/ckpt-00000008.h5
before=$(md5sum mixed/config.yaml mixed/metrics.jsonl mixed/checkpoints/*.h5)
expect_exit 2 "model.ngf.*mixed/config.yaml" "$GAN" train --resume mixed train.steps=9
expect_exit 2 "model.ngf.*mixed/config.yaml" "$GAN" train --resume mixed/checkpoints/ckpt-00000008.h5 train.steps=9
check "a refused config changes nothing" unchanged "$before" mixed/config.yaml mixed/metrics.jsonl mixed/checkpoints/*.h5
check "nothing moved aside" test -z "$(ls -d mixed/checkpoints/abandoned-* 2>/dev/null)"

# Row 5: a checkpoint outside a run's checkpoints/ is refused up front; nothing is written beside it.
mkdir y && cp full/checkpoints/ckpt-00000007.h5 y/good.h5
expect_exit 2 "y/good.h5.*(RUN|run directory).*checkpoints" "$GAN" train --resume y/good.h5 train.steps=9
check "nothing written beside a loose checkpoint" same_text "$(ls -A y)" good.h5

# Row 15: --run-dir naming a file.
echo keep > afile
expect_exit 2 "afile.*is a file, not a directory" "$GAN" train exp.yaml --run-dir afile
check "the file is untouched" same_text "$(cat afile)" keep

# Row 16: a dangling latest.h5 is called so, naming its target and the newest intact checkpoint.
cp -r full dang && rm dang/checkpoints/ckpt-00000007.h5
expect_exit 1 "dang/checkpoints/latest.h5.*dangling.*ckpt-00000007.h5.*dang/checkpoints/ckpt-00000006.h5" "$GAN" info dang
expect_exit 1 "dangling.*ckpt-00000007.h5.*newest intact checkpoint is dang/checkpoints/ckpt-00000006.h5" "$GAN" train --resume dang train.steps=9
check "which resumes" "$GAN" train --resume dang/checkpoints/ckpt-00000006.h5 train.steps=8 >/dev/null
check "and latest.h5 is whole again" test "$(readlink dang/checkpoints/latest.h5)" = ckpt-00000008.h5

# Killed between saving a checkpoint and moving latest.h5 (or before the first link): the
# newest checkpoint is the run's, not an abandoned branch.
cp -r full win && ln -sfn ckpt-00000006.h5 win/checkpoints/latest.h5
check "a checkpoint newer than latest.h5 is the run's newest" bash -c "'$GAN' info win > win.log && grep -Eq '^step +7 ' win.log"
rm win/checkpoints/latest.h5
check "so is the newest one without latest.h5" bash -c "'$GAN' info win > win.log && grep -Eq '^step +7 ' win.log"
check "resume" "$GAN" train --resume win train.steps=8 >/dev/null
check "no branch abandoned" test -z "$(ls -d win/checkpoints/abandoned-* 2>/dev/null)"
check "latest.h5 linked again" test "$(readlink win/checkpoints/latest.h5)" = ckpt-00000008.h5

# Row 10: a name that is a path, or empty, is a config error naming the key; nothing is written.
mkdir -p deep/a/b
for name in ../../escape a/b .. '""'; do
  tiny_config deep/a/b/bad.yaml "name: $name"
  expect_exit 2 "bad.yaml.*name" bash -c "cd deep/a/b && '$GAN' train bad.yaml"
done
check "nothing written by a bad name" same_text "$(find deep | sort | tr '\n' ' ')" "deep deep/a deep/a/b deep/a/b/bad.yaml "
tiny_config deep/a/b/empty.yaml 'name: ""'
expect_exit 2 "name: empty" bash -c "cd deep/a/b && '$GAN' train empty.yaml"

# Row 9: kill -9 before the first checkpoint leaves a run that --resume starts from step 0 (and
# that ends as an unbroken run).
"$GAN" train long.yaml --run-dir k9 >/dev/null 2>&1 &
pid=$!
wait_for grep -q '"step": 2' k9/metrics.jsonl
kill -9 $pid; wait $pid 2>/dev/null
check "killed before its first checkpoint" test ! -e k9/checkpoints/latest.h5 -a -f k9/config.yaml
expect_exit 2 "already exists.*--resume" "$GAN" train long.yaml --run-dir k9
check "resumed from step 0" "$GAN" train --resume k9 train.steps=7 checkpoint.every=3 sample.every=3 >/dev/null
check "the restarted run ends as an unbroken run" same_datasets full/checkpoints/ckpt-00000007.h5 k9/checkpoints/ckpt-00000007.h5 /G /D /optim
check "its metrics read as one run" same_text "$(metric_steps k9/metrics.jsonl)" "$(metric_steps full/metrics.jsonl)"
# Killed even earlier, holding only the lock and a temporary config: a new train reuses it.
mkdir early && touch early/.lock early/config.yaml.tmp.$dead
check "a directory with only a lock and a dead writer's temporary is reused" "$GAN" train exp.yaml --run-dir early >/dev/null
check "and its temporary is gone" test ! -e early/config.yaml.tmp.$dead

# Row 23: temporaries of dead writers go when the next writer starts; a live process's stay.
cp -r full tmps
touch tmps/checkpoints/ckpt-00000009.h5.tmp.$dead tmps/config.yaml.tmp.$dead tmps/samples/step-00000009.png.tmp.$dead \
  tmps/metrics.jsonl.tmp.$$
ln -s ckpt-00000007.h5 tmps/checkpoints/latest.h5.tmp.$dead
check "resume" "$GAN" train --resume tmps train.steps=8 >/dev/null
check "dead writers' temporaries removed" test -z "$(find tmps -name "*.tmp.$dead")"
check "a live process's temporary kept" test -e tmps/metrics.jsonl.tmp.$$

# Row 6: one writer at a time. A second resume of a running run fails fast naming the holder;
# readers still read; the first finishes; the metrics are not doubled.
check "a run to resume" "$GAN" train long.yaml --run-dir lk train.steps=2 >/dev/null
"$GAN" train --resume lk train.steps=100000 > lk.log 2>&1 &
pid=$!
check "the writer holds the lock" wait_for grep -q "pid $pid" lk/.lock
expect_exit 1 "lk.*pid $pid.*$(hostname)" timeout 20 "$GAN" train --resume lk train.steps=100000
check "a reader does not need the lock" "$GAN" info lk >/dev/null
kill -INT $pid; wait $pid; rc=$?
check "the first writer succeeds (exit $rc)" test "$rc" = 0
check "metrics not doubled" test -z "$(grep -o '"step": [0-9]*' lk/metrics.jsonl | sort | uniq -d)"
check "the lock is free again" "$GAN" train --resume lk train.steps=$(($("$GAN" info lk | sed -n 's/^step *\([0-9]*\).*/\1/p') + 1)) >/dev/null

# Two fresh trains of one --run-dir, started together: one trains, the other exits 1 naming it.
"$GAN" train long.yaml --run-dir two > two.a.log 2>&1 &
a=$!
"$GAN" train long.yaml --run-dir two > two.b.log 2>&1 &
b=$!
wait_for grep -q '"step": 1' two/metrics.jsonl
sleep 0.5
kill -INT $a $b 2>/dev/null
wait $a; ra=$?
wait $b; rb=$?
check "one of two fresh trains succeeds ($ra, $rb)" test "$ra$rb" = 01 -o "$ra$rb" = 10
if [ "$ra" = 1 ]; then loser=two.a.log holder=$b; else loser=two.b.log holder=$a; fi
check "the other names the holder" grep -q "pid $holder" $loser
check "metrics of one run" test -z "$(grep -o '"step": [0-9]*' two/metrics.jsonl | sort | uniq -d)"
# Row 2: a batch that cannot fit in memory is refused up front, naming what a step needs, what
# is left and under which limit, and a batch that fits; nothing is written. The batch it offers
# trains under the same limit.
cp "$(dirname "$0")/../../experiments/dcgan_fmnist.yaml" big.yaml
out=$( (ulimit -v 2200000; "$GAN" train big.yaml train.batch_size=60000 train.threads=2 --run-dir big) 2>&1); rc=$?
check "a step that cannot fit: exit 1 (got $rc)" test "$rc" = 1
check "names need, room and limit: $out" grep -Eq "train.batch_size 60000 does not fit in memory: a training step needs about [0-9.]+ GiB .* but [0-9.]+ [GM]iB is left under the address-space limit \(ulimit -v\); lower train.batch_size to at most [0-9]+$" <<<"$out"
check "no run directory for a refused run" test ! -e big
fits=$(grep -o 'at most [0-9]*$' <<<"$out" | grep -o '[0-9]*')
check "the batch it offers ($fits) trains under the same limit" \
  bash -c "ulimit -v 2200000; '$GAN' train big.yaml train.batch_size=$fits train.threads=2 train.steps=1 checkpoint.every=1 --run-dir big >/dev/null"
check "and ends with a checkpoint" test -f big/checkpoints/ckpt-00000001.h5

# One config trained again without --run-dir gets a new directory beside the first, and says
# so; a default directory left empty by a kill before config.yaml is taken again; --run-dir
# naming a run is still refused.
mkdir -p again && cd again
tiny_config twice.yaml && sed -i "s/steps: 6/steps: 2/" twice.yaml
check "first" "$GAN" train twice.yaml >/dev/null
out=$("$GAN" train twice.yaml 2>&1 >/dev/null); rc=$?
check "second: exit 0 (got $rc)" test "$rc" = 0
check "says where it went: $out" grep -q "note: runs/twice holds a run already (continue it with \`gan train --resume runs/twice\`); this run goes to runs/twice-2" <<<"$out"
check "in runs/twice-2" test -f runs/twice-2/checkpoints/ckpt-00000002.h5
check "the first is untouched" test "$(grep -c '"step"' runs/twice/metrics.jsonl)" = 2
mkdir runs/twice-3 && touch runs/twice-3/.lock
check "third" "$GAN" train twice.yaml >/dev/null 2>&1
check "reuses runs/twice-3, which had only a lock file" test -f runs/twice-3/config.yaml
check "and twice-4 was not made" test ! -e runs/twice-4
expect_exit 2 "already exists.*--resume" "$GAN" train twice.yaml --run-dir runs/twice
cd ..

# A relative data.path is stored absolute: the run resumes from another directory.
mkdir -p rel/sub && cp "$FMNIST" rel/sub/d.gz && cd rel
tiny_config rel.yaml && sed -i 's|path: [^,]*,|path: sub/d.gz,|' rel.yaml
check "trains on sub/d.gz" "$GAN" train rel.yaml --run-dir r >/dev/null
check "stored absolute" grep -q "path: $PWD/sub/d.gz " r/config.yaml
cd /
check "resumes from /" "$GAN" train --resume "$SCRATCH/rel/r" train.steps=8 >/dev/null
cd "$SCRATCH"
finish
