#!/usr/bin/env bash
# gan sample on a DCGAN checkpoint: sizes and cropping, determinism, --n only adds images,
# --z and --seed agree, interpolation rows, and the info command.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"
tiny_config exp.yaml
"$GAN" train exp.yaml --run-dir run > /dev/null

# npy_shape FILE: the shape in an .npy header.
# npy_close A B FIRST COUNT: images FIRST..FIRST+COUNT-1 of A equal B's first COUNT images up
# to float rounding (the GEMMs' blocking depends on the batch size, so bits may differ).
npy_close() { python3 -c "
import array, struct, sys
def load(p):
    d = open(p, 'rb').read(); h = struct.unpack('<H', d[8:10])[0]; return array.array('f', d[10 + h:])
a, b, first, count = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
per = 28 * 28
a = a[first * per:(first + count) * per]; b = b[:count * per]
sys.exit(0 if len(a) == len(b) and max(abs(x - y) for x, y in zip(a, b)) < 1e-5 else 1)" "$@"; }
npy_shape() { python3 -c "
import ast, struct, sys; d = open(sys.argv[1], 'rb').read(); h = struct.unpack('<H', d[8:10])[0]
print(ast.literal_eval(d[10:10 + h].decode())['shape'])" "$1"; }

expect_exit 0 "wrote 8 images \(28x28\) to a.npy" "$GAN" sample run --n 8 --seed 3 --out a.npy
check "cropped to the data's 28x28" test "$(npy_shape a.npy)" = "(8, 1, 28, 28)"
expect_exit 0 "wrote 8 images \(32x32\)" "$GAN" sample run --n 8 --seed 3 --no-crop --out full.npy
check "--no-crop keeps 32x32" test "$(npy_shape full.npy)" = "(8, 1, 32, 32)"
"$GAN" sample run --n 8 --seed 3 --out b.npy > /dev/null
check "the same seed gives the same images" same_files a.npy b.npy
"$GAN" sample run --n 4 --seed 3 --out four.npy > /dev/null
check "--n only adds images: the first 4 of 8 are the 4" npy_close a.npy four.npy 0 4
"$GAN" sample run --n 8 --seed 4 --out other.npy > /dev/null
check "another seed, other images" different_files a.npy other.npy

# Latents from a file: two of six give the same images alone as in the batch of six.
python3 - <<'PY'
import struct
def save(path, rows):
    n, k = len(rows), len(rows[0])
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (n, k)
    header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        for r in rows:
            f.write(struct.pack("<%df" % k, *r))
import random
random.seed(1)
rows = [[random.gauss(0, 1) for _ in range(8)] for _ in range(6)]
save("z6.npy", rows)
save("z2.npy", rows[2:4])
PY
expect_exit 0 "wrote 6 images" "$GAN" sample run --z z6.npy --out z6out.npy
expect_exit 0 "wrote 2 images" "$GAN" sample run --z z2.npy --out z2out.npy
check "an image depends only on its own z (eval-mode batchnorm)" npy_close z6out.npy z2out.npy 2 2

expect_exit 0 "wrote 16 images" "$GAN" sample run --interpolate 1,2,3 --steps 8 --out lerp.npy
"$GAN" sample run --n 1 --seed 2 --out s2.npy > /dev/null
check "an interpolation row ends at the next seed's image" npy_close lerp.npy s2.npy 7 1
expect_exit 0 "wrote 64 images" "$GAN" sample run --out grid.png
check "a PNG grid" test "$(head -c 8 grid.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a

expect_exit 0 "step +6 of 6" "$GAN" info run
expect_exit 0 "parameters +G [0-9]+, D [0-9]+" "$GAN" info run/checkpoints/ckpt-00000006.h5
finish
