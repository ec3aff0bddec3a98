// The op table is complete for the backend under test: every op of op_list.h has a kernel and a
// backward rule (both tables name each one, so a missing one already fails the link; this
// checks what the link cannot: names, arities, kinds, and the registry's answers).
#include <string.h>

#include "backend_impl.h"
#include "op.h"
#include "rules.h"
#include "test.h"
#include "test_backend.h"

// Appends `name` to a comma-separated list in buf.
static void list_add(char *buf, size_t size, const char *name) {
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, "%s%s", len ? ", " : "", name);
}

static void test_table(const ag_backend *be) {
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
        if (!ag_backend_supports_op(be, (ag_op)op)) missing_kernels++, list_add(no_kernel, sizeof no_kernel, info->name);
        if (!ag_backward_rule((ag_op)op)) missing_rules++, list_add(no_rule, sizeof no_rule, info->name);
        for (int other = 0; other < op; other++)
            if (ag_op_infos[other].name && !strcmp(info->name, ag_op_infos[other].name))
                duplicates++, list_add(dup_names, sizeof dup_names, info->name);
    }
    TEST_CHECK(duplicates == 0, "%d op names used twice: %s", duplicates, dup_names);
    TEST_CHECK(missing_kernels == 0, "%d ops without a %s kernel: %s", missing_kernels, ag_backend_name(be), no_kernel);
    TEST_CHECK(missing_rules == 0, "%d ops without a backward rule: %s", missing_rules, no_rule);
    TEST_CHECK(!ag_backend_supports_op(be, AG_OP_COUNT) && !ag_backend_supports_op(be, (ag_op)-1),
               "ag_backend_supports_op accepts an op outside the table");
    printf("%d ops on %s: %d without a kernel, %d without a backward rule\n", AG_OP_COUNT, ag_backend_name(be),
           missing_kernels, missing_rules);
}

// Opening by name: unknown names fail with the list of built backends; cpu always opens.
static void test_registry(void) {
    char why[256] = "";
    TEST_CHECK(!ag_backend_open("nonesuch", why, sizeof why), "a backend called nonesuch opened");
    TEST_CHECK(strstr(why, "no such backend") && strstr(why, ag_backend_names()),
               "the reason lists the built backends (%s): %s", ag_backend_names(), why);
    TEST_CHECK(!ag_backend_is_built("nonesuch") && ag_backend_is_built("cpu") && !ag_backend_is_built("cpu:0"),
               "is_built: nonesuch no, cpu yes, cpu:0 no");
    TEST_CHECK(!ag_backend_open("cpu:1", why, sizeof why) && strstr(why, "no device numbers"), "cpu:1 is refused: %s",
               why);
    TEST_CHECK(!ag_backend_open("cuda:x", why, sizeof why), "cuda:x is refused");
    ag_backend *cpu = ag_backend_open("cpu", why, sizeof why);
    TEST_CHECK(cpu && !strcmp(ag_backend_name(cpu), "cpu"), "cpu opens: %s", why);
    if (cpu) {
        TEST_CHECK(ag_backend_set_threads(cpu, 1) == 1 && ag_backend_threads(cpu) == 1, "one thread");
        ag_backend_desc d;
        ag_backend_describe(cpu, &d);
        TEST_CHECK(!strcmp(d.name, "cpu") && d.threads == 1 && d.library[0] && d.kernels[0],
                   "describe: %s / %s / %s / %d threads", d.name, d.library, d.kernels, d.threads);
        ag_backend_set_threads(cpu, 2);
    }
    ag_backend_close(cpu);
    ag_backend_close(NULL);
}

int main(void) {
    test_table(test_backend());
    test_registry();
    return test_finish();
}
