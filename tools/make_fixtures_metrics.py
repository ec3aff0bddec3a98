#!/usr/bin/python3
"""numpy/scipy references for the metrics (src/gan/metrics, tests/test_metrics.c):
`python3 tools/make_fixtures_metrics.py` rewrites tests/fixtures/metrics.h5 and prints how the
reference implementations agree with one another.

Runs with Debian's python3-numpy, python3-scipy and python3-h5py. Every case draws from its own
seed (a hash of its name), so a rerun writes the same bytes and adding a case changes no other.

Features are stored as int8 datasets q with the file attribute `scale` (1/32): the features are
q * scale, exactly representable in float32, so the C test and this script see the same numbers,
the file stays small, and every squared distance and inner product of features is exact in
double (PRDC's comparisons, ties included, are then decided identically on both sides).

tests/fixtures/metrics.h5:
  /fid/<case>/a, b          two feature sets (n x d)
      attributes  fid_pytorch   pytorch-fid's calculate_frechet_distance (scipy.linalg.sqrtm of
                                S1 S2, its eps * I retry, real part) on the float64 statistics
                  fid_exact     the same distance from the centred features alone:
                                tr((S1 S2)^(1/2)) = nuclear norm of Xa Xb^T / sqrt((na-1)(nb-1))
                                (Xa, Xb the centred rows), which needs no square root of a
                                singular matrix: exact to round-off also where S1 or S2 is
                                rank-deficient
                  sqrtm_retried 1 when pytorch-fid's first sqrtm was not finite
                  a_mean_sum, a_mean_sq, a_cov_trace, a_cov_fro2, a_cov_sum, a_cov_0_last
                                sum(mu), sum(mu^2), tr(S), sum(S^2), sum(S), S[0, d-1] of a's
                                Gaussian (numpy.cov(rowvar=False), float64), to check the fit
  /kid/<case>/real, fake    feature sets; real_idx, fake_idx (int16, subsets x m): the subsets
      attributes  mean, std     torch-fidelity's kid (polynomial kernel, degree 3, gamma 1/d,
                                coef0 1, unbiased MMD^2; np.mean, np.std with ddof 0) over those
                                subsets, in float64
  /prdc/<case>/real, fake
      attributes  precision, recall   k = 3, a sample inside when its distance is <= some radius
                                      (Kynkaanniemi et al.'s code, StyleGAN2-ADA)
                  density, coverage   k = 5, strict < (Naeem et al.'s prdc package)
                  k_pr, k_dc
"""
import os
import zlib

import h5py
import numpy as np
import scipy
import scipy.linalg

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "metrics.h5")
SCALE = 1.0 / 32


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def quantize(x):
    """Features -> int8 codes q (features = q * SCALE)."""
    q = np.round(np.asarray(x) / SCALE)
    assert np.abs(q).max() <= 127, "features out of the int8 range"
    return q.astype(np.int8)


def feats(q):
    return q.astype(np.float64) * SCALE


def mixing(rng, d):
    return rng.normal(size=(d, d)) / np.sqrt(d)


def gaussian(rng, n, d, mean, std, a=None):
    """n samples of a correlated Gaussian N(mean, std^2 A^T A), A random unless given."""
    a = mixing(rng, d) if a is None else a
    return quantize(rng.normal(size=(n, d)) @ a * std + mean)


# --- files ------------------------------------------------------------------------------------

def open_out():
    """Compact format, no creation times: a rerun writes identical bytes."""
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    f = h5py.File(h5py.h5f.create(OUT.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl))
    f.attrs["generator"] = "tools/make_fixtures_metrics.py, numpy %s, scipy %s" % (
        np.__version__, scipy.__version__)
    f.attrs["scale"] = SCALE
    return f


def new_group(parent, name):
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    return h5py.Group(h5py.h5g.create(parent.id, name.encode(), gcpl=gcpl))


def put(group, name, value):
    value = np.asarray(value)
    packed = dict(shuffle=True, compression="gzip", compression_opts=9) if value.size >= 1024 else {}
    group.create_dataset(name, data=value, track_times=False, **packed)


