#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses into tests/fuzz/corpus/<harness>/.

    tests/fuzz/make_seeds.py [--gan build/src/gan/gan]

Small valid files of every kind the readers take, plus a few near misses, so that the fuzzer
starts inside each format instead of having to find its magic numbers. Pure Python except:
JPEGs come from cjpeg (libjpeg-turbo-progs), the checkpoints from a one-step `gan train` of a
tiny DCGAN and StyleGAN2, and the small hand-made HDF5 files from a C program built here against
libhdf5 (cc, pkg-config hdf5). Output is deterministic. Crash inputs that fuzzing found are
kept beside these (crash-*) and are not made here: do not delete them when regenerating.
"""
import argparse
import gzip
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def put(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pixels(rng, n):
    return bytes(rng.randrange(256) for _ in range(n))


# --- configs ------------------------------------------------------------------------------

TINY = """seed: 3
model: {type: dcgan, resolution: 32, nz: 8, ngf: 4, ndf: 4, channels: 1}
data: {path: /data/train-images-idx3-ubyte.gz, limit: 200}
train: {steps: 6, batch_size: 8, threads: 1}
checkpoint: {every: 3, keep: 2}
sample: {every: 3, n: 4}
log: {every: 1}
"""

BLOCK = """# every section in block style, with anchors, aliases and quoting
name: "run-\\u00e9"
seed: 12345
device: cpu
model:
  type: stylegan2
  resolution: 32
  channels: 1
  z_dim: &width 64
  w_dim: *width
  mapping_layers: 2
  mapping_lr_mul: 0.01
  channel_base: 2048
  channel_max: 64
  mbstd_group_size: 4
data:
  path: 'images/'
  format: folder
  limit: ~
train:
  steps: 1000
  batch_size: 16
  threads: 0
stylegan2:
  lr_g: 2.5e-3
  lr_d: .0025
  beta1: 0
  beta2: 0.99
  r1_gamma: 0.1
  r1_interval: 16
  pl_weight: 2
  pl_interval: 4
  pl_batch_shrink: 2
  pl_decay: 0.01
  mixing_prob: 0.9
  ema_kimg: 10.0
  ema_rampup: 0.05
checkpoint:
  every: 500
  keep: 3
sample:
  every: 100
  n: 16
  nrow: 4
log:
  every: 50
eval:
  every: 0
  n: 10000
  features: inception
  ref: data
  ref_n: 0
  seed: 7
