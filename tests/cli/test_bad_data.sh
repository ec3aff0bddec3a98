#!/usr/bin/env bash
# Damaged and hostile data files: every reader bounds what a header claims by what the file
# holds before allocating, and says so in one line naming the file, the claim and the content
# (exit 1); a corrupt gzip stream is called corrupt and a cut one truncated; an unreadable image
# is "permission denied"; a batch larger than the dataset is refused naming both (exit 2).
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"

# fails CODE PATTERN command...: exits CODE with exactly one line of output matching PATTERN
# (a crash would print an "internal error" or abort with 134).
fails() {
  local code=$1 pattern=$2 out rc; shift 2
  out=$("$@" 2>&1); rc=$?
  checks=$((checks + 1))
  if [ "$rc" != "$code" ]; then
    fail "exit status $rc, expected $code: $*"$'\n'"$out"
  elif [ "$(wc -l <<<"$out")" != 1 ] || ! grep -Eq -- "$pattern" <<<"$out"; then
    fail "expected one line matching /$pattern/: $*"$'\n'"$out"
  fi
}
# data_config FILE PATH [yaml lines...]: the tiny config reading PATH (no limit).
data_config() {
  local f=$1 path=$2; shift 2
  tiny_config "$f" "$@"
  sed -i "s|path: [^,]*, limit: 200|path: $path|" "$f"
}
# train_and_bench PATTERN CONFIG: both commands that read data.path fail with PATTERN.
train_and_bench() {
  fails 1 "$1" "$GAN" train "$2" --run-dir run_$2
  check "no checkpoint from $2" test ! -e run_$2/checkpoints/latest.h5
  fails 1 "$1" "$GAN" bench "$2" --real --steps 1 --warmup 0
}

python3 - "$FMNIST" <<'EOF'
import gzip, struct, sys, zlib
body = gzip.open(sys.argv[1]).read()[16:16 + 100 * 784]    # 100 real images
def idx(n, h, w, data): return struct.pack('>IIII', 0x803, n, h, w) + data
huge = idx(2147483647, 28, 28, body)
open('huge.idx', 'wb').write(huge)
open('huge.idx.gz', 'wb').write(gzip.compress(huge))
# Far beyond 64 bits of bytes if multiplied carelessly: 2^32-1 images of 65536 x 65536.
open('vast.idx', 'wb').write(idx(0xffffffff, 65536, 65536, body))
# gzip streams with a deflate block of the reserved type 3 (zlib's "invalid block type"): after
# 50000 bytes, and at the start, before the IDX magic.
good = idx(100, 28, 28, body)
def corrupt(at):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    z = bytearray(c.compress(good[:at]) + c.flush(zlib.Z_FULL_FLUSH))
    block = len(z) if at else 10
    z += c.compress(good[at:]) + c.flush()
    z[block] |= 0x06
    return z
open('corrupt.idx.gz', 'wb').write(corrupt(50000))
open('corrupthead.idx.gz', 'wb').write(corrupt(0))
full = gzip.compress(good)
open('cut.idx.gz', 'wb').write(full[:len(full) // 2])
# A PNG whose header claims 100000 x 100000 gray pixels over a few bytes of data.
def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 100000, 100000, 8, 0, 0, 0, 0))
png += chunk(b'IDAT', zlib.compress(b'\0' * 64)) + chunk(b'IEND', b'')
import os
os.makedirs('hugepng', exist_ok=True)
open('hugepng/a.png', 'wb').write(png)
# A .npy whose shape claims 10^12 float32 over 24 bytes of data, and one past 64 bits.
def npy(shape):
    h = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape
    h += ' ' * (63 - (10 + len(h)) % 64) + '\n'
    return b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode() + b'\0' * 24
open('huge.npy', 'wb').write(npy('(1000000000000, 8)'))
open('vast.npy', 'wb').write(npy('(4294967296, 4294967296, 8)'))
EOF

# Row 1: IDX headers claiming 2^31-1 images over a 100-image body, plain and gzipped.
data_config huge.yaml "$SCRATCH/huge.idx"
train_and_bench "huge.idx: truncated: expected 2147483647 images of 28x28 .*IDX header claims; got 100 images" huge.yaml
data_config hugegz.yaml "$SCRATCH/huge.idx.gz"
train_and_bench "huge.idx.gz: truncated: expected 2147483647 images of 28x28 .*IDX header claims; got 100 images" hugegz.yaml
data_config vast.yaml "$SCRATCH/vast.idx"
train_and_bench "vast.idx: truncated: expected 4294967295 images of 65536x65536 .*; got 0 images \(78400 bytes\), all the file holds" vast.yaml
# A limit within what the file holds reads fine.
data_config limited.yaml "$SCRATCH/huge.idx, limit: 50"
check "a limit within the file trains" "$GAN" train limited.yaml --run-dir limited >/dev/null

# Row 19: a corrupt gzip stream is corrupt, a cut one truncated.
data_config corrupt.yaml "$SCRATCH/corrupt.idx.gz"
train_and_bench "corrupt.idx.gz: not valid gzip data \(zlib: invalid block type\) in the data after the IDX header \(which claims 100 images of 28x28" corrupt.yaml
data_config corrupthead.yaml "$SCRATCH/corrupthead.idx.gz"
train_and_bench "corrupthead.idx.gz: not valid gzip data \(zlib: invalid block type\) in the IDX header" corrupthead.yaml
data_config cut.yaml "$SCRATCH/cut.idx.gz"
train_and_bench "cut.idx.gz: truncated: expected 100 images of 28x28 \(78400 bytes\), as its IDX header claims; got [0-9]+ images" cut.yaml

