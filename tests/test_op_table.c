// The op table is complete: every op of op_list.h has a CPU kernel and a backward rule, names
// are unique and arities are in range. Kernels and rules are weak references, so a missing one
// links fine and shows up here, by name.
#include <string.h>

#include "autograd.h"
#include "backend.h"
#include "op.h"
#include "test.h"

// Appends `name` to a comma-separated list in buf.
static void list_add(char *buf, size_t size, const char *name) {
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, "%s%s", len ? ", " : "", name);
}

int main(void) {
    const ag_backend *cpu = ag_backend_cpu();
    char no_kernel[2048] = "", no_rule[2048] = "", dup_names[2048] = "";
    int missing_kernels = 0, missing_rules = 0, duplicates = 0;
    for (int op = 0; op < AG_OP_COUNT; op++) {
        const ag_op_info *info = &ag_op_infos[op];
        TEST_CHECK(info->name && info->name[0], "op %d has no name", op);
        if (!info->name) continue;
        TEST_CHECK(info->nsrc == -1 || (info->nsrc >= 1 && info->nsrc <= AG_MAX_SRC),
                   "%s: arity %d out of range", info->name, info->nsrc);
        TEST_CHECK(info->grad >= AG_GRAD_TWICE && info->grad <= AG_GRAD_NONE, "%s: bad grad kind %d",
                   info->name, (int)info->grad);
        if (!cpu->kernels[op]) missing_kernels++, list_add(no_kernel, sizeof no_kernel, info->name);
        if (!ag_backward_rule((ag_op)op)) missing_rules++, list_add(no_rule, sizeof no_rule, info->name);
        TEST_CHECK(ag_backend_supports_op(cpu, (ag_op)op) == (cpu->kernels[op] != NULL),
                   "%s: ag_backend_supports_op disagrees with the kernel table", info->name);
        for (int other = 0; other < op; other++)
            if (ag_op_infos[other].name && !strcmp(info->name, ag_op_infos[other].name))
                duplicates++, list_add(dup_names, sizeof dup_names, info->name);
    }
    TEST_CHECK(duplicates == 0, "%d op names used twice: %s", duplicates, dup_names);
    TEST_CHECK(missing_kernels == 0, "%d ops without a CPU kernel: %s", missing_kernels, no_kernel);
    TEST_CHECK(missing_rules == 0, "%d ops without a backward rule: %s", missing_rules, no_rule);
    TEST_CHECK(!ag_backend_supports_op(cpu, AG_OP_COUNT) && !ag_backend_supports_op(cpu, (ag_op)-1),
               "ag_backend_supports_op accepts an op outside the table");
    printf("%d ops: %d without a CPU kernel, %d without a backward rule\n", AG_OP_COUNT, missing_kernels,
           missing_rules);
    return test_finish();
}
