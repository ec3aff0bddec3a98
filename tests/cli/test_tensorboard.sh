#!/usr/bin/env bash
# TensorBoard event files (docs/tensorboard.md), read back with an independent decoder
# (tools/read_tfevents.py: Python's protobuf library, every record's CRCs checked, every Event
# decoded and serialized back to its bytes). A run with evaluation, then resumed from an older
# checkpoint (a new branch): every scalar equals its metrics.jsonl value (the abandoned branch's
# own metrics.jsonl for what the first session logged past the checkpoint), every image is the
# sample grid of its step pixel for pixel, the config text is config.yaml, and the resumed
# session's SessionLog START makes TensorBoard's purge drop exactly the abandoned steps. Then a
# full disk while the events file is written: the run stops naming it, its records stay whole.
. "$(dirname "$0")/lib.sh"
need_dataset
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c "import google.protobuf" 2>/dev/null; then
  echo "python3-protobuf not installed ($PY cannot import google.protobuf): skipped"; exit 77
fi
TOOLS=$(realpath "$(dirname "$0")/../../tools")
SHIM=${GAN_FAULT_SHIM:+$(realpath "$GAN_FAULT_SHIM")}
cd "$SCRATCH"
tiny_config exp.yaml "eval: {every: 3, n: 200, ref_n: 300}"

check "train" "$GAN" train exp.yaml --run-dir run >/dev/null
cp run/config.yaml config1.yaml
check "resume from step 3: a new branch" "$GAN" train --resume run/checkpoints/ckpt-00000003.h5 train.steps=9 \
  >/dev/null 2>resume.err
aside=$(ls -d run/checkpoints/abandoned-* 2>/dev/null | head -1)
check "the abandoned branch is aside" test -n "$aside" -a -f "$aside/metrics.jsonl"
check "two event files, one per session" test "$(ls run/events.out.tfevents.* | wc -l)" = 2
check "a resume with nothing to do writes no event file" "$GAN" train --resume run >/dev/null
check "still two event files" test "$(ls run/events.out.tfevents.* | wc -l)" = 2

check "every event read back and checked" "$PY" - "$TOOLS" run config1.yaml "$aside" <<'PY'
import json, os, sys
sys.path.insert(0, sys.argv[1])
import read_tfevents as tf
run, config1, aside = sys.argv[2:5]
R = 3  # the resumed step
problems = []
def bad(msg):
    problems.append(msg)

def metrics(path):
    """{(tag, step): value} as the events should hold them, from a metrics.jsonl."""
    out = {}
    for line in open(path):
        m = json.loads(line)
        step = m.pop("step")
        m.pop("time")
        if "fid" in m:
            for k in ("fid", "kid", "kid_std", "precision", "recall", "density", "coverage"):
                out[("eval/" + k, step)] = m[k]
            continue
        for k, v in m.items():
            if v is None:
                continue
            tag = {"loss_d": "loss/d", "loss_g": "loss/g", "images_per_sec": "speed/images_per_sec"}.get(k, "train/" + k)
            out[(tag, step)] = v
    return out

def close(a, b, tag):
    tol = 0.006 if tag == "speed/images_per_sec" else 1e-6  # %.2f there, %.6g or more digits elsewhere
    return abs(a - b) <= tol + 1e-5 * abs(b)

def png_pixels(data):
    w, h, ch, px = tf.decode_png(data)
    return (w, h, ch), px