# CIFAR-10 batches have no header: their size is the file's. A sparse file of 10^9 records
# cannot be held in memory; the pixels' size is compared with the memory left before anything
# is allocated (with overcommit an allocation would be granted and the OOM killer come later).
if truncate -s $((3073 * 1000000000)) sparse.bin 2>/dev/null; then
  data_config sparse.yaml "$SCRATCH/sparse.bin"
  sed -i 's/channels: 1/channels: 3/' sparse.yaml
  train_and_bench "sparse.bin: 1000000000 images of 3x32x32 need 2.79 TiB of memory, but [0-9.]+ [KMGT]iB is left under .*; use fewer images \(data.limit\)$" sparse.yaml
  rm -f sparse.bin
else
  echo "sparse CIFAR file: skipped (no sparse files here)"
fi

# An IDX file (sparse) whose 400000 images fit on the machine but not under ulimit -v: refused
# naming both figures; one whose images fit but leave no room for the threads' buffers (which
# OpenBLAS would retry to allocate forever: the run hung) is refused before its first step.
python3 -c "
import struct
with open('big.idx', 'wb') as f:
    f.write(struct.pack('>IIII', 0x803, 400000, 28, 28)); f.truncate(16 + 400000 * 784)"
data_config big.yaml "$SCRATCH/big.idx"
# The limits are set above what gan holds with its libraries loaded (far more with CUDA's), read
# from a gan waiting to open its --z FIFO.
tiny_config base.yaml
"$GAN" train base.yaml --run-dir baserun >/dev/null 2>&1 || fail "the tiny run does not train"
mkfifo z.fifo
"$GAN" sample baserun --z z.fifo --out zz.png >/dev/null 2>&1 &
pid=$!
for _ in $(seq 400); do grep -q fifo "/proc/$pid/wchan" 2>/dev/null && break; sleep 0.05; done
base_kb=$(awk '/^VmSize/ {print $2}' "/proc/$pid/status" 2>/dev/null)
kill $pid 2>/dev/null; wait $pid 2>/dev/null
check "read what gan holds when started ($base_kb kB)" test -n "$base_kb"
base_kb=${base_kb:-0}
out=$( (ulimit -v $((base_kb + 150 * 1024)); timeout 60 "$GAN" train big.yaml --run-dir bigrun) 2>&1); rc=$?
check "data past ulimit -v: exit 1 (got $rc)" test "$rc" = 1
check "names the need and the room: $out" grep -Eq "big.idx: 400000 images of 1x28x28 need 299.1 MiB of memory, but [0-9.]+ [KM]iB is left under the address-space limit \(ulimit -v\); use fewer images \(data.limit\)$" <<<"$out"
out=$( (ulimit -v $((base_kb + (299 + 256) * 1024)); timeout 60 "$GAN" train big.yaml train.threads=2 --run-dir bigrun) 2>&1); rc=$?
check "threads past ulimit -v: exit 1, not a hang (got $rc)" test "$rc" = 1
check "says what the threads need: $out" grep -Eq "not enough memory for a training step: its 2 threads reserve about 512.0 MiB of address space .* but [0-9.]+ MiB is left under the address-space limit \(ulimit -v\) with the data loaded" <<<"$out"
check "no run directory" test ! -e bigrun
rm -f big.idx

# Images: a header claiming 100000 x 100000 pixels is refused by stb_image's size cap, with its
# reason; an unreadable image is "permission denied".
data_config hugepng.yaml "$SCRATCH/hugepng"
train_and_bench "hugepng/a.png: not a decodable image \(stb_image: too large\).*16384 pixels" hugepng.yaml
fails 1 "hugepng/a.png: .*too large.*16384 pixels" "$GAN" eval --samples hugepng --ref "$FMNIST"
mkdir locked && echo "never read" > locked/a.png && chmod 000 locked/a.png
data_config locked.yaml "$SCRATCH/locked"
if [ "$(id -u)" = 0 ]; then
  # root reads any file: run as nobody, in directories nobody can enter.
  chmod 755 "$SCRATCH" && chmod 644 locked.yaml
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
  "${as_user[@]}" true 2>/dev/null || as_user=()
else
  as_user=()
fi
if [ "$(id -u)" != 0 ] || [ ${#as_user[@]} != 0 ]; then
  fails 1 "locked/a.png: cannot open: Permission denied" "${as_user[@]}" "$GAN" bench locked.yaml --real --steps 1 --warmup 0
else
  echo "permission denied: skipped (running as root without setpriv)"
fi

# .npy shapes are checked against the file's size before anything is allocated.
fails 1 "huge.npy: truncated data: shape \(1000000000000, 8\) of <f4 needs 32000000000000 bytes, got 24" \
  "$GAN" sample limited --z huge.npy --out s.png
fails 1 "vast.npy: shape \(4294967296, 4294967296, 8\) of <f4 is too large to address; the file holds 24 bytes" \
  "$GAN" sample limited --z vast.npy --out s.png

# Row 24: a batch larger than the dataset is refused, naming both.
tiny_config small.yaml
fails 2 "train.batch_size 64 is larger than the dataset: .*train-images-idx3-ubyte.gz has 10 images" \
  "$GAN" train small.yaml train.batch_size=64 data.limit=10 --run-dir small
check "no run directory left by the refused batch" test ! -e small/checkpoints/latest.h5
fails 2 "train.batch_size 64 is larger than the dataset" \
  "$GAN" bench small.yaml train.batch_size=64 data.limit=10 --real --steps 1 --warmup 0
check "a batch the size of the dataset trains" "$GAN" train small.yaml train.batch_size=10 data.limit=10 --run-dir even >/dev/null
finish