# --- FID --------------------------------------------------------------------------------------

def stats(q):
    x = feats(q)
    return x.mean(axis=0), np.cov(x, rowvar=False)


def fid_pytorch(mu1, s1, mu2, s2, eps=1e-6):
    """pytorch-fid's calculate_frechet_distance, step by step (our words, its algorithm)."""
    diff = mu1 - mu2
    root, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    retried = not np.isfinite(root).all()
    if retried:
        off = np.eye(s1.shape[0]) * eps
        root = scipy.linalg.sqrtm((s1 + off).dot(s2 + off))
    if np.iscomplexobj(root):
        assert np.allclose(np.diagonal(root).imag, 0, atol=1e-3), "pytorch-fid would refuse this"
        root = root.real
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(root), retried


def fid_exact(qa, qb):
    """The Frechet distance from the centred features: the nonzero eigenvalues of
    S1 S2 = Xa^T Xa Xb^T Xb / ((na-1)(nb-1)) are those of C C^T with C = Xa Xb^T / sqrt(...),
    so tr((S1 S2)^(1/2)) is C's nuclear norm -- an SVD of a well-scaled matrix, no square root
    of a singular one."""
    a, b = feats(qa), feats(qb)
    ma, mb = a.mean(axis=0), b.mean(axis=0)
    xa, xb = a - ma, b - mb
    c = xa @ xb.T / np.sqrt((len(a) - 1) * (len(b) - 1))
    diff = ma - mb
    return (diff.dot(diff) + (xa * xa).sum() / (len(a) - 1) + (xb * xb).sum() / (len(b) - 1)
            - 2 * np.linalg.svd(c, compute_uv=False).sum())


def fid_eigh(mu1, s1, mu2, s2, clip_relative):
    """What src/gan/metrics/fid.c computes, in numpy: sum of sqrt(eig(S1^1/2 S2 S1^1/2)),
    eigenvalues below clip_relative * d * eps * max taken as 0 (clip_relative 0: only negative
    ones), to show what the threshold buys."""
    d = len(mu1)
    tiny = clip_relative * d * np.finfo(np.float64).eps
    w, v = np.linalg.eigh(s1)
    w = np.where(w > tiny * max(w.max(), 0), w, 0)
    h = (v * np.sqrt(w)) @ v.T
    mu = np.linalg.eigvalsh(h @ s2 @ h)
    mu = np.where(mu > tiny * max(mu.max(), 0), mu, 0)
    diff = mu1 - mu2
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(mu).sum()


def fid_cases():
    cases = {}
    for d, n in [(8, 200), (64, 400), (256, 320)]:
        rng = rng_for("gauss%d" % d)
        cases["gauss%d" % d] = (gaussian(rng, n, d, 0.2, 0.6), gaussian(rng, n, d, 0.3, 0.5))
    rng = rng_for("n_lt_d")  # 40 samples in 64 dimensions: both covariances of rank 39
    cases["n_lt_d"] = (gaussian(rng, 40, 64, 0.0, 0.6), gaussian(rng, 40, 64, 0.1, 0.5))
    rng = rng_for("n3_d256")  # rank 2 in 256 dimensions
    cases["n3_d256"] = (gaussian(rng, 3, 256, 0.0, 0.6), gaussian(rng, 3, 256, 0.1, 0.6))
    rng = rng_for("duplicated")  # 20 distinct rows, each 5 times: rank 19 in 32 dimensions
    cases["duplicated"] = (np.repeat(gaussian(rng, 20, 32, 0.0, 0.6), 5, axis=0),
                           gaussian(rng, 100, 32, 0.05, 0.6))
    rng = rng_for("zero_var")  # feature 3 constant in both sets (at different values)
    a, b = gaussian(rng, 200, 32, 0.0, 0.6), gaussian(rng, 200, 32, 0.0, 0.6)
    a[:, 3], b[:, 3] = 8, 16
    cases["zero_var"] = (a, b)
    rng = rng_for("zero_var_one")  # feature 3 constant in the first set only
    a, b = gaussian(rng, 200, 32, 0.0, 0.6), gaussian(rng, 200, 32, 0.0, 0.6)
    a[:, 3] = 8
    cases["zero_var_one"] = (a, b)
    rng = rng_for("offset")  # a large common offset: the covariance must not cancel
    cases["offset"] = (gaussian(rng, 300, 16, 3.0, 0.1), gaussian(rng, 300, 16, 3.02, 0.12))
    return cases


