#!/usr/bin/env bash
# Data-parallel training over MPI (docs/distributed.md), as `mpirun -np 2 gan train` runs it on
# these 2-core machines (1 thread per rank):
# - StyleGAN2 with R1, path length and style mixing, unconditional and conditional: 2 ranks
#   against 1 process at the same global batch. The losses of every step and the final weights
#   and optimizer state agree to the stated tolerance (only the order of the gradients' sums
#   differs); a 2-rank run resumed by one process continues it;
# - DCGAN (batchnorm statistics per rank, as PyTorch's DDP): only rank 0 writes the run, and a
#   2-rank run stopped and resumed with 2 ranks ends byte-identical to an unbroken one; with
#   train.sync_bn, 2 ranks against 1 process as for StyleGAN2, and with DiffAugment;
# - StyleGAN2 with ADA: 2 ranks against 1 process, p included;
# - failures end every rank, never a hang: a batch that does not split, a diverged run, a rank killed mid-run, rank 0 unable to
#   write its checkpoint.
. "$(dirname "$0")/lib.sh"
need_dataset
MPIRUN=${MPIRUN:-mpirun}
command -v "$MPIRUN" > /dev/null || { echo "no mpirun: skipped"; exit 77; }
if ! "$GAN" --version | grep -q "dist: mpi"; then echo "gan built without MPI: skipped"; exit 77; fi
cd "$SCRATCH"
# (each rank 1 thread: 2 ranks on 2 cores; --oversubscribe for 3 ranks)
mpi() {
  local n=$1; shift
  local opts=()
  while :; do
    case "${1:-}" in
      -x) opts+=(-x "$2"); shift 2 ;;
      --mca) opts+=(--mca "$2" "$3"); shift 3 ;;
      *) break ;;
    esac
  done
  timeout -k 5 120 "$MPIRUN" --oversubscribe --allow-run-as-root -np "$n" "${opts[@]}" "$@"
}

# close_datasets A B TOL OBJ...: every dataset of OBJ within TOL (absolute) in the two files.
close_datasets() {
  local a=$1 b=$2 tol=$3 obj out rc; shift 3
  for obj in "$@"; do
    h5_has_datasets "$a" "$obj" && h5_has_datasets "$b" "$obj" || return 1
    out=$(h5diff -r -d "$tol" "$a" "$b" "$obj" "$obj" 2>&1); rc=$?
    [ "$rc" = 0 ] || { echo "$obj: differences above $tol:"$'\n'"$(grep -B3 'differences found' <<<"$out" | head -20)" >&2; return 1; }
  done
}
# losses_close A B [TOL]: the two runs' metrics.jsonl have the same steps, ADA's p the same at
# every step, and each loss within 1e-5 relative at the first step and within TOL (1e-5 unless
# given) after it (the step statistics are means over the ranks' shares of the batch).
losses_close() {
  python3 - "$1" "$2" "${3:-1e-5}" <<'EOF'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if '"loss_d"' in l]
b = [json.loads(l) for l in open(sys.argv[2]) if '"loss_d"' in l]
assert a and [r["step"] for r in a] == [r["step"] for r in b], "steps differ: %s vs %s" % (len(a), len(b))
for x, y in zip(a, b):
    assert x.get("aug_p") == y.get("aug_p"), (x["step"], "aug_p", x.get("aug_p"), y.get("aug_p"))
    tol = 1e-5 if x is a[0] else float(sys.argv[3])
    for k in ("loss_d", "loss_g", "r1_penalty", "pl_penalty", "pl_mean", "scores_real", "scores_fake"):
        if k in x and x[k] is not None:
            assert y[k] is not None and abs(x[k] - y[k]) <= tol * max(1, abs(x[k])), (x["step"], k, x[k], y[k])
EOF
}

