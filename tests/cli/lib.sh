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

# tiny_sg2_config FILE: a StyleGAN2 run of a few seconds with every regulariser on (6 steps of
# 4 images, R1 and path length every 2nd step, mixing, EMA); tests adjust it with sed.
tiny_sg2_config() {
  cat > "$1" <<EOF2
seed: 5
model: {type: stylegan2, resolution: 32, channels: 1, z_dim: 16, w_dim: 16, mapping_layers: 2,
        channel_base: 256, channel_max: 16}
data: {path: $FMNIST, limit: 200}
train: {steps: 6, batch_size: 4, threads: 2}
stylegan2: {r1_gamma: 0.5, r1_interval: 2, pl_interval: 2, ema_kimg: 0.1, mixing_prob: 0.9}
checkpoint: {every: 3, keep: 2}
sample: {every: 3, n: 4}
log: {every: 1}
EOF2
}

# Comparisons that fail when the tool producing their input fails or produces nothing, so
# that a missing file, object or attribute never reads as "equal" (or as "different"). Each
# says why on stderr when it fails; use them under check.

# h5_attr FILE ATTR: the root attribute ATTR of FILE as h5dump shows it (type, shape and
# values, without the file name); fails when h5dump fails or shows no value.
h5_attr() {
  local out rc
  out=$(h5dump -a "/$2" "$1" 2>&1); rc=$?
  if [ "$rc" != 0 ]; then
    echo "h5dump -a /$2 $1: exit status $rc: $out" >&2; return 1
  elif ! grep -q '^ *(0): *[^ ]' <<<"$out"; then
    echo "h5dump -a /$2 $1: no value shown: $out" >&2; return 1
  fi
  tail -n +2 <<<"$out"
}
# same_attr FILE_A FILE_B ATTR: both files hold the root attribute ATTR, with equal values.
same_attr() {
  local va vb
  va=$(h5_attr "$1" "$3") || return 1
  vb=$(h5_attr "$2" "$3") || return 1
  [ "$va" = "$vb" ] || { echo "attribute /$3 differs: $1: $va"$'\n'"$2: $vb" >&2; return 1; }
}
# h5_has_datasets FILE OBJ: OBJ is a dataset of FILE or a group holding at least one.
h5_has_datasets() {
  local out
  out=$(h5dump -n "$1" 2>&1) || { echo "h5dump -n $1: $out" >&2; return 1; }
  awk -v o="$2" '$1 == "dataset" && ($2 == o || index($2, o "/") == 1) { found = 1 } END { exit !found }' \
    <<<"$out" || { echo "$1: no dataset at or under $2" >&2; return 1; }
}
# h5_compare FILE_A FILE_B OBJ: h5diff's verdict on OBJ in the two files: 0 equal, 1 different;
# 2 (after saying why) when h5diff fails (a missing file or object) or OBJ holds no dataset.
h5_compare() {
  local out rc
  h5_has_datasets "$1" "$3" && h5_has_datasets "$2" "$3" || return 2
  out=$(h5diff -q "$1" "$2" "$3" "$3" 2>&1); rc=$?
  case $rc in
    0 | 1) return $rc ;;
    *) echo "h5diff -q $1 $2 $3 $3: exit status $rc: $out" >&2; return 2 ;;
  esac
}
# same_datasets FILE_A FILE_B OBJ...: each OBJ (a dataset or a group) is identical in the two files.
same_datasets() {
  local a=$1 b=$2 obj rc; shift 2
  for obj in "$@"; do
    h5_compare "$a" "$b" "$obj"; rc=$?
    [ "$rc" = 1 ] && echo "$obj differs between $a and $b" >&2
    [ "$rc" = 0 ] || return 1
  done
}
# different_datasets FILE_A FILE_B OBJ: OBJ is in both files, and differs.
different_datasets() {
  local rc
  h5_compare "$1" "$2" "$3"; rc=$?
  [ "$rc" = 0 ] && echo "$3 is identical in $1 and $2" >&2
  [ "$rc" = 1 ]
}
# same_files A B / different_files A B: two non-empty files are (are not) byte-identical.
nonempty_files() {
  local f
  for f in "$@"; do [ -s "$f" ] || { echo "$f: missing or empty" >&2; return 1; }; done
}
same_files() { nonempty_files "$1" "$2" && cmp -- "$1" "$2" >&2; }
different_files() {
  local rc
  nonempty_files "$1" "$2" || return 1
  cmp -s -- "$1" "$2"; rc=$?
  [ "$rc" = 0 ] && echo "$1 and $2 are identical" >&2
  [ "$rc" = 2 ] && echo "cmp $1 $2 failed" >&2
  [ "$rc" = 1 ]
}
# same_text A B: two strings, not empty, are equal (A is what was got, B what was expected).
same_text() {
  [ -n "$1" ] || { echo "nothing to compare (empty output)" >&2; return 1; }
  [ "$1" = "$2" ] || { echo "got:"$'\n'"$1"$'\n'"expected:"$'\n'"$2" >&2; return 1; }
}
# unchanged SUMS FILE...: the files can all be read and still have the md5sum output SUMS,
# which is not empty.
unchanged() {
  local want=$1 now; shift
  [ -n "$want" ] || { echo "no checksums to compare with" >&2; return 1; }
  now=$(md5sum -- "$@") || { echo "md5sum failed" >&2; return 1; }
  same_text "$now" "$want"
}
