#!/usr/bin/env bash
# gan report and gan runs (issue 13): the trainer writes report.html and status.json; the page
# is self-contained (no URL, no file beside it), draws every numeric key of DCGAN and StyleGAN2
# runs, stays small and quick for 10^5 log lines; gan runs tells running (by the lock),
# finished, stopped and diverged runs apart. The page in a real browser: test_report_browser.sh.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"

# self_contained FILE: an HTML page that needs nothing beside it: no http(s) URL, every src a
# data: URI, no stylesheet or script file, links only to anchors in the page.
self_contained() {
  local bad
  bad=$(grep -Eo 'https?://[^"<> ]*' "$1" | head -3)
  [ -z "$bad" ] || { echo "$1 names URLs: $bad" >&2; return 1; }
  bad=$(grep -Eo '\bsrc="[^"]{0,40}' "$1" | grep -v '^src="data:image/png;base64,' | head -3)
  [ -z "$bad" ] || { echo "$1 loads: $bad" >&2; return 1; }
  bad=$(grep -Eo '<link[^>]*>|<script[^>]* src=[^>]*>|href="[^#][^"]*"|url\(|@import|<iframe|<object' "$1" | head -3)
  [ -z "$bad" ] || { echo "$1 refers to: $bad" >&2; return 1; }
}
# page_data FILE EXPR: the page's data block (<script id="gan-data">) as `d` in a python3
# expression, printed.
page_data() {
  python3 - "$1" "$2" <<'PY'
import json, re, sys
page = open(sys.argv[1]).read()
m = re.search(r'<script type="application/json" id="gan-data">(.*?)</script>', page, re.S)
d = json.loads(m.group(1))
groups = {g["id"]: {s["name"]: s for s in g["series"]} for g in d["groups"]}
print(eval(sys.argv[2]))
PY
}
# one_line CODE PATTERN command...: exits CODE with one line on stderr, matching PATTERN.
one_line() {
  local code=$1 pattern=$2 out rc; shift 2
  out=$("$@" 2>&1 >/dev/null); rc=$?
  checks=$((checks + 1))
  if [ "$rc" != "$code" ] || [ "$(grep -c . <<<"$out")" != 1 ] || ! grep -Eq -- "$pattern" <<<"$out"; then
    fail "expected exit $code and one line matching /$pattern/: $* -> exit $rc:"$'\n'"$out"
  fi
}
# runs_field DIR RUN FIELD: FIELD of RUN in `gan runs DIR --json`.
runs_field() {
  "$GAN" runs "$1" --json | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["name"] == sys.argv[1]: print(r[sys.argv[2]])' "$2" "$3"
}
wait_for() { for _ in $(seq 1 $(($2 * 10))); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

# --- a tiny DCGAN run: the trainer leaves report.html and status.json ----------------------
mkdir runs
tiny_config dcgan.yaml
check "a tiny DCGAN run" "$GAN" train dcgan.yaml --run-dir runs/dcgan >/dev/null
check "the trainer wrote report.html" test -s runs/dcgan/report.html
check "and status.json: finished at step 6" grep -q '"state": "finished", "step": 6,' runs/dcgan/status.json
check "the trainer's page says finished" grep -q 'id="state">finished' runs/dcgan/report.html
out=$("$GAN" report runs/dcgan)
check "gan report says what it wrote ($out)" grep -Eq '^wrote runs/dcgan/report.html \([0-9]+ KiB: 6 log lines, 2 of 2 sample grids embedded\)$' <<<"$out"
p=runs/dcgan/report.html
check "a whole HTML page" bash -c "head -1 $p | grep -q '^<!DOCTYPE html>' && tail -1 $p | grep -q '</html>'"
check "self-contained" self_contained $p
check "the curves' data: losses, D outputs, images/s" same_text "$(page_data $p 'sorted(groups)')" "['d', 'ips', 'losses']"
check "D(x) and both D(G(z))" same_text "$(page_data $p 'sorted(groups["d"])')" "['d_g_z1', 'd_g_z2', 'd_x']"
check "every logged step of loss_g" same_text "$(page_data $p 'groups["losses"]["loss_g"]["x"]')" "[1, 2, 3, 4, 5, 6]"
check "the values as logged" same_text "$(page_data $p 'groups["losses"]["loss_d"]["y"][-1]')" \
  "$(tail -1 runs/dcgan/metrics.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["loss_d"])')"
check "both sample grids, as PNG data" same_text "$(page_data $p '[(g["step"], g["src"][:30]) for g in d["grids"]]')" \
  "[(3, 'data:image/png;base64,iVBORw0K'), (6, 'data:image/png;base64,iVBORw0K')]"
check "the grid embedded is the file" same_text "$(page_data $p 'd["grids"][1]["src"].split(",")[1]')" \
  "$(base64 -w0 runs/dcgan/samples/step-00000006.png)"
check "the slider" grep -q 'id="grid-slider"' $p
check "the real grid" grep -q 'id="real-grid" alt="training images" src="data:image/png;base64,' $p
check "the config" grep -q '^  type: dcgan' $p
check "the checkpoints, latest marked" grep -q 'checkpoints/ckpt-00000006.h5</td><td class="n">6</td>.*&larr; latest.h5' $p
check "hardware and timing" grep -q '<th>threads</th><td>2</td>' $p
check "--out writes elsewhere" "$GAN" report runs/dcgan --out copy.html
check "the same page there" same_text "$(sed 's/written [0-9-]* [0-9:]* UTC/T/' copy.html | md5sum)" \
  "$(sed 's/written [0-9-]* [0-9:]* UTC/T/' $p | md5sum)"

# --- a tiny StyleGAN2 run: its own statistics are drawn -----------------------------------
tiny_sg2_config sg2.yaml
sed -i 's/steps: 6/steps: 4/; s/every: 3, keep/every: 2, keep/; s/every: 3, n/every: 2, n/' sg2.yaml
check "a tiny StyleGAN2 run" "$GAN" train sg2.yaml --run-dir runs/sg2 >/dev/null
check "gan report" "$GAN" report runs/sg2 >/dev/null
p=runs/sg2/report.html
check "self-contained" self_contained $p
check "losses, D scores, regularisers, images/s" same_text "$(page_data $p 'sorted(groups)')" "['d', 'ips', 'losses', 'reg']"
check "R1 and path length" same_text "$(page_data $p 'sorted(groups["reg"])')" "['pl_mean', 'pl_penalty', 'r1_penalty']"
check "a lazy regulariser's null lines are left out" same_text "$(page_data $p 'groups["reg"]["r1_penalty"]["x"]')" \
  "$(python3 -c '
import json
print([r["step"] for r in map(json.loads, open("runs/sg2/metrics.jsonl")) if r.get("r1_penalty") is not None])')"

# --- 10^5 log lines: quick, bounded, spikes kept; a torn last line skipped -------------------
mkdir -p runs/long && cp -r runs/dcgan/config.yaml runs/dcgan/samples runs/long/
awk 'BEGIN {
  for (s = 1; s <= 100000; s++) {
    ld = (s == 54321) ? 99 : 1.3 + 0.1 * sin(s / 500);
    printf "{\"step\": %d, \"time\": %.3f, \"loss_d\": %.6g, \"loss_g\": %.6g, \"d_x\": 0.6, \"d_g_z1\": 0.4, \"d_g_z2\": 0.41, \"images_per_sec\": 3000.00}\n", s, s * 0.01, ld, 2 - ld / 2
    if (s % 5000 == 0) printf "{\"step\": %d, \"time\": %.3f, \"fid\": %.6f, \"kid\": 0.01, \"kid_std\": 0.001, \"precision\": 0.6, \"recall\": 0.5, \"density\": 0.9, \"coverage\": 0.6, \"eval_n\": 10000, \"feature_net\": \"fmnist\", \"eval_seconds\": 2.0}\n", s, s * 0.01, 100 - s / 2000 + (s == 60000 ? -30 : 0)
  }
  printf "{\"step\": 100001, \"time\": 1000"
}' > runs/long/metrics.jsonl
sed -i 's/^  steps: 6 /  steps: 100000 /' runs/long/config.yaml
t0=$(date +%s%N)
out=$("$GAN" report runs/long)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "10^5 log lines ($(stat -c %s runs/long/metrics.jsonl) bytes): report in $ms ms, $(stat -c %s runs/long/report.html) bytes"
check "10^5 lines reported in under 5 s (took $ms ms)" test "$ms" -lt 5000
check "says how many lines it read ($out)" grep -q '100020 log lines' <<<"$out"
check "the page stays under 400 KB" test "$(stat -c %s runs/long/report.html)" -lt 400000
check "the torn last line is skipped, and said so" grep -q '100020 log lines, 1 skipped' runs/long/report.html
check "at most 2000 points a curve" same_text "$(page_data runs/long/report.html \
  'max(len(s["x"]) for g in groups.values() for s in g.values()) <= 2000')" True