# one_and_two NAME CONFIG [OVERRIDE...]: CONFIG trained by 1 process into NAME1 and by 2 ranks
# into NAME2; both exit 0 and the losses of every step agree (to $loss_tol after the first step,
# when set).
one_and_two() {
  local name=$1 cfg=$2 rc; shift 2
  "$GAN" train "$cfg" --run-dir "${name}1" "$@" > "${name}1.log" 2>&1; rc=$?
  check "$name, 1 process: exit 0 (got $rc): $(tail -n 3 "${name}1.log")" test "$rc" = 0
  mpi 2 "$GAN" train "$cfg" --run-dir "${name}2" "$@" > "${name}2.log" 2>&1; rc=$?
  check "$name, 2 ranks: exit 0 (got $rc): $(tail -n 5 "${name}2.log")" test "$rc" = 0
  check "$name: the losses (and ADA's p) of every step agree" losses_close "${name}1/metrics.jsonl" "${name}2/metrics.jsonl" "${loss_tol:-1e-5}"
}

# --- StyleGAN2 with R1, path length, mixing: 2 ranks = 1 process -------------------------------
tiny_sg2_config sg2.yaml
sed -i 's/batch_size: 4, threads: 2/batch_size: 8, threads: 1/; s/channel_max: 16}/channel_max: 16, mbstd_group_size: 2}/' sg2.yaml
"$GAN" train sg2.yaml --run-dir one > one.log 2>&1; rc=$?
check "1 process: exit 0 (got $rc): $(tail -n 3 one.log)" test "$rc" = 0
# (comparing the ranks' weights every 2 steps: they must not have drifted)
mpi 2 "$GAN" train sg2.yaml --run-dir two train.check_ranks_every=2 > two.log 2>&1; rc=$?
check "2 ranks: exit 0 (got $rc): $(tail -n 5 two.log)" test "$rc" = 0
check "2 ranks say so" grep -q "in each of 2 processes (mpi" two.log
check "rank 0 alone speaks: $(grep -c '^training' two.log) 'training' lines" test "$(grep -c '^training' two.log)" = 1
check "the losses of every step agree" losses_close one/metrics.jsonl two/metrics.jsonl
ck=checkpoints/ckpt-00000006.h5
check "weights and optimizer state agree to 1e-4" close_datasets one/$ck two/$ck 1e-4 /G /G_ema /D /optim
check "the run state agrees" same_attr one/$ck two/$ck step
check "... and the data position" same_attr one/$ck two/$ck data_position
check "path length ran" grep -q '"pl_penalty": [0-9]' two/metrics.jsonl
# Conditional (one-hot classes sharded with their latents, the real classes with their images).
labels="model.num_classes=10 data.labels=$(dirname "$FMNIST")/train-labels-idx1-ubyte.gz"
# shellcheck disable=SC2086  # two overrides
one_and_two cond sg2.yaml $labels
check "conditional: weights and optimizer state agree to 1e-4" close_datasets cond1/$ck cond2/$ck 1e-4 /G /G_ema /D /optim
# Another number of processes continues the run (the data position and every draw are global).
mpi 2 "$GAN" train sg2.yaml --run-dir half train.steps=3 > half.log 2>&1; rc=$?
check "2 ranks, 3 steps: exit 0 (got $rc)" test "$rc" = 0
"$GAN" train --resume half train.steps=6 > resume1.log 2>&1; rc=$?
check "resumed by 1 process: exit 0 (got $rc): $(tail -n 3 resume1.log)" test "$rc" = 0
check "... ends where the 1-process run ended (1e-4)" close_datasets one/$ck half/$ck 1e-4 /G /G_ema /D /optim
# ADA (every D pass's parameters in the D groups' rows; p from the signs of the global batch).
# OpenBLAS rounds a row of a product differently with the number of rows in the call (its
# AVX-512 kernels as a user's machine picks them: 4 rows per rank against 8 in one process), and
# here a leaky ReLU input lay within that rounding of zero: the runs part by 1e-5 at the second
# step and Adam carries it to 8e-4 in the losses and 3e-3 in the weights by the sixth (with the
# products by a fixed-order loop, or by OpenBLAS's Haswell kernels, they happened to agree: the
# batch sums round differently on 2 ranks whatever the products do). So ADA's p and the first
# step's losses are held to the rest's tolerance, later steps to about 3x the worst seen.
ada="augment.ada=true augment.ada_p=0.5 augment.ada_interval=1 augment.ada_kimg=0.1"
# shellcheck disable=SC2086  # several overrides
loss_tol=3e-3 one_and_two ada sg2.yaml $ada
check "ADA: p moved" grep -q '"aug_p": 0.42' ada2/metrics.jsonl
check "ADA: weights and optimizer state agree to 1e-2" close_datasets ada1/$ck ada2/$ck 1e-2 /G /G_ema /D /optim
check "ADA: the checkpoint's p agrees" same_attr ada1/$ck ada2/$ck aug_p
expect_exit 2 "stylegan2.pl_batch_shrink: the path-length batch, 8 / 8 = 1, does not split over 2 processes" \
  mpi 2 "$GAN" train sg2.yaml --run-dir pl stylegan2.pl_batch_shrink=8