files = tf.event_files(run)
kept, abandoned = metrics(os.path.join(run, "metrics.jsonl")), metrics(os.path.join(aside, "metrics.jsonl"))
view = {}  # what TensorBoard's Python loader keeps: (tag, step) -> value
seen_start = False
n_scalars = n_images = 0
for fi, path in enumerate(files):
    evs = list(tf.events(path))
    if not evs or not evs[0].HasField("file_version") or evs[0].file_version != "brain.Event:2":
        bad(f"{path}: the first record is not file_version brain.Event:2")
    start = R if fi == 1 else 0
    if len(evs) < 3 or not evs[1].HasField("session_log") or evs[1].session_log.status != 1 or evs[1].step != start + 1:
        bad(f"{path}: the second record is not a SessionLog START at step {start + 1}")
    last_step = -1
    for ev in evs:
        if ev.HasField("session_log"):
            if seen_start:  # TensorBoard's _CheckForRestartAndMaybePurge: not the first START
                view = {k: v for k, v in view.items() if k[1] < ev.step}
            seen_start = True
            continue
        if not ev.HasField("summary"):
            continue
        if ev.step < last_step:
            bad(f"{path}: step {ev.step} after step {last_step}")
        last_step = max(last_step, ev.step)
        for v in ev.summary.value:
            if v.HasField("simple_value"):
                n_scalars += 1
                truth = abandoned if fi == 0 and ev.step > R else kept
                want = truth.get((v.tag, ev.step))
                if want is None:
                    bad(f"{path}: {v.tag} at step {ev.step} is not in metrics.jsonl")
                elif not close(v.simple_value, want, v.tag):
                    bad(f"{path}: {v.tag} at step {ev.step} = {v.simple_value!r}, metrics.jsonl says {want!r}")
                view[(v.tag, ev.step)] = v.simple_value
            elif v.HasField("image"):
                n_images += 1
                name = f"step-{ev.step:08d}.png"
                grid = os.path.join(aside if fi == 0 and ev.step > R else os.path.join(run, "samples"), name)
                shape, px = png_pixels(v.image.encoded_image_string)
                want_shape, want_px = png_pixels(open(grid, "rb").read())
                if v.tag != "samples" or shape != want_shape or px != want_px:
                    bad(f"{path}: image {v.tag} at step {ev.step} ({shape}) is not {grid}'s pixels ({want_shape})")
                if (v.image.width, v.image.height, v.image.colorspace) != shape:
                    bad(f"{path}: image header {v.image.width}x{v.image.height}x{v.image.colorspace}, PNG {shape}")
                view[(v.tag, ev.step)] = px
            elif v.HasField("tensor"):
                text = b"".join(v.tensor.string_val).decode()
                want = open(config1 if fi == 0 else os.path.join(run, "config.yaml")).read()
                if (v.tag != "config" or ev.step != start or v.metadata.plugin_data.plugin_name != "text" or
                        v.tensor.dtype != 7 or "".join(l[4:] for l in text.splitlines(True)) != want):
                    bad(f"{path}: the config text at step {ev.step} is not config.yaml as an indented block")
            else:
                bad(f"{path}: a value {v.tag} of no expected kind")
# After the purge, the scalars are exactly metrics.jsonl's and the images those in samples/.
scalars = {k for k in view if k[0] != "samples"}
if scalars != set(kept):
    bad(f"after the purge the scalars differ from metrics.jsonl: extra {sorted(scalars - set(kept))[:5]}, "
        f"missing {sorted(set(kept) - scalars)[:5]}")
steps = sorted(k[1] for k in view if k[0] == "samples")
if steps != [3, 6, 9]:
    bad(f"after the purge the sample grids are at steps {steps}, expected [3, 6, 9]")
if not any(k[0] == "eval/fid" for k in scalars):
    bad("no eval/fid scalar")
print(f"{len(files)} files, {n_scalars} scalars, {n_images} images checked", file=sys.stderr)
for p in problems:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

# The reader as a user runs it.
check "read_tfevents.py lists a run" bash -c "'$PY' '$TOOLS/read_tfevents.py' run | grep -c 'samples=image' >/dev/null"

# A full disk while the events file is written (the shim fails writes to it after 6000 bytes: a
# few records in, past the config text record near the start, about 4.5 kB with the config keys
# there are now): the run stops with one line naming the file, and every record written before
# the fault is whole.
if [ -n "$SHIM" ] && [ -f "$SHIM" ]; then
  env LD_PRELOAD="$SHIM" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    GAN_FAULT_PATH=tfevents GAN_FAULT_AFTER=6000 \
    "$GAN" train exp.yaml --run-dir full >/dev/null 2>full.err
  rc=$?
  check "ENOSPC in the events file: exit 1 (got $rc)" test "$rc" = 1
  check "one line on stderr" test "$(wc -l < full.err)" = 1
  check "one line naming the events file" grep -Eq \
    "^gan train: .*full/events\.out\.tfevents\.[0-9]{10}\.[^ ]*: cannot append: No space left on device; its earlier contents are intact$" \
    full.err
  check "the records before the fault are whole" "$PY" -c "
import sys; sys.path.insert(0, '$TOOLS'); import read_tfevents as tf
n = sum(1 for p in tf.event_files('full') for _ in tf.events(p)); sys.exit(0 if n >= 3 else 1)"
else
  echo "note: no fault shim (GAN_FAULT_SHIM): the full-disk case did not run"
fi
finish
