#!/usr/bin/env bash
# What `gan train` prints when its output is not a terminal (a log, nohup, CI): every
# log.every steps a line of the same interval means metrics.jsonl stores, every statistic the
# family measures (StyleGAN2's R1 and path-length terms too), and a line for each step that
# wrote a sample grid or a checkpoint.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"
tiny_config exp.yaml
sed -i 's/log: {every: 1}/log: {every: 3}/' exp.yaml
"$GAN" train exp.yaml --run-dir run > out.txt 2>&1 || fail "the tiny run does not train"
check "two progress lines for 6 steps at log.every 3" test "$(grep -c '^step [0-9]*/6 |' out.txt)" = 2
# Each line's values are the means metrics.jsonl stores for its interval, to the 4 decimals shown.
python3 - out.txt run/metrics.jsonl <<'PY' || fail "progress lines differ from metrics.jsonl"
import json, re, sys
lines = [l for l in open(sys.argv[1]) if re.match(r"step \d+/6 \|", l)]
metrics = {m["step"]: m for m in map(json.loads, open(sys.argv[2]))}
assert len(lines) == 2, lines
for l in lines:
    step = int(re.match(r"step (\d+)", l).group(1))
    shown = dict((k, float(v)) for k, v in re.findall(r" ([a-z_0-9]+) (-?[0-9.]+(?:e-?[0-9]+)?)", l.split("ETA")[1]))
    want = {k: v for k, v in metrics[step].items() if k not in ("step", "time", "images_per_sec") and v is not None}
    assert set(shown) == set(want), (step, shown, want)
    for k, v in want.items():
        assert abs(shown[k] - v) <= 6e-5 * max(1, abs(v)), (step, k, shown[k], v)
PY
check "announces what step 3 wrote" grep -qx "step 3: wrote a sample grid (samples/) and a checkpoint (checkpoints/)" out.txt
check "and step 6" grep -qx "step 6: wrote a sample grid (samples/) and a checkpoint (checkpoints/)" out.txt

tiny_sg2_config sg2.yaml
sed -i 's/steps: 6/steps: 4/; s/log: {every: 1}/log: {every: 2}/' sg2.yaml
"$GAN" train sg2.yaml --run-dir sg2 > sg2.txt 2>&1 || fail "the tiny StyleGAN2 run does not train"
check "StyleGAN2's lines show the R1 and path-length terms" \
  bash -c "grep '^step 2/4 |' sg2.txt | grep -q 'r1_penalty [0-9.e-]* pl_penalty [0-9.e-]* pl_mean'"
finish