check "the curve spans the run" same_text "$(page_data runs/long/report.html \
  '(groups["losses"]["loss_d"]["x"][0], groups["losses"]["loss_d"]["x"][-1])')" "(1, 100000)"
check "a one-step spike survives the thinning" same_text "$(page_data runs/long/report.html \
  'max(groups["losses"]["loss_d"]["y"]) == 99')" True
check "every evaluation is drawn" same_text "$(page_data runs/long/report.html 'len(groups["fid"]["fid"]["x"])')" 20
check "gan runs: the best FID and its step" same_text "$(runs_field runs long best_fid) $(runs_field runs long best_fid_step)" "40 60000"

# --- not a run directory: one line naming the path ------------------------------------------
mkdir notarun && touch afile
one_line 1 "^gan report: error: nowhere: no such directory" "$GAN" report nowhere
one_line 1 "^gan report: error: afile: not a directory" "$GAN" report afile
one_line 1 "^gan report: error: notarun is not a run directory \(it has no config.yaml\)" "$GAN" report notarun
one_line 2 "^gan report: error: expected a run directory" "$GAN" report
one_line 2 "^gan report: error: unknown option --bogus" "$GAN" report runs/dcgan --bogus
one_line 2 "^gan report: error: --max-points '1'" "$GAN" report runs/dcgan --max-points=1
one_line 1 "^gan runs: error: nowhere: no such directory" "$GAN" runs nowhere
check "nothing was written into notarun" test -z "$(ls notarun)"
(mkdir -p ro/run && cp runs/dcgan/config.yaml ro/run/ && chmod a-w ro/run
 if [ -w ro/run ]; then exit 0; fi  # root writes anywhere: nothing to see
 one_line 1 "^gan report: error: ro/run/report.html: cannot write" "$GAN" report ro/run; exit $failures) || fail "read-only run"

