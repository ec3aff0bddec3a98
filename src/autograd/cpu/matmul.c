#include "cpu.h"

void cpu_matmul(ag_ctx *c, const ag_node *node) {
    const ag_tensor *A = node->src[0], *B = node->src[1];
    int nd = A->shape.ndim, ta = node->p.matmul.transpose_a, tb = node->p.matmul.transpose_b;
    int lda = A->shape.d[nd - 1], ldb = B->shape.d[nd - 1];
    int m = node->out->shape.d[nd - 2], n = node->out->shape.d[nd - 1];
    int k = ta ? A->shape.d[nd - 2] : A->shape.d[nd - 1];
    int batch = nd == 3 ? A->shape.d[0] : 1;
    c->flops += 2 * (uint64_t)batch * m * n * k;
    int64_t sa = (int64_t)A->shape.d[nd - 2] * lda, sb = (int64_t)B->shape.d[nd - 2] * ldb, so = (int64_t)m * n;
    for (int i = 0; i < batch; i++)
        cpu_sgemm_parallel(ta, tb, m, n, k, A->data + i * sa, lda, B->data + i * sb, ldb, 0.0f,
                           node->out->data + i * so, n);
}
