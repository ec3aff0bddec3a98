// Our own packed single-precision GEMM: the micro-kernel of the implicit-GEMM convolutions in
// cpu/conv.c, on AVX-512 (cpu/pgemm_avx512.c) or AVX2 + FMA (cpu/pgemm_avx2.c), picked at run
// time. The caller packs the operands itself, so a convolution can pack the weights once per
// call and the right-hand side straight from its image, with no column matrix in between.
//
// C (M, N) += A (M, kc) @ B (kc, N), row-major C, in tiles of up to PGEMM_MR rows of A (their
// values broadcast) by PGEMM_NR columns of B. The packed layouts are the same for both
// instruction sets (AVX-512 runs a 12 x 32 tile as one block of registers, AVX2 as four of 6 x
// 16), and so are the sums: each element of C is zero plus a[m][k] * b[k][n] by fused
// multiply-adds in k order, added to C when accumulating, so the two give the same bits.
//
// Packed A ("apack"): the rows in tiles of PGEMM_MR (the last tile may be shorter, mr rows);
// tile t holds kc x mr floats, column k's mr values contiguous: apack[t*PGEMM_MR*kc + k*mr + r]
// = A[t*PGEMM_MR + r][k]. M*kc floats in all.
// Packed B ("bpack"): the columns in panels of PGEMM_NR; panel p holds kc x PGEMM_NR floats,
// row k's PGEMM_NR values contiguous: bpack[p*kc*PGEMM_NR + k*PGEMM_NR + j] = B[k][p*PGEMM_NR + j].
// Columns past N in the last panel may hold anything: a column of C depends only on its own
// column of B, and those of C are never written.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define PGEMM_MR 12
#define PGEMM_NR 32

// The kernels: none (the im2col + OpenBLAS path), AVX2 + FMA, AVX-512.
typedef enum { PGEMM_OFF, PGEMM_AVX2, PGEMM_AVX512 } pgemm_isa;

// The kernel the convolutions use, read once: the best the running CPU has, unless the
// environment asks for another (GAN_CONV_KERNEL=blas, avx2 or avx512; one the CPU lacks falls
// back to the best it has, with a warning on stderr).
pgemm_isa pgemm_kernel(void);
// pgemm_kernel() != PGEMM_OFF.
bool pgemm_enabled(void);
// Whether the CPU could run this kernel (PGEMM_OFF always), whatever the environment says.
bool pgemm_isa_supported(pgemm_isa isa);
// Whether it could run any of ours.
bool pgemm_supported(void);
// "blas", "avx2", "avx512".
const char *pgemm_isa_name(pgemm_isa isa);
// Sets the kernel for the whole process, overriding the environment: for tests and benchmarks
// that compare them. An ISA the CPU lacks turns the kernel off. Not while convolutions run.
void pgemm_set_kernel(pgemm_isa isa);
// pgemm_set_kernel(the best the CPU has) or pgemm_set_kernel(PGEMM_OFF).
void pgemm_set_enabled(bool on);

// Floats of a packed B of kc rows and n columns (whole panels).
static inline int64_t pgemm_bpack_floats(int kc, int n) {
    return (int64_t)kc * ((n + PGEMM_NR - 1) / PGEMM_NR) * PGEMM_NR;
}

// apack = rows [0, M) x columns [0, kc) of A (element (m, k) at a[m*lda + k]), packed.
void pgemm_pack_a(int M, int kc, const float *a, int64_t lda, float *apack);
// Columns [k0, k0 + len) of a packed A of kc columns, from element (m, k0 + k) at a[m*lda + k].
void pgemm_pack_a_cols(int M, int kc, int k0, int len, const float *a, int64_t lda, float *apack);
// apack from A^T: element (m, k) of A at at[k*ldat + m].
void pgemm_pack_at(int M, int kc, const float *at, int64_t ldat, float *apack);
// bpack = rows [0, kc) x columns [0, N) of B (element (k, n) at b[k*ldb + n]), packed.
void pgemm_pack_b(int kc, int N, const float *b, int64_t ldb, float *bpack);

// One tap row of an implicit GEMM: row k of bpack (kc rows), columns n0 + oh*wo + [0, wo) for
// oh in [0, ho), taken from src + (oh - lo)*src_ld for oh in [lo, hi) and zero outside (src
// points at row lo's values).
void pgemm_pack_b_rows(float *bpack, int kc, int k, int64_t n0, int ho, int wo, int lo, int hi, const float *src,
                       int64_t src_ld);

// Row k of bpack (kc rows): `runs` runs of `len` floats side by side from column 0, run r taken
// from base + offs[r] (a convolution's patch: one run per channel and kernel row).
void pgemm_pack_b_gather(float *bpack, int kc, int k, const float *base, const int64_t *offs, int runs, int len);

// Rows [k, k + 16) x columns [n0, n0 + 16) of bpack (kc rows; n0 a multiple of 16), as a 16 x
// 16 transpose: element (k + p, n0 + t) = base[offs[t] + p * step] for t < nt (step 1 or 2),
// zero for t >= nt. A convolution's patches at 16 window positions of one output row, one
// tap (channel, kernel row, kernel column) per column, in vector loads instead of runs.
void pgemm_pack_b_transpose(float *bpack, int kc, int k, int n0, const float *base, const int64_t *offs, int nt,
                            int step);

// C (M, N) = A @ B (accumulate false) or C + A @ B (accumulate true). C's columns come in
// segments of `seg` (a multiple of PGEMM_NR, or >= N): column n of row m is at
// c + m*ldc + (n / seg)*seg_stride + n % seg. One segment (seg = N) is a plain matrix; several
// are the samples of a convolution's output, each (M, seg) at seg_stride floats from the last.
void pgemm_compute(int M, int N, int kc, const float *apack, const float *bpack, float *c, int64_t ldc,
                   bool accumulate, int64_t seg, int64_t seg_stride);