def write_fid(f):
    group = new_group(f, "fid")
    print("FID (relative difference to the exact value):")
    print("  %-13s %18s %9s %9s %9s %s" % ("case", "exact", "sqrtm", "eigh", "eigh+thr", "retried"))
    for name, (qa, qb) in fid_cases().items():
        g = new_group(group, name)
        put(g, "a", qa)
        put(g, "b", qb)
        mu1, s1 = stats(qa)
        mu2, s2 = stats(qb)
        ref, retried = fid_pytorch(mu1, s1, mu2, s2)
        exact = fid_exact(qa, qb)
        g.attrs["fid_pytorch"] = ref
        g.attrs["fid_exact"] = exact
        g.attrs["sqrtm_retried"] = int(retried)
        g.attrs["a_mean_sum"] = mu1.sum()
        g.attrs["a_mean_sq"] = (mu1 * mu1).sum()
        g.attrs["a_cov_trace"] = np.trace(s1)
        g.attrs["a_cov_fro2"] = (s1 * s1).sum()
        g.attrs["a_cov_sum"] = s1.sum()
        g.attrs["a_cov_0_last"] = s1[0, -1]
        rel = lambda v: abs(v - exact) / abs(exact)
        print("  %-13s %18.12f %9.1e %9.1e %9.1e %d" % (
            name, exact, rel(ref), rel(fid_eigh(mu1, s1, mu2, s2, 0)),
            rel(fid_eigh(mu1, s1, mu2, s2, 1)), retried))


# --- KID --------------------------------------------------------------------------------------

def mmd2_unbiased(x, y):
    """torch-fidelity's polynomial_mmd with its defaults (degree 3, gamma 1/d, coef0 1) and its
    unbiased mmd2: off-diagonal means of K_XX and K_YY, minus twice the mean of K_XY."""
    m, d = x.shape
    kernel = lambda u, v: (u @ v.T * (1.0 / d) + 1) ** 3
    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    off = lambda k: k.sum(axis=1) - np.diagonal(k)
    return (off(kxx).sum() + off(kyy).sum()) / (m * (m - 1)) - 2 * kxy.sum(axis=0).sum() / (m * m)


def kid(real, fake, real_idx, fake_idx):
    mmds = np.array([mmd2_unbiased(real[ri], fake[fi]) for ri, fi in zip(real_idx, fake_idx)])
    return mmds.mean(), mmds.std()


def write_kid(f):
    group = new_group(f, "kid")
    print("KID (mean, std over the subsets; float32 features as torch-fidelity feeds them, "
          "differences relative to the std):")
    specs = {"shifted": (64, 300, 250, 10, 100, 0.1),   # d, nr, nf, subsets, m, mean shift
             "same": (32, 200, 180, 8, 50, 0.0),   # one distribution: KID near 0
             "d4": (4, 60, 40, 5, 20, 0.3)}
    for name, (d, nr, nf, subsets, m, shift) in specs.items():
        rng = rng_for("kid_" + name)
        a = mixing(rng, d)
        qr, qf = gaussian(rng, nr, d, 0.3, 0.6, a), gaussian(rng, nf, d, 0.3 + shift, 0.6, a)
        # Without replacement within a subset, as torch-fidelity's rng.choice(n, m, replace=False).
        ri = np.stack([rng.choice(nr, m, replace=False) for _ in range(subsets)])
        fi = np.stack([rng.choice(nf, m, replace=False) for _ in range(subsets)])
        mean, std = kid(feats(qr), feats(qf), ri, fi)
        m32, s32 = kid(feats(qr).astype(np.float32), feats(qf).astype(np.float32), ri, fi)
        g = new_group(group, name)
        put(g, "real", qr)
        put(g, "fake", qf)
        put(g, "real_idx", ri.astype(np.int16))
        put(g, "fake_idx", fi.astype(np.int16))
        g.attrs["mean"] = mean
        g.attrs["std"] = std
        print("  %-8s mean %+.10e  std %.10e   float32: %.1e %.1e (of the std)" % (
            name, mean, std, abs(m32 - mean) / std, abs(s32 - std) / std))


