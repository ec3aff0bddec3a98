// Matrix products through cuBLAS (cpu/matmul.c): out = op(A) @ op(B) for 2-D or 3-D batched
// row-major A and B with the node's transpose flags. cuBLAS is column-major, and a row-major
// matrix is its transpose seen column-major, so the product is computed as
// out^T = op(B)^T op(A)^T: B first, A second, the flags unchanged, sizes (n, m, k). The handle
// runs on the backend's stream with pedantic FP32 math (no TF32); cuBLAS sums with FMAs in its
// own order, so results match the CPU's up to rounding.
#include "cuda_backend.h"

extern "C" void cuda_matmul(ag_ctx *c, const ag_node *node) {
    const ag_tensor *A = node->src[0], *B = node->src[1];
    ag_tensor *O = node->out;
    int nd = A->shape.ndim, ta = node->p.matmul.transpose_a, tb = node->p.matmul.transpose_b;
    int lda = A->shape.d[nd - 1], ldb = B->shape.d[nd - 1];
    int m = O->shape.d[nd - 2], n = O->shape.d[nd - 1];
    int k = ta ? A->shape.d[nd - 2] : A->shape.d[nd - 1];
    int batch = nd == 3 ? A->shape.d[0] : 1;
    c->flops += 2 * (uint64_t)batch * m * n * k;
    // cuBLAS rejects leading dimensions of 0, which empty operands have: an empty output needs
    // nothing, and an empty inner dimension is a sum of nothing.
    if (O->numel == 0) return;
    if (k == 0) {
        CUDA_CHECK(cudaMemsetAsync(O->data, 0, (size_t)O->numel * sizeof(float), cuda_stream(c)));
        return;
    }
    cublasHandle_t h = cuda_ctx(c)->cublas;
    cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    const float one = 1.0f, zero = 0.0f;
    if (nd == 2) {
        CUBLAS_CHECK(cublasSgemm(h, opb, opa, n, m, k, &one, B->data, ldb, A->data, lda, &zero, O->data, n));
        return;
    }
    long long sa = (long long)A->shape.d[1] * lda, sb = (long long)B->shape.d[1] * ldb, so = (long long)m * n;
    CUBLAS_CHECK(cublasSgemmStridedBatched(h, opb, opa, n, m, k, &one, B->data, ldb, sb, A->data, lda, sa, &zero,
                                           O->data, n, so, batch));
}
