#include "broadcast.h"

ag_bplan ag_bplan_make(ag_shape out, int nin, const ag_shape *in) {
    int nd = out.ndim;
    int64_t n[AG_MAX_DIMS], s[2][AG_MAX_DIMS];
    for (int k = 0; k < 2; k++) {
        // Contiguous strides of operand k aligned to the output's trailing dims.
        int64_t st = 1;
        for (int d = nd - 1; d >= 0; d--) {
            int id = k < nin ? d - (nd - in[k].ndim) : -1;
            int size = id >= 0 ? in[k].d[id] : 1;
            s[k][d] = (k < nin && size != 1) ? st : 0;
            st *= size;
        }
    }
    for (int d = 0; d < nd; d++) n[d] = out.d[d];

    ag_bplan p = {.nd = 0};
    for (int d = 0; d < nd; d++) {
        if (n[d] == 1) continue;
        if (p.nd > 0) {
            int q = p.nd - 1;
            // Merge into the previous dim when every operand walks both as one.
            if (p.s[0][q] == s[0][d] * n[d] && p.s[1][q] == s[1][d] * n[d]) {
                p.n[q] *= n[d];
                p.s[0][q] = s[0][d];
                p.s[1][q] = s[1][d];
                continue;
            }
        }
        p.n[p.nd] = n[d];
        p.s[0][p.nd] = s[0][d];
        p.s[1][p.nd] = s[1][d];
        p.nd++;
    }
    if (p.nd == 0) {
        p.nd = 1;
        p.n[0] = 1;
        p.s[0][0] = p.s[1][0] = 0;
    }
    p.outer = 1;
    for (int d = 0; d < p.nd - 1; d++) p.outer *= p.n[d];
    return p;
}