"""


def configs():
    for d in ("experiments", "tests/configs"):
        for name in sorted(os.listdir(os.path.join(ROOT, d))):
            with open(os.path.join(ROOT, d, name), "rb") as f:
                put("config", name, f.read())
    put("config", "tiny.yaml", TINY.encode())
    put("config", "block.yaml", BLOCK.encode())
    put("config", "tagged.yaml", TINY.replace("steps: 6", "steps: !!int 6").encode())
    put("config", "merge.yaml", (TINY + "base: &b {every: 3}\ncheckpoint2:\n  <<: *b\n").encode())
    put("config", "two_docs.yaml", (TINY + "---\nseed: 4\n").encode())
    put("config", "literal.yaml", TINY.replace("path: /data/train-images-idx3-ubyte.gz",
                                               'path: "a\\tb"').encode() + b"name: |\n  multi\n  line\n")


def overrides():
    put("override", "steps", b"train.steps=100")
    put("override", "several", b"train.steps=100\nseed=7\nmodel.ngf=8\ntrain.lr_g=2e-4\ndata.format=idx\nname=x")
    put("override", "stylegan2", b"model.type=stylegan2\nmodel.z_dim=8\nstylegan2.r1_gamma=0\ntrain.batch_size=4")
    put("override", "bad", b"trian.steps=1\nseed\n=3\nmodel=dcgan\nseed=99999999999999999999\ndata.path=\"a\"")
    put("override", "utf8", "name=caf\u00e9\ndata.path=/d/\u00e9\u00e9\u00e9/x\ntrain.threads=0".encode())
    put("override", "blank", b"  seed =  12  \ntrain.loss=logits\nlog.every=~\n")


# --- IDX and CIFAR -------------------------------------------------------------------------

def idx_images(rng, n, h, w):
    return struct.pack(">IIII", 0x803, n, h, w) + pixels(rng, n * h * w)


def idx(rng):
    fm = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
    if os.path.exists(fm):
        with gzip.open(fm) as f:
            head = f.read(16 + 3 * 784)
        three = struct.pack(">IIII", 0x803, 3, 28, 28) + head[16:]
    else:
        three = idx_images(rng, 3, 28, 28)
    small = idx_images(rng, 2, 3, 2)
    labels = struct.pack(">II", 0x801, 3) + bytes([0, 9, 4])
    for name, data in (("fmnist3.idx", three), ("small.idx", small), ("labels.idx", labels),
                       ("float.idx", struct.pack(">IIII", 0xD03, 1, 2, 2) + bytes(16)),
                       ("claims_more.idx", struct.pack(">IIII", 0x803, 1000, 28, 28) + pixels(rng, 100))):
        put("idx", name, data)
    # mtime=0: the same bytes on every run.
    put("idx", "fmnist3.idx.gz", gzip.compress(three, mtime=0))
    put("idx", "small.idx.gz", gzip.compress(small, mtime=0))
    put("idx", "labels.idx.gz", gzip.compress(labels, mtime=0))


def cifar(rng):
    put("cifar", "one.bin", bytes([3]) + pixels(rng, 3072))
    put("cifar", "two.bin", bytes([0]) + pixels(rng, 3072) + bytes([9]) + pixels(rng, 3072))
    put("cifar", "short.bin", bytes([1]) + pixels(rng, 100))


# --- images -------------------------------------------------------------------------------

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(w, h, color, depth, rows, palette=None, trns=None, interlace=0):
    """rows: the raw scanlines (without filter bytes) of the image, or of each Adam7 pass."""
    raw = b"".join(bytes([i % 5]) + unfilter_ready(r, i % 5, color, depth) for i, r in enumerate(rows))
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, interlace))
    if palette:
        out += png_chunk(b"PLTE", palette)
    if trns:
        out += png_chunk(b"tRNS", trns)
    return out + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")


def unfilter_ready(row, ftype, color, depth):
    """Applies PNG filter `ftype` to one row, with the previous row taken as zeros (the decoder
    then sees every filter type; the picture is whatever the bytes make)."""
    bpp = max(1, {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color] * depth // 8)
    out = bytearray(row)
    for i in range(len(row) - 1, -1, -1):
        left = row[i - bpp] if i >= bpp else 0
        if ftype == 1:
            out[i] = (row[i] - left) & 0xFF
        elif ftype == 3:
            out[i] = (row[i] - left // 2) & 0xFF
        elif ftype == 4:
            out[i] = (row[i] - left) & 0xFF  # Paeth with a zero row above picks the left byte
    return bytes(out)


def adam7_rows(rng, w, h, channels):
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    rows = []
    for x0, y0, dx, dy in passes:
        pw = len(range(x0, w, dx))
        for _ in range(y0, h, dy):
            if pw:
                rows.append(pixels(rng, pw * channels))
    return rows


def bmp(w, h, bpp, data_rows, palette=b"", compression=0, header=40, masks=b"", top_down=False):
    stride = (w * bpp + 31) // 32 * 4
    body = b"".join(r.ljust(stride, b"\0") for r in data_rows)
    info = struct.pack("<IiiHHIIiiII", header, w, -h if top_down else h, 1, bpp, compression, len(body),
                       2835, 2835, len(palette) // 4, 0)
    info += masks
    info = info.ljust(header, b"\0")
    off = 14 + len(info) + len(palette)
    return b"BM" + struct.pack("<IHHI", off + len(body), 0, 0, off) + info + palette + body


def images(rng, work):
    put("image", "gray.png", png(8, 6, 0, 8, [pixels(rng, 8) for _ in range(6)]))
    put("image", "gray_alpha.png", png(5, 5, 4, 8, [pixels(rng, 10) for _ in range(5)]))
    put("image", "rgb.png", png(7, 4, 2, 8, [pixels(rng, 21) for _ in range(4)]))
    put("image", "rgba.png", png(4, 7, 6, 8, [pixels(rng, 16) for _ in range(7)]))
    put("image", "rgb16.png", png(3, 3, 2, 16, [pixels(rng, 18) for _ in range(3)]))
    put("image", "gray1.png", png(9, 3, 0, 1, [pixels(rng, 2) for _ in range(3)]))
    pal = pixels(rng, 4 * 3)
    put("image", "palette.png", png(6, 4, 3, 2, [bytes(rng.randrange(256) & 0xFF for _ in range(2)) for _ in range(4)],
                                     palette=pal, trns=b"\x00\x80"))
    put("image", "interlaced.png", png(9, 9, 2, 8, adam7_rows(rng, 9, 9, 3), interlace=1))
    put("image", "too_wide.png", png(16385, 1, 0, 8, [bytes(16385)]))

    put("image", "rgb24.bmp", bmp(5, 3, 24, [pixels(rng, 15) for _ in range(3)]))
    put("image", "top_down.bmp", bmp(3, 2, 24, [pixels(rng, 9) for _ in range(2)], top_down=True))
    put("image", "pal8.bmp", bmp(4, 4, 8, [pixels(rng, 4) for _ in range(4)], palette=pixels(rng, 16 * 4)))
    put("image", "pal4.bmp", bmp(5, 2, 4, [pixels(rng, 3) for _ in range(2)], palette=pixels(rng, 16 * 4)))
    put("image", "pal1.bmp", bmp(9, 2, 1, [pixels(rng, 2) for _ in range(2)], palette=b"\0\0\0\0\xff\xff\xff\0"))
    masks565 = struct.pack("<III", 0xF800, 0x07E0, 0x001F)
    put("image", "rgb565.bmp", bmp_bitfields(rng, 3, 3, 16, masks565))
    put("image", "rgba32_v5.bmp", bmp(3, 2, 32, [pixels(rng, 12) for _ in range(2)], compression=3, header=124,
                                      masks=struct.pack("<IIII", 0xFF0000, 0xFF00, 0xFF, 0xFF000000)))
    put("image", "rle8.bmp", bmp(4, 1, 8, [b"\x04\x01\x00\x01"], palette=pixels(rng, 4 * 4), compression=1))

    cjpeg = shutil.which("cjpeg")
    if not cjpeg:
        sys.exit("make_seeds: cjpeg not found (apt-get install libjpeg-turbo-progs)")
    ppm = os.path.join(work, "in.ppm")
    pgm = os.path.join(work, "in.pgm")
    with open(ppm, "wb") as f:
        f.write(b"P6 19 13 255\n" + pixels(rng, 19 * 13 * 3))
    with open(pgm, "wb") as f:
        f.write(b"P5 11 9 255\n" + pixels(rng, 11 * 9))
    for name, src, args in (("baseline420.jpg", ppm, ["-quality", "60"]),
                            ("baseline444.jpg", ppm, ["-quality", "90", "-sample", "1x1"]),
                            ("gray.jpg", pgm, ["-quality", "75"]),
                            ("progressive.jpg", ppm, ["-progressive", "-quality", "70"]),
                            ("gray_progressive.jpg", pgm, ["-progressive"]),
                            ("restart.jpg", ppm, ["-restart", "1", "-sample", "2x1"]),
                            ("optimized.jpg", ppm, ["-optimize", "-sample", "1x2"]),
                            ("arithmetic.jpg", ppm, ["-arithmetic"])):
        put("image", name, subprocess.run([cjpeg] + args + [src], check=True, capture_output=True).stdout)


def bmp_bitfields(rng, w, h, bpp, masks):
    """A BITMAPINFOHEADER (40 bytes) with BI_BITFIELDS: the three masks follow the header."""
    stride = (w * bpp + 31) // 32 * 4
    body = b"".join(pixels(rng, w * bpp // 8).ljust(stride, b"\0") for _ in range(h))
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, bpp, 3, len(body), 2835, 2835, 0, 0)
    off = 14 + 40 + len(masks)
    return b"BM" + struct.pack("<IHHI", off + len(body), 0, 0, off) + info + masks + body


# --- .npy and .npz --------------------------------------------------------------------------

def npy(descr, shape, data, version=1, fortran=False):
    shp = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    hdr = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, "True" if fortran else "False", shp)
    pre = 10 if version == 1 else 12
    hdr += " " * ((64 - (pre + len(hdr) + 1) % 64) % 64) + "\n"
    length = struct.pack("<H", len(hdr)) if version == 1 else struct.pack("<I", len(hdr))
    return b"\x93NUMPY" + bytes([version, 0]) + length + hdr.encode() + data


def f32(values):
    return struct.pack("<%df" % len(values), *values)


def f64(values):
    return struct.pack("<%dd" % len(values), *values)


def npys(rng):
    vals = [rng.uniform(-2, 2) for _ in range(6)]
    put("npy", "f4_2x3.npy", npy("<f4", (2, 3), f32(vals)))
    put("npy", "f4_v2.npy", npy("<f4", (3,), f32(vals[:3]), version=2))
    put("npy", "f4_scalar.npy", npy("<f4", (), f32(vals[:1])))
    put("npy", "f4_empty.npy", npy("<f4", (0, 4), b""))
    put("npy", "f8_2x2.npy", npy("<f8", (2, 2), f64(vals[:4])))
    put("npy", "fortran.npy", npy("<f4", (2, 1), f32(vals[:2]), fortran=True))
    put("npy", "big_endian.npy", npy(">f4", (1,), struct.pack(">f", 1.0)))
    put("npy", "truncated.npy", npy("<f4", (1000000000000, 8), f32(vals)))

    mu, sigma = npy("<f8", (3,), f64(vals[:3])), npy("<f8", (3, 3), f64([rng.random() for _ in range(9)]))
    for name, method in (("stats_deflated.npz", zipfile.ZIP_DEFLATED), ("stats_stored.npz", zipfile.ZIP_STORED)):
        buf = os.path.join(tempfile.gettempdir(), "gan-seed.npz")
        with zipfile.ZipFile(buf, "w", method) as z:
            for member, data in (("mu.npy", mu), ("sigma.npy", sigma)):
                info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = method
                z.writestr(info, data)
        with open(buf, "rb") as f:
            put("npz", name, f.read())
        os.unlink(buf)


# --- checkpoints ----------------------------------------------------------------------------

# Small HDF5 files the trainer never writes: the attributes of a checkpoint without its
# networks (a short file the fuzzer can change throughout), and the links and storage a loader
# must refuse because they read other files.
H5_SEEDS_C = r"""
#include <hdf5.h>
#include <string.h>
static void attr_i64(hid_t o, const char *n, long long v) {
    hid_t s = H5Screate(H5S_SCALAR), a = H5Acreate2(o, n, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_LLONG, &v); H5Aclose(a); H5Sclose(s);
}
static void attr_f64(hid_t o, const char *n, double v) {
    hid_t s = H5Screate(H5S_SCALAR), a = H5Acreate2(o, n, H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &v); H5Aclose(a); H5Sclose(s);
}
static void attr_str(hid_t o, const char *n, const char *v) {
    hid_t t = H5Tcopy(H5T_C_S1); H5Tset_size(t, H5T_VARIABLE); H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t s = H5Screate(H5S_SCALAR), a = H5Acreate2(o, n, t, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, &v); H5Aclose(a); H5Sclose(s); H5Tclose(t);
}
static hid_t start(const char *path, const char *config) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    attr_i64(f, "format_version", 1); attr_str(f, "model", "dcgan"); attr_str(f, "config", config);
    attr_i64(f, "step", 1); attr_i64(f, "data_epoch", 0); attr_i64(f, "data_position", 2);
    attr_i64(f, "data_count", 8); attr_i64(f, "threads", 1); attr_i64(f, "best_step", 0);
    attr_i64(f, "image_height", 28); attr_i64(f, "image_width", 28);
    attr_f64(f, "elapsed_seconds", 0.5); attr_f64(f, "best_fid", 0.0 / 0.0);
    unsigned long long rng[2] = {3, 40};
    hsize_t two = 2;
    hid_t s = H5Screate_simple(1, &two, NULL), a = H5Acreate2(f, "rng", H5T_STD_U64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_ULLONG, rng); H5Aclose(a); H5Sclose(s);
    return f;
}
int main(int argc, char **argv) {
    (void)argc;
    const char *config = argv[4];
    H5Fclose(start(argv[1], config));
    hid_t f = start(argv[2], config);
    H5Lcreate_external("other.h5", "/G", f, "G", H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
    f = start(argv[3], config);
    hsize_t dims[2] = {2, 4};
    hid_t s = H5Screate_simple(2, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_external(dcpl, "/etc/hostname", 0, 32);
    hid_t d = H5Dcreate2(f, "fixed_noise", H5T_IEEE_F32LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Dclose(d); H5Pclose(dcpl); H5Sclose(s); H5Fclose(f);
    return 0;
}
"""

CKPT_CONFIGS = {
    "dcgan": """seed: 3
model: {type: dcgan, resolution: 32, nz: 4, ngf: 1, ndf: 1, channels: 1}
data: {path: DATA, limit: 8}
train: {steps: 1, batch_size: 2, threads: 1}
checkpoint: {every: 1, keep: 1}
sample: {every: 1, n: 2}
""",
    "stylegan2": """seed: 3
model: {type: stylegan2, resolution: 8, channels: 1, z_dim: 2, w_dim: 2, mapping_layers: 1,
        channel_base: 8, channel_max: 1, mbstd_group_size: 2}
data: {path: DATA, limit: 8}
train: {steps: 1, batch_size: 2, threads: 1}
checkpoint: {every: 1, keep: 1}
sample: {every: 1, n: 2}
""",
}


def checkpoints(rng, work, gan):
    configs = {}
    for family, text in CKPT_CONFIGS.items():
        # 28x28 images for the 32x32 DCGAN, 8x8 ones for the 8x8 StyleGAN2.
        side = 28 if family == "dcgan" else 8
        data = os.path.join(work, "tiny%d.idx" % side)
        with open(data, "wb") as f:
            f.write(idx_images(rng, 8, side, side))
        cfg = os.path.join(work, family + ".yaml")
        with open(cfg, "w") as f:
            f.write(text.replace("DATA", data))
        run = os.path.join(work, "run-" + family)
        subprocess.run([gan, "train", cfg, "--run-dir", run], check=True, capture_output=True)
        with open(os.path.join(run, "checkpoints", "ckpt-00000001.h5"), "rb") as f:
            put("checkpoint", family + ".h5", f.read())
        configs[family] = text.replace("DATA", data)
    # The same DCGAN checkpoint as h5py's defaults would lay it out (the earliest file format,
    # contiguous datasets, no checksums): other parts of libhdf5's reader.
    repack = shutil.which("h5repack")
    if repack:
        src = os.path.join(work, "run-dcgan", "checkpoints", "ckpt-00000001.h5")
        dst = os.path.join(work, "old.h5")
        subprocess.run([repack, "-f", "NONE", "-l", "CONTI", src, dst], check=True, capture_output=True)
        with open(dst, "rb") as f:
            put("checkpoint", "dcgan_contiguous.h5", f.read())
    cflags = subprocess.run(["pkg-config", "--cflags", "--libs", "hdf5"], check=True, capture_output=True,
                            text=True).stdout.split()
    src = os.path.join(work, "h5seeds.c")
    exe = os.path.join(work, "h5seeds")
    with open(src, "w") as f:
        f.write(H5_SEEDS_C)
    subprocess.run(["cc", "-o", exe, src] + cflags, check=True)
    outs = [os.path.join(work, n) for n in ("attrs.h5", "external_link.h5", "external_storage.h5")]
    subprocess.run([exe] + outs + [configs["dcgan"]], check=True)
    for p in outs:
        with open(p, "rb") as f:
            put("checkpoint", os.path.basename(p), f.read())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gan", default=os.path.join(ROOT, "build", "src", "gan", "gan"))
    args = ap.parse_args()
    rng = random.Random(12)
    with tempfile.TemporaryDirectory() as work:
        configs()
        overrides()
        idx(rng)
        cifar(rng)
        images(rng, work)
        npys(rng)
        checkpoints(rng, work, os.path.abspath(args.gan))


if __name__ == "__main__":
    main()