# --- precision, recall, density, coverage ------------------------------------------------------

def sq_dist(qa, qb):
    """Exact squared distances in code units (integers; features are q * SCALE)."""
    a, b = qa.astype(np.int64), qb.astype(np.int64)
    return (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T


def kth_within(qa, k):
    """Each member's squared distance to its k-th nearest other member: the (k+1)-th smallest of
    its row, its own distance 0 being the smallest (as prdc's compute_nearest_neighbour_distances)."""
    return np.partition(sq_dist(qa, qa), k, axis=1)[:, k]


def prdc(qr, qf, k_pr=3, k_dc=5, strict_pr=False):
    cross = sq_dist(qr, qf)
    rr_pr, rr_dc, rf_pr = kth_within(qr, k_pr), kth_within(qr, k_dc), kth_within(qf, k_pr)
    inside = (lambda e, r: e < r) if strict_pr else (lambda e, r: e <= r)
    return dict(precision=inside(cross, rr_pr[:, None]).any(axis=0).mean(),
                recall=inside(cross, rf_pr[None, :]).any(axis=1).mean(),
                density=(cross < rr_dc[:, None]).sum(axis=0).mean() / k_dc,
                coverage=(cross.min(axis=1) < rr_dc).mean())


def prdc_cases():
    cases = {}
    rng = rng_for("prdc_gauss16")
    cases["gauss16"] = (gaussian(rng, 300, 16, 0.0, 0.6), gaussian(rng, 250, 16, 0.15, 0.8))
    rng = rng_for("prdc_gauss64")
    cases["gauss64"] = (gaussian(rng, 200, 64, 0.0, 0.6), gaussian(rng, 220, 64, 0.05, 0.45))
    rng = rng_for("prdc_identical")
    q = gaussian(rng, 150, 16, 0.0, 0.6)
    cases["identical"] = (q, q.copy())
    rng = rng_for("prdc_disjoint")  # 2.5 units apart per feature, spread 0.25
    cases["disjoint"] = (gaussian(rng, 120, 16, -1.25, 0.25), gaussian(rng, 100, 16, 1.25, 0.25))
    rng = rng_for("prdc_ties")  # a coarse grid: many distances tie with a radius
    cases["ties"] = (rng.integers(-2, 3, size=(200, 3)).astype(np.int8),
                     rng.integers(-2, 3, size=(150, 3)).astype(np.int8) + np.int8(1))
    return cases


def write_prdc(f):
    group = new_group(f, "prdc")
    print("PRDC (precision, recall, density, coverage; prdc's strict < for P/R in brackets):")
    for name, (qr, qf) in prdc_cases().items():
        res, strict = prdc(qr, qf), prdc(qr, qf, strict_pr=True)
        g = new_group(group, name)
        put(g, "real", qr)
        put(g, "fake", qf)
        for key, v in res.items():
            g.attrs[key] = float(v)
        g.attrs["k_pr"], g.attrs["k_dc"] = 3, 5
        print("  %-10s %.6f %.6f %.6f %.6f   [%.6f %.6f]" % (
            name, res["precision"], res["recall"], res["density"], res["coverage"],
            strict["precision"], strict["recall"]))


def main():
    with open_out() as f:
        write_fid(f)
        write_kid(f)
        write_prdc(f)
    print("wrote %s (%d bytes)" % (OUT, os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