# --- gan runs: running (by its lock), stopped, diverged, killed -----------------------------
tiny_config long.yaml
sed -i 's/steps: 6/steps: 100000/; s/every: 3, keep/every: 1000, keep/; s/sample: {every: 3/sample: {every: 200/' long.yaml
"$GAN" train long.yaml --run-dir runs/live > live.log 2>&1 &
pid=$!
check "the run starts" wait_for runs/live/report.html 60
check "gan runs: running" same_text "$(runs_field runs live state)" running
check "naming the writer" grep -q "pid $pid host" <<<"$(runs_field runs live holder)"
check "the trainer's page says running" grep -q 'id="state">running' runs/live/report.html
for _ in 1 2 3 4 5; do "$GAN" runs runs >/dev/null; done  # probing often does not disturb the writer
kill -INT $pid
wait $pid; rc=$?
check "SIGINT: the run stops cleanly (exit $rc)" test "$rc" = 0
check "gan runs: stopped" same_text "$(runs_field runs live state)" stopped
check "its page too" grep -q 'id="state">stopped' runs/live/report.html

tiny_config nan.yaml
sed -i 's/steps: 6/steps: 50/; s/batch_size: 8/batch_size: 8, lr_d: 1.0e+30, lr_g: 1.0e+30/' nan.yaml
"$GAN" train nan.yaml --run-dir runs/nan >/dev/null 2>nan.err
check "a diverging run: exit 1" test $? = 1
check "gan runs: diverged" same_text "$(runs_field runs nan state)" diverged
check "with the trainer's message" grep -q "training diverged" <<<"$(runs_field runs nan message)"
check "its page says so" grep -q 'id="state">diverged' runs/nan/report.html

# A killed writer leaves no end record: its lock is gone, so it is not running.
"$GAN" train long.yaml --run-dir runs/killed > /dev/null 2>&1 &
pid=$!
check "the run starts" wait_for runs/killed/samples/step-00000200.png 60
kill -9 $pid
wait $pid 2>/dev/null
check "gan runs: a killed run is stopped" same_text "$(runs_field runs killed state)" stopped

# A finished run resumed from an older checkpoint (a new branch) and killed: the old end record
# is not its state any more.
cp -r runs/dcgan runs/branch
"$GAN" train --resume runs/branch/checkpoints/ckpt-00000003.h5 train.steps=100000 sample.every=200 \
  checkpoint.every=1000 > /dev/null 2>&1 &
pid=$!
check "the branch starts" wait_for runs/branch/samples/step-00000200.png 60
kill -9 $pid
wait $pid 2>/dev/null
check "gan runs: a killed branch of a finished run is stopped" same_text "$(runs_field runs branch state)" stopped
# The same without the timing: a copy of the finished run (times kept) is finished; with its
# last checkpoint moved aside and a line logged after its end record (a branch from step 3
# killed at step 4, before it got as far as the record's step 6), it is stopped.
mkdir later && cp -a runs/dcgan later/
check "a copy of a finished run is finished" same_text "$(runs_field later dcgan state)" finished
sleep 0.05
mkdir later/dcgan/checkpoints/abandoned-x && mv later/dcgan/checkpoints/ckpt-00000006.h5 later/dcgan/checkpoints/abandoned-x/
ln -sfn ckpt-00000003.h5 later/dcgan/checkpoints/latest.h5
head -4 runs/dcgan/metrics.jsonl | tail -1 >> later/dcgan/metrics.jsonl
check "a later session's line outdates the end record" same_text "$(runs_field later dcgan state)" stopped

out=$("$GAN" runs runs)
echo "$out"
check "a header and one line per run" same_text "$(awk '{print $1, $4}' <<<"$out")" \
  "RUN STATE
branch stopped
dcgan finished
killed stopped
live stopped
long stopped
nan diverged
sg2 finished"
check "the columns line up" same_text "$(awk '{print index($0, "STATE")}' <<<"$out" | head -1)" \
  "$(grep '^dcgan ' <<<"$out" | awk '{print index($0, "finished")}')"
check "a run directory itself" same_text "$("$GAN" runs runs/dcgan | awk 'NR == 2 {print $1, $3, $4}')" "dcgan 6/6 finished"
check "an empty directory" same_text "$("$GAN" runs notarun)" "no runs in notarun"
finish
