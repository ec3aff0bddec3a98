# Helpers for the command-line tests: a scratch directory, a tiny config, and checks that
# report file:line and keep going, like tests/test.h.
set -u
GAN=$(realpath "${GAN:?set GAN to the gan executable}")
FMNIST=${FMNIST:-/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz}
SCRATCH=$(mktemp -d /tmp/gan-cli-test.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
checks=0
failures=0

# fail MESSAGE: reported at the test script's line that called check/expect_exit (or fail).
fail() {
  failures=$((failures + 1))
  local depth=$(( ${#BASH_SOURCE[@]} > 2 ? 2 : 1 ))
  echo "FAIL ${BASH_SOURCE[$depth]}:${BASH_LINENO[$((depth - 1))]}: $*" >&2
}
check() {  # check "what" command...
  local what=$1; shift
  checks=$((checks + 1))
  "$@" || fail "$what"
}
# expect_exit CODE PATTERN command... : runs command, checks its exit status and that its
# stderr+stdout matches the extended regex PATTERN.
expect_exit() {
  local code=$1 pattern=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  checks=$((checks + 1))
  if [ "$rc" != "$code" ]; then
    fail "exit status $rc, expected $code: $*"$'\n'"$out"
  elif ! grep -Eq -- "$pattern" <<<"$out"; then
    fail "output does not match /$pattern/: $*"$'\n'"$out"
  fi
}
finish() {
  echo "$checks checks, $failures failed"
  [ "$failures" = 0 ]
}
need_dataset() {
  if [ ! -f "$FMNIST" ]; then echo "Fashion-MNIST not installed ($FMNIST): skipped"; exit 77; fi
}
# A tiny DCGAN config: a few milliseconds per step.
tiny_config() {  # tiny_config FILE [extra yaml lines...]
  local f=$1; shift
  {
    echo "seed: 3"
    echo "model: {type: dcgan, resolution: 32, nz: 8, ngf: 4, ndf: 4, channels: 1}"
    echo "data: {path: $FMNIST, limit: 200}"
    echo "train: {steps: 6, batch_size: 8, threads: 2}"
    echo "checkpoint: {every: 3, keep: 2}"
    echo "sample: {every: 3, n: 4}"
    echo "log: {every: 1}"
    for line in "$@"; do echo "$line"; done
  } > "$f"
}
