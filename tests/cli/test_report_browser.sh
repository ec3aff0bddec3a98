#!/usr/bin/env bash
# report.html in a real browser (issue 13): Debian's chromium, headless and offline, opens the
# page of a tiny run and of a synthetic run of 10^5 log lines from file://; the page logs no
# console message (an error, an uncaught exception, a refused load), its script drew every
# chart and wired the grid slider (the DOM after the script ran), and a screenshot is left in
# the build directory (report-screenshot.png). Then report_cdp.py uses each page over the
# DevTools protocol: moves the slider, hovers the charts, and listens for console messages and
# exceptions all along.
. "$(dirname "$0")/lib.sh"
need_dataset
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  echo "chromium not installed ($CHROMIUM; tools/setup.sh --tests installs it): skipped"
  exit 77
fi
SHOT=${REPORT_SCREENSHOT:-$(dirname "$GAN")/../../report-screenshot.png}
CDP=$(cd "$(dirname "$0")" && pwd)/report_cdp.py
cd "$SCRATCH"

# browser ARGS...: headless chromium with no network of its own (no updates, sync or
# background requests) and a fresh profile, its log on stderr.
browser() {
  local profile
  profile=$(mktemp -d "$SCRATCH/profile.XXXXXX")
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 "$@"
}
# open_page HTML DOM: the page's DOM after its script ran into DOM; fails, showing them, on
# console messages (the page writes none, so any is an error) or when chromium fails.
open_page() {
  browser --dump-dom "file://$PWD/$1" > "$2" 2> "$2.log" ||
    { echo "chromium failed on $1:" >&2; tail -5 "$2.log" >&2; return 1; }
  if grep -E 'CONSOLE|Uncaught' "$2.log" >&2; then echo "console messages opening $1 (above)" >&2; return 1; fi
  [ -s "$2" ] || { echo "chromium dumped no DOM for $1" >&2; return 1; }
}
# drawn DOM ID...: each chart figure#plot-ID is in the DOM with an SVG holding a line or a point.
drawn() {
  local dom=$1 id; shift
  for id in "$@"; do
    python3 - "$dom" "$id" <<'PY' || return 1
import re, sys
dom, id = open(sys.argv[1]).read(), sys.argv[2]
m = re.search(r'<figure class="plot" id="plot-%s">(.*?)</figure>' % id, dom, re.S)
if not m: sys.exit("no chart plot-%s in the DOM" % id)
if "<svg" not in m.group(1) or not re.search(r"<polyline|<circle", m.group(1)):
    sys.exit("chart plot-%s has no curve" % id)
PY
  done
}

tiny_config t.yaml
check "a tiny DCGAN run" "$GAN" train t.yaml --run-dir run >/dev/null
check "gan report" "$GAN" report run >/dev/null
check "chromium opens it with no console message" open_page run/report.html dom.html
check "losses, D outputs and images/s are drawn" drawn dom.html losses d ips
check "the slider was wired to the newest of the two grids" \
  grep -q '<input type="range" id="grid-slider" min="0" max="1" value="0" step="1" aria-label="step"> <span id="grid-step">step 6 (2 of 2)</span>' dom.html
check "the grid image shows a PNG" grep -q '<img id="grid-img" alt="sample grid" src="data:image/png;base64,' dom.html
check "the real grid" grep -q '<img id="real-grid"' dom.html

# used PAGE: the page driven over the DevTools protocol (report_cdp.py): no console message or
# exception, the slider moved to the first grid shows it, hovering a chart shows its values.
used() {
  local out rc
  out=$(timeout 120 python3 "$CDP" "$CHROMIUM" "$1" "$(mktemp -d "$SCRATCH/profile.XXXXXX")" 2>&1)
  rc=$?
  echo "$out" | sed "s|^|  $1: |"
  [ "$rc" = 0 ]
}
check "used in chromium: slider, hover, no console message" used run/report.html

# A long run with evaluations: 10^5 log lines, FID, KID and precision/recall curves.
mkdir long && cp -r run/config.yaml run/samples long/
awk 'BEGIN {
  for (s = 1; s <= 100000; s++) {
    printf "{\"step\": %d, \"time\": %.3f, \"loss_d\": %.6g, \"loss_g\": %.6g, \"d_x\": 0.6, \"d_g_z1\": 0.4, \"d_g_z2\": 0.41, \"images_per_sec\": 3000.00}\n", s, s * 0.01, 1.3 + 0.1 * sin(s / 500), 0.7 + 0.2 * cos(s / 900)
    if (s % 5000 == 0) printf "{\"step\": %d, \"time\": %.3f, \"fid\": %.6f, \"kid\": %.5f, \"kid_std\": 0.001, \"precision\": 0.6, \"recall\": 0.5, \"density\": 0.9, \"coverage\": 0.6, \"eval_n\": 10000, \"feature_net\": \"fmnist\", \"eval_seconds\": 2.0}\n", s, s * 0.01, 100 - s / 2000, 0.05 - s / 4e6
  }
}' > long/metrics.jsonl
check "gan report of 10^5 lines" "$GAN" report long >/dev/null
t0=$(date +%s%N)
check "chromium opens it with no console message" open_page long/report.html long.html
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "chromium loaded and drew the 10^5-line report ($(stat -c %s long/report.html) bytes) in $ms ms (process start included)"
check "loaded and drawn in under 20 s ($ms ms, a 2-core machine)" test "$ms" -lt 20000
check "every chart is drawn" drawn long.html losses d ips fid kid prdc
check "used in chromium" used long/report.html

# The screenshot, kept for a look: the tiny run's page.
rm -f "$SHOT"
browser --screenshot="$SHOT" --window-size=1280,2000 "file://$PWD/run/report.html" >/dev/null 2>shot.log
check "a screenshot of 1280x2000 ($SHOT)" same_text "$(python3 -c '
import struct, sys
h = open(sys.argv[1], "rb").read(24)
print(h[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", h[16:24]))' "$SHOT" 2>&1)" "(1280, 2000)"
finish