check "nothing written for it" test ! -e pl/config.yaml
expect_exit 2 "train.batch_size: 8 does not split over 2 processes in whole minibatch-stddev groups of 8" \
  mpi 2 "$GAN" train sg2.yaml --run-dir groups model.mbstd_group_size=8

# --- DCGAN: rank 0 writes; resume with 2 ranks is byte-identical -----------------------------
tiny_config dc.yaml
sed -i 's/threads: 2/threads: 1/' dc.yaml
mpi 2 "$GAN" train dc.yaml --run-dir full > full.log 2>&1; rc=$?
check "DCGAN, 2 ranks: exit 0 (got $rc): $(tail -n 5 full.log)" test "$rc" = 0
check "metrics.jsonl written once per step: $(grep -c '"loss_d"' full/metrics.jsonl)" \
  test "$(grep -c '"loss_d"' full/metrics.jsonl)" = 6
check "one TensorBoard file" test "$(ls full/events.out.tfevents.* | wc -l)" = 1
mpi 2 "$GAN" train dc.yaml --run-dir cut train.steps=3 > cut.log 2>&1
mpi 2 "$GAN" train --resume cut train.steps=6 > cut2.log 2>&1; rc=$?
check "resumed with 2 ranks: exit 0 (got $rc): $(tail -n 5 cut2.log)" test "$rc" = 0
check "... byte-identical to the unbroken run" same_datasets full/$ck cut/$ck /G /D /optim

# --- DCGAN with train.sync_bn: batchnorm over the global batch, 2 ranks = 1 process ------------
one_and_two bn dc.yaml train.sync_bn=true
check "sync_bn: weights, running statistics and optimizer state agree to 1e-4" \
  close_datasets bn1/$ck bn2/$ck 1e-4 /G /D /optim
# DiffAugment with sync_bn: the same, each D input augmented with its rows' parameters.
diff="train.sync_bn=true augment.diffaugment=color,translation,cutout"
# shellcheck disable=SC2086
one_and_two da dc.yaml $diff
check "DiffAugment: weights and optimizer state agree to 1e-4" close_datasets da1/$ck da2/$ck 1e-4 /G /D /optim
check "DiffAugment changed the run" different_datasets da2/$ck bn2/$ck /G
check "without sync_bn the 2 ranks' statistics are their own (the runs differ)" different_datasets bn2/$ck full/$ck /G

# --- failures end every rank ------------------------------------------------------------------
expect_exit 2 "train.batch_size: 8 does not split over 3 processes" mpi 3 "$GAN" train dc.yaml --run-dir three
check "nothing written for it" test ! -e three
tiny_config nan.yaml
sed -i 's/threads: 2/threads: 1/; s/steps: 6/steps: 50/; s/batch_size: 8/batch_size: 8, lr_d: 1.0e+30, lr_g: 1.0e+30/' nan.yaml
expect_exit 1 "training diverged" mpi 2 "$GAN" train nan.yaml --run-dir nan
# Rank 0 cannot write its checkpoint (a full disk, from tests/fault's shim): it says so and the
# run ends, rank 1 with it; the last good checkpoint stays.
SHIM=${GAN_FAULT_SHIM:-$(dirname "$GAN")/../../tests/fault/libfail_write.so}
mpi 2 "$GAN" train dc.yaml --run-dir disk train.steps=3 > /dev/null 2>&1
expect_exit 1 "ckpt-00000006.h5.*No space left" mpi 2 -x LD_PRELOAD="$(realpath "$SHIM")" \
  -x GAN_FAULT_PATH=ckpt-00000006.h5 "$GAN" train --resume disk train.steps=6
check "the step-3 checkpoint is still there" test -s disk/checkpoints/ckpt-00000003.h5
tiny_config long.yaml
sed -i 's/threads: 2/threads: 1/; s/steps: 6/steps: 100000/; s/every: 3, keep/every: 100000, keep/; s/every: 3, n/every: 100000, n/' long.yaml
# rank_pid RUNDIR RANK: the pid of that rank of the run training into RUNDIR.
rank_pid() {
  local p
  for p in $(pgrep -f "train long.yaml --run-dir $1\$"); do
    tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && echo "$p"
  done
}
# A signal that reaches one rank stops them all at the same step: SIGINT to rank 1 alone, and
# rank 0 writes the checkpoint; every rank exits 0, and so does mpirun.
mpi 2 "$GAN" train long.yaml --run-dir sig1 > sig1.log 2>&1 &
launcher=$!
for _ in $(seq 600); do grep -q '"step"' sig1/metrics.jsonl 2>/dev/null && break; sleep 0.1; done
r1=$(rank_pid sig1 1)
check "found rank 1 of the run" test -n "$r1"
[ -n "$r1" ] && kill -INT "$r1"
wait "$launcher"; rc=$?
check "SIGINT to rank 1: every rank exits 0 (got $rc): $(tail -c 300 sig1.log)" test "$rc" = 0
check "... rank 0 stopped with a checkpoint" grep -q "stopped by signal 2 .* checkpoint written" sig1.log
check "... there it is" test -s sig1/checkpoints/latest.h5
check "... and the run says it stopped" grep -q '"state": "stopped"' sig1/status.json
# Ctrl-C to mpirun: Open MPI sends the ranks SIGCONT, then SIGTERM odls_base_sigkill_timeout
# seconds later (1 by default), then SIGKILL as long again. The window is widened to 3 s here,
# as docs/distributed.md tells users with checkpoints slower than a second: a loaded CI machine
# took longer than the default to write even this tiny one. Once mpirun ends a job it no longer
# drains rank 0's terminal, so the run's state is read from status.json, not from its log.
mpi 2 --mca odls_base_sigkill_timeout 3 "$GAN" train long.yaml --run-dir sig > sig.log 2>&1 &
launcher=$!
for _ in $(seq 600); do grep -q '"step"' sig/metrics.jsonl 2>/dev/null && break; sleep 0.1; done
mpirun_pid=$(pgrep -f "^[^ ]*mpirun .*--run-dir sig\$")  # not the timeout that wraps it
check "found the run's mpirun" test -n "$mpirun_pid"
[ -n "$mpirun_pid" ] && kill -INT "$mpirun_pid"
wait "$launcher"
check "Ctrl-C to mpirun: the run stopped: $(cat sig/status.json 2>&1)" grep -q '"state": "stopped"' sig/status.json
check "... with a checkpoint" test -s sig/checkpoints/latest.h5
# A rank killed mid-run: mpirun ends the others and fails; nobody waits forever.
mpi 2 "$GAN" train long.yaml --run-dir long > long.log 2>&1 &
launcher=$!
for _ in $(seq 600); do grep -q '"step"' long/metrics.jsonl 2>/dev/null && break; sleep 0.1; done
victim=$(rank_pid long 1)
check "found rank 1 running" test -n "$victim"
[ -n "$victim" ] && kill -9 "$victim"
t0=$SECONDS
wait "$launcher"; rc=$?
check "mpirun fails when a rank dies (exit $rc) within 30 s ($((SECONDS - t0)) s)" \
  test "$rc" != 0 -a "$rc" != 124 -a $((SECONDS - t0)) -lt 30
check "no rank of it is left" test -z "$(pgrep -f 'train long.yaml')"
finish
