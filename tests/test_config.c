// The experiment config system: a good file read field by field, defaults, every class of user
// error with the content of its message (file, line:column, key, suggestion) and exit code 2,
// overrides, the canonical YAML round trip, "when"-gated keys on a small schema of our own, and
// docs/config.md listing every key with its default.
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_schema.h"
#include "test.h"

#ifndef GAN_TEST_CONFIG_DIR
#error "meson passes GAN_TEST_CONFIG_DIR (tests/configs)"
#endif
#ifndef GAN_DOCS_DIR
#error "meson passes GAN_DOCS_DIR (docs)"
#endif

// The smallest valid config: every required key and nothing else. Line numbers matter below.
#define REQUIRED_YAML                                                                            \
    "seed: 7\n"                     /* 1 */                                                      \
    "model:\n"                      /* 2 */                                                      \
    "  type: dcgan\n"               /* 3 */                                                      \
    "data:\n"                       /* 4 */                                                      \
    "  path: /data/mnist.gz\n"      /* 5 */                                                      \
    "train:\n"                      /* 6 */                                                      \
    "  steps: 100\n"                /* 7 */                                                      \
    "  batch_size: 64\n"            /* 8 */                                                      \
    "checkpoint:\n"                 /* 9 */                                                      \
    "  every: 50\n"                 /* 10 */                                                     \
    "sample:\n"                     /* 11 */                                                     \
    "  every: 10\n"                 /* 12 */

static int parse(const char *yaml, int nov, const char *const *ov, gan_config *c, gan_err *e) {
    memset(e, 0, sizeof *e);
    return gan_config_parse(yaml, "exp.yaml", nov, ov, c, e);
}

// Parsing must fail with code 2 and a message containing every needle (NULL-terminated list).
static void expect_error_(const char *file, int line, int rc, const gan_err *e,
                          const char *const *needles, const char *const *absent) {
    test_checks_++;
    int bad = rc != -1 || e->code != GAN_EXIT_USAGE;
    for (const char *const *n = needles; *n; n++) bad |= !strstr(e->msg, *n);
    for (const char *const *n = absent; n && *n; n++) bad |= strstr(e->msg, *n) != NULL;
    if (bad) {
        test_failures_++;
        fprintf(stderr, "FAIL %s:%d: rc %d code %d, message: %s\n  wanted:", file, line, rc,
                e->code, e->msg);
        for (const char *const *n = needles; *n; n++) fprintf(stderr, " [%s]", *n);
        fputc('\n', stderr);
    }
    if (strchr(e->msg, '\n')) {
        test_failures_++;
        fprintf(stderr, "FAIL %s:%d: message is not one line: %s\n", file, line, e->msg);
    }
}
#define NEEDLES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define EXPECT_ERROR(yaml, ...)                                                                  \
    do {                                                                                         \
        gan_config c_;                                                                           \
        gan_err e_;                                                                              \
        int rc_ = parse((yaml), 0, NULL, &c_, &e_);                                              \
        expect_error_(__FILE__, __LINE__, rc_, &e_, NEEDLES(__VA_ARGS__), NULL);                 \
    } while (0)
#define EXPECT_OVERRIDE_ERROR(ov, ...)                                                           \
    do {                                                                                         \
        gan_config c_;                                                                           \
        gan_err e_;                                                                              \
        const char *ov_[] = {ov};                                                                \
        int rc_ = parse(REQUIRED_YAML, 1, ov_, &c_, &e_);                                        \
        expect_error_(__FILE__, __LINE__, rc_, &e_, NEEDLES(__VA_ARGS__), NULL);                 \
    } while (0)

// REQUIRED_YAML with line `line` (1-based) replaced by `text` (which may hold several lines).
static char *with_line(int line, const char *text) {
    static char buf[4096];
    const char *src = REQUIRED_YAML;
    size_t n = 0;
    for (int l = 1; *src; l++) {
        size_t len = strcspn(src, "\n") + 1;
        if (l == line) n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", text);
        else n += (size_t)snprintf(buf + n, sizeof buf - n, "%.*s", (int)len, src);
        src += len;
    }
    return buf;
}
static char *appended(const char *text) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s%s", REQUIRED_YAML, text);
    return buf;
}

static void test_good_file(void) {
    gan_config c;
    gan_err e = {0};
    int rc = gan_config_load(GAN_TEST_CONFIG_DIR "/dcgan_fashion_mnist.yaml", 0, NULL, &c, &e);
    TEST_CHECK(rc == 0, "good file: %s", e.msg);
    TEST_CHECK(!strcmp(c.name, "dcgan_fashion_mnist"), "name from the file name: %s", c.name);
    TEST_CHECK(c.seed == 42, "seed %lld", (long long)c.seed);
    TEST_CHECK(!strcmp(c.model.type, "dcgan"), "type %s", c.model.type);
    TEST_CHECK(c.model.resolution == 32 && c.model.nz == 64 && c.model.channels == 1,
               "model %d %d %d", c.model.resolution, c.model.nz, c.model.channels);
    TEST_CHECK(c.model.ngf == 64 && c.model.ndf == 64, "widths default %d %d", c.model.ngf, c.model.ndf);
    TEST_CHECK(!strcmp(c.data.path, "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"),
               "path %s", c.data.path);
    TEST_CHECK(!strcmp(c.data.format, "idx") && c.data.limit == 10000, "data %s %lld",
               c.data.format, (long long)c.data.limit);
    TEST_CHECK(c.train.steps == 2000 && c.train.batch_size == 128, "train %lld %d",
               (long long)c.train.steps, c.train.batch_size);
    TEST_CHECK(c.train.lr_g == 2e-4 && c.train.lr_d == 1e-4, "lr %g %g", c.train.lr_g, c.train.lr_d);
    TEST_CHECK(c.train.beta1 == 0.5 && c.train.beta2 == 0.999, "betas %g %g", c.train.beta1,
               c.train.beta2);
    TEST_CHECK(c.train.label_smoothing == 0.1 && c.train.d_steps == 1, "smoothing %g, d_steps %d",
               c.train.label_smoothing, c.train.d_steps);
    TEST_CHECK(!strcmp(c.train.loss, "logits") && c.train.threads == 2, "loss %s threads %d",
               c.train.loss, c.train.threads);
    TEST_CHECK(c.checkpoint.every == 500 && c.checkpoint.keep == 2, "checkpoint %lld %d",
               (long long)c.checkpoint.every, c.checkpoint.keep);
    TEST_CHECK(c.sample.every == 250 && c.sample.n == 36 && c.sample.nrow == 0, "sample");
    TEST_CHECK(c.log.every == 25, "log.every %lld", (long long)c.log.every);
}

static void test_defaults(void) {
    gan_config c;
    gan_err e;
    TEST_CHECK(parse(REQUIRED_YAML, 0, NULL, &c, &e) == 0, "required-only config: %s", e.msg);
    TEST_CHECK(!strcmp(c.name, "exp"), "name defaults to the basename: %s", c.name);
    TEST_CHECK(c.model.resolution == 64 && c.model.nz == 100 && c.model.ngf == 64 &&
               c.model.ndf == 64 && c.model.channels == 3, "model defaults");
    TEST_CHECK(!strcmp(c.data.format, "auto") && c.data.limit == 0, "data defaults");
    TEST_CHECK(c.train.lr_g == 0.0002 && c.train.lr_d == 0.0002 && c.train.beta1 == 0.5 &&
               c.train.beta2 == 0.999 && c.train.d_steps == 1 && c.train.label_smoothing == 0 &&
               !strcmp(c.train.loss, "bce") && c.train.threads == 0, "train defaults");
    TEST_CHECK(c.checkpoint.keep == 3 && c.sample.n == 64 && c.sample.nrow == 0 && c.log.every == 50,
               "checkpoint/sample/log defaults");

    // The name default from other sources: directories, several dots, a checkpoint's dataset.
    TEST_CHECK(gan_config_parse(REQUIRED_YAML, "runs/a/exp.v2.yaml", 0, NULL, &c, &e) == 0 &&
               !strcmp(c.name, "exp.v2"), "dotted basename: %s", c.name);
    TEST_CHECK(gan_config_parse(REQUIRED_YAML, "runs/a/ckpt.h5:/config", 0, NULL, &c, &e) == 0 &&
               !strcmp(c.name, "config"), "checkpoint source: %s", c.name);
    // Empty sections are allowed and mean "all defaults".
    TEST_CHECK(parse(appended("log:\n"), 0, NULL, &c, &e) == 0 && c.log.every == 50,
               "empty section: %s", e.msg);
}

static void test_unknown_keys(void) {
    EXPECT_ERROR(with_line(7, "  steps: 100\n  lr: 0.1\n"),
                 "exp.yaml:8:3: unknown key 'lr' in section 'train'; did you mean 'lr_g'?");
    EXPECT_ERROR(with_line(2, "modle:\n"),
                 "exp.yaml:2:1: unknown top-level key 'modle'; did you mean 'model'?");
    EXPECT_ERROR(with_line(3, "  type: dcgan\n  resolutoin: 32\n"),
                 "exp.yaml:4:3: unknown key 'resolutoin' in section 'model'; did you mean 'resolution'?");
    // In the wrong section: the suggestion is the full path of where it belongs.
    EXPECT_ERROR(appended("batch_size: 3\n"),
                 "exp.yaml:13:1: unknown top-level key 'batch_size'; did you mean 'train.batch_size'?");
    EXPECT_ERROR(with_line(12, "  every: 10\n  steps: 5\n"),
                 "exp.yaml:13:3: unknown key 'steps' in section 'sample'; did you mean 'train.steps'?");
    // Nothing close: the valid keys instead.
    EXPECT_ERROR(with_line(10, "  every: 50\n  flux_capacitor: 1\n"),
                 "exp.yaml:11:3: unknown key 'flux_capacitor' in section 'checkpoint'; valid keys: every, keep");
    // Keys that are not names.
    EXPECT_ERROR(appended("? [a, b]\n: 1\n"), "exp.yaml:13:3: expected a key name, got a list");
    EXPECT_ERROR(appended("~: 1\n"), "exp.yaml:13:1: expected a key name, got an empty value");
}

static void test_wrong_types(void) {
    EXPECT_ERROR(with_line(7, "  steps: ten\n"),
                 "exp.yaml:7:10: train.steps: expected an integer >= 1, got 'ten'");
    EXPECT_ERROR(with_line(7, "  steps: {a: 1}\n"),
                 "exp.yaml:7:10: train.steps: expected an integer >= 1, got a mapping");
    EXPECT_ERROR(with_line(7, "  steps: [1, 2]\n"), "train.steps: expected an integer >= 1, got a list");
    EXPECT_ERROR(with_line(7, "  steps:\n"), "train.steps: expected an integer >= 1, got an empty value");
    EXPECT_ERROR(with_line(7, "  steps: null\n"), "train.steps: expected an integer >= 1, got an empty value");
    EXPECT_ERROR(with_line(7, "  steps: \"10\"\n"),
                 "train.steps: expected an integer >= 1, got the string \"10\" (numbers are written without quotes)");
    EXPECT_ERROR(with_line(8, "  batch_size: 64.0\n"),
                 "exp.yaml:8:15: train.batch_size: expected an integer in [1, 65536], got '64.0'");
    EXPECT_ERROR(with_line(8, "  batch_size: 1e3\n"), "train.batch_size: expected an integer in [1, 65536], got '1e3'");
    EXPECT_ERROR(with_line(1, "seed: true\n"), "exp.yaml:1:7: seed: expected an integer >= 0, got 'true'");
    EXPECT_ERROR(appended("name: [a]\n"), "exp.yaml:13:7: name: expected a string, got a list");
    EXPECT_ERROR(appended("name:\n"), "name: expected a string, got an empty value");
    EXPECT_ERROR(with_line(5, "  path: {x: 1}\n"), "data.path: expected a string, got a mapping");
    // Sections given as scalars or lists.
    EXPECT_ERROR(appended("log: 5\n"),
                 "exp.yaml:13:6: log: expected a section (a mapping with keys every), got '5'");
    EXPECT_ERROR(with_line(10, "  every: 50\nsample: \"x\"\n"),
                 "exp.yaml:11:9: sample: expected a section (a mapping with keys every, n, nrow), got the string \"x\"");
    EXPECT_ERROR(appended("log: [1]\n"), "log: expected a section (a mapping with keys every), got a list");
    EXPECT_ERROR(appended("log: {every: 5}\nlog:\n"), "exp.yaml:14:1: duplicate top-level key 'log' (first given at line 13)");
    // Integers: overflow and trailing junk.
    EXPECT_ERROR(with_line(1, "seed: 99999999999999999999\n"),
                 "seed: expected an integer in [0, 9223372036854775807], got '99999999999999999999'");
    EXPECT_ERROR(with_line(1, "seed: 9223372036854775808\n"),
                 "seed: expected an integer in [0, 9223372036854775807], got '9223372036854775808'");
    EXPECT_ERROR(with_line(1, "seed: -99999999999999999999\n"),
                 "seed: expected an integer in [0, 9223372036854775807], got '-99999999999999999999'");
    EXPECT_ERROR(with_line(7, "  steps: 10abc\n"), "train.steps: expected an integer >= 1, got '10abc'");
    EXPECT_ERROR(with_line(7, "  steps: 0x10\n"), "train.steps: expected an integer >= 1, got '0x10'");
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  d_steps: 3000000000\n"),
                 "train.d_steps: expected an integer in [1, 2147483647], got '3000000000'");
    // Floats: exponents fine, non-finite never.
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  lr_g: .inf\n"), "train.lr_g: expected a number > 0, got '.inf'");
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  lr_g: nan\n"), "train.lr_g: expected a number > 0, got 'nan'");
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  lr_g: 1e999\n"), "got '1e999'");
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  lr_g: 2e-4x\n"), "got '2e-4x'");
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  lr_g: 1e-400\n"), "got '1e-400'");
    // Strings: control characters, NULs, too long.
    EXPECT_ERROR(appended("name: \"a\\tb\"\n"), "exp.yaml:13:7: name: expected UTF-8 text without control characters, got the string \"a?b\"");
    EXPECT_ERROR(appended("name: \"a\\0b\"\n"), "(contains a NUL character)");
    EXPECT_OVERRIDE_ERROR("name=a\xff", "override 'name=a\xff': name: expected UTF-8 text");
    // Booleans: YAML 1.2's true/false only; 1.1's yes/no/on/off are refused, not guessed.
    EXPECT_OVERRIDE_ERROR("data.skip_bad=yes", "data.skip_bad: expected true or false, got 'yes'");
    EXPECT_OVERRIDE_ERROR("data.skip_bad=1", "data.skip_bad: expected true or false, got '1'");
    EXPECT_ERROR(with_line(5, "  path: /data/mnist.gz\n  skip_bad: \"true\"\n"), "(true and false are written without quotes)");
    // What libyaml would not read back from config.yaml (found by fuzz_override): above U+10FFFF,
    // a surrogate, an overlong '/', a C1 control, U+FFFF.
    const char *unreadable[] = {"name=x\xf4\x9e\x96\x91", "name=x\xed\xa0\x80", "name=x\xc0\xaf",
                                "name=x\xe0\x80\xaf", "name=x\xc2\x85", "name=x\xef\xbf\xbf"};
    for (size_t i = 0; i < sizeof unreadable / sizeof *unreadable; i++)
        EXPECT_OVERRIDE_ERROR(unreadable[i], "name: expected UTF-8 text without control characters");
    char longname[400];
    snprintf(longname, sizeof longname, "name: %0200d\n", 1);
    EXPECT_ERROR(appended(longname), "exp.yaml:13:7: name: expected a string of at most 127 bytes, got 200");
}

static void test_accepted_numbers(void) {
    gan_config c;
    gan_err e;
    const char *ov[] = {"train.lr_g=1e-4", "train.lr_d=3", "train.beta1=.25", "train.beta2=+0.5E0",
                        "seed=+12", "train.label_smoothing=-0"};
    TEST_CHECK(parse(REQUIRED_YAML, 6, ov, &c, &e) == 0, "number forms: %s", e.msg);
    TEST_CHECK(c.train.lr_g == 1e-4 && c.train.lr_d == 3.0 && c.train.beta1 == 0.25 &&
               c.train.beta2 == 0.5, "floats %g %g %g %g", c.train.lr_g, c.train.lr_d,
               c.train.beta1, c.train.beta2);
    TEST_CHECK(c.seed == 12, "seed %lld", (long long)c.seed);
    TEST_CHECK(c.train.label_smoothing == 0 && !signbit(c.train.label_smoothing), "-0 becomes 0");
    // A quoted value is a string, fine where a string belongs; YAML anchors and flow style work.
    const char *yaml = "seed: 0\nmodel: {type: \"dcgan\"}\ndata: {path: 'a b: c'}\n"
                       "train: {steps: &n 9223372036854775807, batch_size: 65536}\n"
                       "checkpoint: {every: *n}\nsample: {every: 1}\n";
    TEST_CHECK(parse(yaml, 0, NULL, &c, &e) == 0, "flow style, anchors: %s", e.msg);
    TEST_CHECK(c.train.steps == INT64_MAX && c.checkpoint.every == INT64_MAX &&
               c.train.batch_size == 65536 && !strcmp(c.data.path, "a b: c"), "flow values");
}

static void test_out_of_range(void) {
    EXPECT_ERROR(with_line(7, "  steps: -5\n"), "exp.yaml:7:10: train.steps: expected an integer >= 1, got '-5'");
    EXPECT_ERROR(with_line(7, "  steps: 0\n"), "train.steps: expected an integer >= 1, got '0'");
    EXPECT_ERROR(with_line(1, "seed: -1\n"), "seed: expected an integer >= 0, got '-1'");
    EXPECT_ERROR(with_line(3, "  type: dcgan\n  nz: 5000\n"),
                 "exp.yaml:4:7: model.nz: expected an integer in [1, 4096], got '5000'");
    EXPECT_ERROR(with_line(3, "  type: dcgan\n  resolution: 48\n"),
                 "model.resolution: expected one of 8, 16, 32, 64, 128, 256, got '48'");
    EXPECT_ERROR(with_line(3, "  type: dcgan\n  channels: 4\n"), "model.channels: expected one of 1, 3, got '4'");
    EXPECT_ERROR(with_line(8, "  batch_size: 65537\n"), "train.batch_size: expected an integer in [1, 65536], got '65537'");
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  lr_g: 0\n"), "train.lr_g: expected a number > 0, got '0'");
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  lr_d: -1e-4\n"), "train.lr_d: expected a number > 0, got '-1e-4'");
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  beta1: 1\n"), "train.beta1: expected a number in [0, 1), got '1'");
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  beta2: -0.1\n"), "train.beta2: expected a number in [0, 1), got '-0.1'");
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  label_smoothing: 0.6\n"),
                 "train.label_smoothing: expected a number in [0, 0.5], got '0.6'");
    EXPECT_ERROR(with_line(12, "  every: 10\n  n: 1025\n"), "sample.n: expected an integer in [1, 1024], got '1025'");
    EXPECT_ERROR(with_line(12, "  every: 10\n  nrow: -1\n"), "sample.nrow: expected an integer >= 0, got '-1'");
    EXPECT_ERROR(with_line(10, "  every: 50\n  keep: 0\n"), "checkpoint.keep: expected an integer >= 1, got '0'");
    EXPECT_ERROR(appended("log: {every: 0}\n"), "log.every: expected an integer >= 1, got '0'");
    EXPECT_ERROR(with_line(5, "  path: x\n  limit: -3\n"), "data.limit: expected an integer >= 0, got '-3'");

    // Bounds themselves, where they are included.
    gan_config c;
    gan_err e;
    const char *ov[] = {"train.beta1=0", "train.label_smoothing=0.5", "sample.n=1024", "model.nz=4096",
                        "train.batch_size=1", "data.limit=0", "sample.nrow=0", "train.threads=0"};
    TEST_CHECK(parse(REQUIRED_YAML, 8, ov, &c, &e) == 0, "inclusive bounds: %s", e.msg);
}

static void test_enums(void) {
    EXPECT_ERROR(with_line(3, "  type: dcgna\n"),
                 "exp.yaml:3:9: model.type: expected one of dcgan, stylegan2, got 'dcgna'; did you mean 'dcgan'?");
    EXPECT_ERROR(with_line(3, "  type: DCGAN\n"), "got 'DCGAN'; did you mean 'dcgan'?");
    EXPECT_ERROR(with_line(5, "  path: x\n  format: cifar\n"),
                 "data.format: expected one of auto, idx, folder, cifar10, got 'cifar'; did you mean 'cifar10'?");
    {
        gan_config c_;
        gan_err e_;
        int rc_ = parse(with_line(8, "  batch_size: 64\n  loss: energy\n"), 0, NULL, &c_, &e_);
        expect_error_(__FILE__, __LINE__, rc_, &e_,
                      NEEDLES("train.loss: expected one of bce, logits, hinge, lsgan, wgan-gp, got 'energy'"),
                      NEEDLES("did you mean"));
    }
    EXPECT_ERROR(with_line(3, "  type: [dcgan]\n"), "model.type: expected one of dcgan, stylegan2, got a list");
}

static void test_missing_and_structure(void) {
    EXPECT_ERROR(with_line(8, ""), "exp.yaml: missing required key train.batch_size (training batch size)");
    {
        gan_config c_;
        gan_err e_;
        int rc_ = parse(with_line(8, ""), 0, NULL, &c_, &e_);
        expect_error_(__FILE__, __LINE__, rc_, &e_, NEEDLES("exp.yaml: missing"), NEEDLES("also"));
    }
    EXPECT_ERROR("seed: 1\nmodel: {type: dcgan}\n",
                 "exp.yaml: missing required key data.path (",
                 "; also missing train.steps, train.batch_size, checkpoint.every, sample.every");
    EXPECT_ERROR(with_line(3, "  resolution: 32\n"), "missing required key model.type (architecture)");
    EXPECT_ERROR(with_line(1, ""), "missing required key seed (random seed");
    EXPECT_ERROR(appended("data:\n"), "duplicate top-level key 'data' (first given at line 4)");
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  steps: 3\n"),
                 "exp.yaml:9:3: duplicate key 'steps' in section 'train' (first given at line 7)");
    // Empty input, top level not a mapping, two documents.
    EXPECT_ERROR("", "exp.yaml: the config is empty; expected a mapping with keys name, seed, device, model");
    EXPECT_ERROR("# just a comment\n\n", "exp.yaml: the config is empty");
    EXPECT_ERROR("---\n", "exp.yaml: the config is empty");
    EXPECT_ERROR("- seed\n- 1\n", "exp.yaml:1:1: expected a mapping with keys name, seed", "got a list");
    EXPECT_ERROR("hello\n", "exp.yaml:1:1: expected a mapping with keys", "got 'hello'");
    EXPECT_ERROR(appended("---\nseed: 2\n"), "exp.yaml:13:1: a second YAML document");
    // YAML syntax errors carry libyaml's position and problem.
    EXPECT_ERROR(with_line(7, "  steps: [1, 2\n"), "exp.yaml:", ": YAML syntax error: did not find expected ',' or ']'");
    EXPECT_ERROR(with_line(3, "  type: dcgan\n   nz: 3\n"), "exp.yaml:4:6: YAML syntax error: mapping values are not allowed");
    EXPECT_ERROR(with_line(5, "  path: \"/data\n"), "YAML syntax error", "found unexpected end of stream");
    EXPECT_ERROR("seed: 1\n\xff\xfe: 2\n", "exp.yaml: not readable as YAML text: invalid");
}

static void test_files(void) {
    gan_config c;
    gan_err e;
    int rc = gan_config_load(GAN_TEST_CONFIG_DIR "/empty.yaml", 0, NULL, &c, &e);
    TEST_CHECK(rc == -1 && e.code == 2 && strstr(e.msg, "configs/empty.yaml: the config is empty"),
               "empty file: %s", e.msg);
    rc = gan_config_load(GAN_TEST_CONFIG_DIR "/syntax_error.yaml", 0, NULL, &c, &e);
    TEST_CHECK(rc == -1 && e.code == 2 &&
               strstr(e.msg, "syntax_error.yaml:4:14: YAML syntax error: mapping values are not allowed"),
               "syntax error file: %s", e.msg);
    rc = gan_config_load(GAN_TEST_CONFIG_DIR "/tabs.yaml", 0, NULL, &c, &e);
    TEST_CHECK(rc == -1 && e.code == 2 && strstr(e.msg, "tabs.yaml:3:1: YAML syntax error") &&
               strstr(e.msg, "YAML indents with spaces, not tabs"), "tabs: %s", e.msg);
    rc = gan_config_load(GAN_TEST_CONFIG_DIR "/no_such_file.yaml", 0, NULL, &c, &e);
    TEST_CHECK(rc == -1 && e.code == 2 && strstr(e.msg, "no_such_file.yaml") &&
               strstr(e.msg, "No such file"), "missing file: %s", e.msg);
    rc = gan_config_load(GAN_TEST_CONFIG_DIR, 0, NULL, &c, &e);
    TEST_CHECK(rc == -1 && e.code == 2 && strstr(e.msg, "is a directory"), "directory: %s", e.msg);
    // Overrides apply to a loaded file too, and a missing key can come from them.
    const char *ov[] = {"train.steps=5", "name=short"};
    rc = gan_config_load(GAN_TEST_CONFIG_DIR "/dcgan_fashion_mnist.yaml", 2, ov, &c, &e);
    TEST_CHECK(rc == 0 && c.train.steps == 5 && !strcmp(c.name, "short") && c.train.lr_d == 1e-4,
               "load with overrides: %s", e.msg);
}

static void test_overrides(void) {
    gan_config c;
    gan_err e;
    const char *ov[] = {"train.steps=10", " model.resolution = 32 ", "train.lr_g=1e-3",
                        "name=my run", "data.path=/tmp/a=b", "train.loss=logits", "train.steps=11"};
    TEST_CHECK(parse(REQUIRED_YAML, 7, ov, &c, &e) == 0, "valid overrides: %s", e.msg);
    TEST_CHECK(c.train.steps == 11 && c.model.resolution == 32 && c.train.lr_g == 1e-3,
               "override values %lld %d %g", (long long)c.train.steps, c.model.resolution, c.train.lr_g);
    TEST_CHECK(!strcmp(c.name, "my run") && !strcmp(c.data.path, "/tmp/a=b") &&
               !strcmp(c.train.loss, "logits"), "override strings '%s' '%s'", c.name, c.data.path);
    // A required key given only on the command line.
    const char *ov2[] = {"train.batch_size=32"};
    TEST_CHECK(parse(with_line(8, ""), 1, ov2, &c, &e) == 0 && c.train.batch_size == 32,
               "required key from an override: %s", e.msg);

    EXPECT_OVERRIDE_ERROR("train.stpes=10",
                          "override 'train.stpes=10': unknown key 'train.stpes'; did you mean 'train.steps'?");
    EXPECT_OVERRIDE_ERROR("trian.steps=10", "unknown key 'trian.steps'; did you mean 'train.steps'?");
    EXPECT_OVERRIDE_ERROR("steps=10", "override 'steps=10': unknown key 'steps'; did you mean 'train.steps'?");
    EXPECT_OVERRIDE_ERROR("batch=1", "unknown key 'batch'; did you mean 'train.batch_size'?");
    EXPECT_OVERRIDE_ERROR("zzz.qqq=1", "override 'zzz.qqq=1': unknown key 'zzz.qqq'; keys are section.key paths");
    EXPECT_OVERRIDE_ERROR("train.steps", "override 'train.steps': expected key.path=value (no '=')");
    EXPECT_OVERRIDE_ERROR("=5", "override '=5': empty key before '='");
    EXPECT_OVERRIDE_ERROR(" =5", "override ' =5': empty key");
    EXPECT_OVERRIDE_ERROR("train.steps=-5",
                          "override 'train.steps=-5': train.steps: expected an integer >= 1, got '-5'");
    EXPECT_OVERRIDE_ERROR("train.steps=", "override 'train.steps=': train.steps: expected an integer >= 1, got an empty value");
    EXPECT_OVERRIDE_ERROR("model.type=gan", "model.type: expected one of dcgan, stylegan2, got 'gan'");
    EXPECT_OVERRIDE_ERROR("model=dcgan",
                          "override 'model=dcgan': 'model' is a section; set one of its keys (type, resolution");
    EXPECT_OVERRIDE_ERROR("data.path=", "override 'data.path=': data.path: expected a string, got an empty value");

    // On a complete config: all or nothing.
    TEST_CHECK(parse(REQUIRED_YAML, 0, NULL, &c, &e) == 0, "base: %s", e.msg);
    gan_config before = c;
    const char *bad[] = {"train.steps=77", "train.beta1=2"};
    int rc = gan_config_apply_overrides(&c, 2, bad, &e);
    TEST_CHECK(rc == -1 && e.code == 2 && strstr(e.msg, "override 'train.beta1=2': train.beta1"),
               "second override fails: %s", e.msg);
    TEST_CHECK(!memcmp(&before, &c, sizeof c), "a failed apply leaves the config unchanged");
    const char *good[] = {"train.steps=77", "sample.nrow=8"};
    TEST_CHECK(gan_config_apply_overrides(&c, 2, good, &e) == 0 && c.train.steps == 77 &&
               c.sample.nrow == 8, "apply overrides: %s", e.msg);
    TEST_CHECK(gan_config_diff(&before, &c) && !strcmp(gan_config_diff(&before, &c), "train.steps"),
               "diff names the first changed key");
    TEST_CHECK(gan_config_diff(&before, &before) == NULL, "diff of equal configs");
}

static void round_trip(const gan_config *c, const char *what) {
    char *yaml = gan_config_to_yaml(c);
    gan_config back;
    gan_err e;
    int rc = gan_config_parse(yaml, "resolved.yaml", 0, NULL, &back, &e);
    TEST_CHECK(rc == 0, "%s: canonical YAML does not parse: %s\n%s", what, e.msg, yaml);
    if (rc == 0) {
        const char *d = gan_config_diff(c, &back);
        TEST_CHECK(!d, "%s: round trip changes %s", what, d);
        TEST_CHECK(!memcmp(c, &back, sizeof back), "%s: round trip is not byte-identical", what);
        char *again = gan_config_to_yaml(&back);
        TEST_CHECK(!strcmp(yaml, again), "%s: YAML of the round trip differs", what);
        free(again);
    }
    free(yaml);
}

static void test_round_trip(void) {
    gan_config c;
    gan_err e;
    TEST_CHECK(gan_config_load(GAN_TEST_CONFIG_DIR "/dcgan_fashion_mnist.yaml", 0, NULL, &c, &e) == 0,
               "load: %s", e.msg);
    round_trip(&c, "good file");
    TEST_CHECK(parse(REQUIRED_YAML, 0, NULL, &c, &e) == 0, "defaults: %s", e.msg);
    round_trip(&c, "defaults");

    // Values that need quoting or exact float printing.
    const char *names[] = {"name=yes", "name=123", "name=null\\x", "name=a \"quoted\" # name",
                           "name=-dash", "name=日本語", "name=back\\slash", "name=off", "name=N",
                           "name=\xf0\x9f\x99\x82", "name=\xf4\x8f\xbf\xbd"};
    for (int i = 0; i < 2; i++) {
        const char *ov[] = {i ? "data.skip_bad=True" : "data.skip_bad=false"};
        TEST_CHECK(parse(REQUIRED_YAML, 1, ov, &c, &e) == 0 && c.data.skip_bad == (i == 1), "%s: %s", ov[0], e.msg);
        round_trip(&c, ov[0]);
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *ov[] = {names[i], "data.path=./data/x y:z.gz", "train.lr_g=0.1",
                            "train.lr_d=1e-7", "train.beta2=0.30000000000000004",
                            "train.label_smoothing=0.49999999999999994", "seed=9223372036854775807"};
        TEST_CHECK(parse(REQUIRED_YAML, 7, ov, &c, &e) == 0, "%s: %s", names[i], e.msg);
        round_trip(&c, names[i]);
    }
    TEST_CHECK(c.train.beta2 == 0.30000000000000004 && c.train.beta2 != 0.3, "exact floats kept");
    // A string spelt like null stays a string when quoted, and is written quoted.
    TEST_CHECK(parse(appended("name: \"Null\"\n"), 0, NULL, &c, &e) == 0 && !strcmp(c.name, "Null"),
               "quoted null-like name: %s", e.msg);
    round_trip(&c, "name Null");
    char *quoted = gan_config_to_yaml(&c);
    TEST_CHECK(strstr(quoted, "\nname: \"Null\" "), "null-like name quoted:\n%s", quoted);
    free(quoted);

    // The canonical text itself: every key, comments, floats that any YAML reader sees as floats.
    TEST_CHECK(parse(REQUIRED_YAML, 0, NULL, &c, &e) == 0, "defaults: %s", e.msg);
    char *yaml = gan_config_to_yaml(&c);
    const char *lines[] = {"\nname: exp ", "\nseed: 7 ", "\nmodel: ", "\n  type: dcgan ",
                           "\n  lr_g: 0.0002 ", "\n  label_smoothing: 0.0 ", "\n  every: 50 ",
                           "# latent size\n", "\n  loss: bce "};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        TEST_CHECK(strstr(yaml, lines[i]), "canonical YAML lacks [%s]:\n%s", lines[i], yaml);
    const char *ov[] = {"train.lr_d=1e-5", "name=true"};
    TEST_CHECK(gan_config_apply_overrides(&c, 2, ov, &e) == 0, "%s", e.msg);
    free(yaml);
    yaml = gan_config_to_yaml(&c);
    TEST_CHECK(strstr(yaml, "\n  lr_d: 1.0e-05 ") && strstr(yaml, "\nname: \"true\" "),
               "float with a dot, bool-like string quoted:\n%s", yaml);
    free(yaml);
}

static void test_edit_distance(void) {
    TEST_CHECK(gan_cfg_edit_distance("stpes", "steps") == 1, "a swap costs 1");
    TEST_CHECK(gan_cfg_edit_distance("kitten", "sitting") == 3, "kitten/sitting");
    TEST_CHECK(gan_cfg_edit_distance("DCGAN", "dcgan") == 0, "case-insensitive");
    TEST_CHECK(gan_cfg_edit_distance("", "abc") == 3, "empty");
    TEST_CHECK(gan_cfg_edit_distance("lr", "lr_g") == 2, "insertions");
    const gan_cfg_schema *s = &gan_config_schema;
    const char *near = gan_cfg_suggest_key(s, "train", "bacth_size");
    TEST_CHECK(near && !strcmp(near, "train.batch_size"), "bacth_size -> %s", near ? near : "none");
    TEST_CHECK(!gan_cfg_suggest_key(s, "train", "xyzzy"), "nothing close to xyzzy");
}

// A schema of our own with a model-specific section, to test "when" without a second model.
typedef struct toy {
    char type[8];
    int a;
    struct {
        int r1;
        double gamma;
    } sg;
    int64_t only_a;
} toy;
static const gan_cfg_key toy_keys[] = {
    {.path = "type", .type = GAN_CFG_ENUM, .offset = offsetof(toy, type), .size = 8,
     .required = 1, .choices = "a b", .help = "model"},
    {.path = "a", .type = GAN_CFG_INT, .offset = offsetof(toy, a), .size = sizeof(int),
     .imin = 0, .imax = 9, .def = "4", .help = "a number"},
    {.path = "sg", .type = GAN_CFG_SECTION, .when = "type=b", .help = "b only"},
    {.path = "sg.r1", .type = GAN_CFG_INT, .offset = offsetof(toy, sg.r1), .size = sizeof(int),
     .required = 1, .imin = 1, .imax = 5, .help = "needed by b"},
    {.path = "sg.gamma", .type = GAN_CFG_FLOAT, .offset = offsetof(toy, sg.gamma),
     .size = sizeof(double), .fmin = -HUGE_VAL, .fmax = HUGE_VAL, .def = "10", .help = "any"},
    {.path = "only_a", .type = GAN_CFG_INT64, .offset = offsetof(toy, only_a),
     .size = sizeof(int64_t), .imin = 0, .imax = INT64_MAX, .def = "1", .when = "type=a",
     .help = "a only"},
};
static const gan_cfg_schema toy_schema = {toy_keys, 6, sizeof(toy)};

static int toy_parse(const char *yaml, int nov, const char *const *ov, toy *t, gan_err *e) {
    gan_cfg_origin origin[6] = {0};
    gan_cfg_run run = {&toy_schema, t, "toy.yaml", origin};
    gan_cfg_set_defaults(&toy_schema, t);
    memset(e, 0, sizeof *e);
    if (gan_cfg_read_yaml(&run, yaml, strlen(yaml), e) != 0) return -1;
    for (int i = 0; i < nov; i++)
        if (gan_cfg_apply_override(&run, ov[i], e) != 0) return -1;
    return gan_cfg_finish(&run, 1, e);
}

static void test_when(void) {
    toy t;
    gan_err e;
    TEST_CHECK(toy_parse("type: a\nonly_a: 5\n", 0, NULL, &t, &e) == 0 && t.only_a == 5 && t.a == 4,
               "type a without the b section: %s", e.msg);
    TEST_CHECK(toy_parse("type: b\nsg: {r1: 2}\n", 0, NULL, &t, &e) == 0 && t.sg.r1 == 2 &&
               t.sg.gamma == 10, "type b with its section: %s", e.msg);
    int rc = toy_parse("type: a\nsg:\n  r1: 2\n", 0, NULL, &t, &e);
    TEST_CHECK(rc == -1 && e.code == 2 &&
               strstr(e.msg, "toy.yaml:2:1: section 'sg' applies only when type is b, but type is a"),
               "gated section: %s", e.msg);
    rc = toy_parse("sg: {r1: 2}\ntype: a\n", 0, NULL, &t, &e);
    TEST_CHECK(rc == -1 && strstr(e.msg, "toy.yaml:1:1: section 'sg' applies only"),
               "gate decided after the whole file: %s", e.msg);
    rc = toy_parse("type: b\n", 0, NULL, &t, &e);
    TEST_CHECK(rc == -1 && strstr(e.msg, "toy.yaml: missing required key sg.r1 (needed by b)"),
               "required inside a gated section: %s", e.msg);
    rc = toy_parse("type: b\nsg: {r1: 1}\nonly_a: 3\n", 0, NULL, &t, &e);
    TEST_CHECK(rc == -1 && strstr(e.msg, "toy.yaml:3:1: only_a applies only when type is a, but type is b"),
               "gated key: %s", e.msg);
    const char *ov[] = {"sg.r1=3"};
    rc = toy_parse("type: a\n", 1, ov, &t, &e);
    TEST_CHECK(rc == -1 && strstr(e.msg, "override 'sg.r1=3': sg.r1 applies only when type is b"),
               "gated override: %s", e.msg);
    const char *flip[] = {"type=b", "sg.r1=3"};
    TEST_CHECK(toy_parse("type: a\n", 2, flip, &t, &e) == 0 && t.sg.r1 == 3, "override opens the gate: %s",
               e.msg);

    // Output holds only what applies.
    TEST_CHECK(toy_parse("type: a\n", 0, NULL, &t, &e) == 0, "%s", e.msg);
    char *yaml = gan_cfg_to_yaml(&toy_schema, &t, NULL);
    TEST_CHECK(!strstr(yaml, "sg:") && !strstr(yaml, "r1") && strstr(yaml, "only_a: 1"), "type a:\n%s", yaml);
    free(yaml);
    TEST_CHECK(toy_parse("type: b\nsg: {r1: 5, gamma: -2.5}\n", 0, NULL, &t, &e) == 0, "%s", e.msg);
    yaml = gan_cfg_to_yaml(&toy_schema, &t, NULL);
    TEST_CHECK(strstr(yaml, "\nsg: ") && strstr(yaml, "\n  r1: 5 ") && strstr(yaml, "\n  gamma: -2.5 ") &&
               !strstr(yaml, "only_a"), "type b:\n%s", yaml);
    toy back;
    TEST_CHECK(toy_parse(yaml, 0, NULL, &back, &e) == 0 && !gan_cfg_diff(&toy_schema, &t, &back),
               "toy round trip: %s", e.msg);
    free(yaml);
}

// train.loss and the keys that go with it: gp_lambda only under wgan-gp, label smoothing only
// for the BCE losses, both refusals naming both keys; the loss is stored in the resolved YAML.
static void test_losses(void) {
    gan_config c;
    gan_err e;
    const char *losses[] = {"bce", "logits", "hinge", "lsgan", "wgan-gp"};
    for (int i = 0; i < 5; i++) {
        char ov[64];
        snprintf(ov, sizeof ov, "train.loss=%s", losses[i]);
        const char *ovs[] = {ov};
        TEST_CHECK(parse(REQUIRED_YAML, 1, ovs, &c, &e) == 0 && !strcmp(c.train.loss, losses[i]), "%s: %s", ov, e.msg);
        char *yaml = gan_config_to_yaml(&c);
        bool wgan = i == 4;
        TEST_CHECK(strstr(yaml, losses[i]) && (strstr(yaml, "gp_lambda: ") != NULL) == wgan,
                   "%s: the resolved YAML has the loss, and gp_lambda only for wgan-gp:\n%s", ov, yaml);
        gan_config back;
        TEST_CHECK(parse(yaml, 0, NULL, &back, &e) == 0 && !gan_config_diff(&c, &back), "%s round trip: %s", ov, e.msg);
        free(yaml);
    }
    TEST_CHECK(parse(with_line(8, "  batch_size: 64\n  loss: wgan-gp\n  gp_lambda: 2.5\n"), 0, NULL, &c, &e) == 0 &&
                   c.train.gp_lambda == 2.5, "gp_lambda given: %s", e.msg);
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  loss: hinge\n  gp_lambda: 2.5\n"),
                 "exp.yaml:10:3: train.gp_lambda applies only when train.loss is wgan-gp, but train.loss is hinge");
    // A condition on a key that does not apply itself names what rules both out: under
    // StyleGAN2, train.loss does not apply, so neither does train.gp_lambda.
    {
        const char *ov[] = {"model.type=stylegan2", "train.gp_lambda=1"};
        gan_config c;
        gan_err e;
        TEST_CHECK(parse(REQUIRED_YAML, 2, ov, &c, &e) == -1 &&
                       strstr(e.msg, "train.gp_lambda applies only when model.type is dcgan, but model.type is stylegan2"),
                   "nested condition: %s", e.msg);
    }
    EXPECT_OVERRIDE_ERROR("train.gp_lambda=1", "train.gp_lambda applies only when train.loss is wgan-gp, but "
                          "train.loss is bce");
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  loss: wgan-gp\n  gp_lambda: -1\n"),
                 "train.gp_lambda: expected a number >= 0");
    EXPECT_ERROR(with_line(8, "  batch_size: 64\n  loss: hinge\n  label_smoothing: 0.1\n"),
                 "exp.yaml:10:3: train.label_smoothing 0.1 applies only when train.loss is bce or logits, "
                 "but train.loss is hinge");
    {
        const char *ov[] = {"train.label_smoothing=0.2", "train.loss=lsgan"};
        int rc = parse(REQUIRED_YAML, 2, ov, &c, &e);
        expect_error_(__FILE__, __LINE__, rc, &e,
                      NEEDLES("override 'train.label_smoothing=0.2': train.label_smoothing 0.2 applies only when "
                              "train.loss is bce or logits, but train.loss is lsgan"), NULL);
    }
    {
        const char *ov[] = {"train.label_smoothing=0.1", "train.loss=logits"};
        TEST_CHECK(parse(REQUIRED_YAML, 2, ov, &c, &e) == 0, "smoothing with logits: %s", e.msg);
        const char *bad[] = {"train.loss=wgan-gp"};
        TEST_CHECK(gan_config_apply_overrides(&c, 1, bad, &e) == -1 && e.code == GAN_EXIT_USAGE &&
                       strstr(e.msg, "train.label_smoothing 0.1 applies only when train.loss is bce or logits, "
                                     "but train.loss is wgan-gp"), "an override onto a loaded config: %s", e.msg);
        TEST_CHECK(!strcmp(c.train.loss, "logits"), "a refused override leaves the config as it was");
    }

    // StyleGAN2: its own keys, the paper's loss by default, WGAN-GP without R1.
    const char *sg2[] = {"model.type=stylegan2"};
    TEST_CHECK(parse(REQUIRED_YAML, 1, sg2, &c, &e) == 0 && !strcmp(c.stylegan2.loss, "logistic") &&
                   c.stylegan2.d_steps == 1, "stylegan2 defaults: %s", e.msg);
    const char *sg2_wgan[] = {"model.type=stylegan2", "stylegan2.loss=wgan-gp", "stylegan2.r1_gamma=0",
                              "stylegan2.gp_lambda=3", "stylegan2.d_steps=5"};
    TEST_CHECK(parse(REQUIRED_YAML, 5, sg2_wgan, &c, &e) == 0 && c.stylegan2.gp_lambda == 3 && c.stylegan2.d_steps == 5,
               "stylegan2 wgan-gp: %s", e.msg);
    const char *sg2_r1[] = {"model.type=stylegan2", "stylegan2.loss=wgan-gp"};
    TEST_CHECK(parse(REQUIRED_YAML, 2, sg2_r1, &c, &e) == -1 && e.code == GAN_EXIT_USAGE &&
                   strstr(e.msg, "override 'stylegan2.loss=wgan-gp': stylegan2.loss wgan-gp has its own gradient "
                                 "penalty, but stylegan2.r1_gamma is 10 (set stylegan2.r1_gamma=0"),
               "wgan-gp with R1: %s", e.msg);
    const char *sg2_gp[] = {"model.type=stylegan2", "stylegan2.loss=hinge", "stylegan2.gp_lambda=3"};
    TEST_CHECK(parse(REQUIRED_YAML, 3, sg2_gp, &c, &e) == -1 &&
                   strstr(e.msg, "stylegan2.gp_lambda applies only when stylegan2.loss is wgan-gp, but "
                                 "stylegan2.loss is hinge"), "gp_lambda with hinge: %s", e.msg);
    const char *sg2_bce[] = {"model.type=stylegan2", "stylegan2.loss=bce"};
    TEST_CHECK(parse(REQUIRED_YAML, 2, sg2_bce, &c, &e) == -1 && strstr(e.msg, "expected one of logistic, hinge"),
               "stylegan2 has no sigmoid D: %s", e.msg);
    const char *dc_sg2key[] = {"stylegan2.loss=hinge"};
    TEST_CHECK(parse(REQUIRED_YAML, 1, dc_sg2key, &c, &e) == -1 && strstr(e.msg, "applies only when model.type is "
                                                                                "stylegan2"),
               "stylegan2.loss under dcgan: %s", e.msg);
    const char *sg2_dckey[] = {"model.type=stylegan2", "train.loss=hinge"};
    TEST_CHECK(parse(REQUIRED_YAML, 2, sg2_dckey, &c, &e) == -1 && strstr(e.msg, "train.loss applies only when "
                                                                                "model.type is dcgan"),
               "train.loss under stylegan2: %s", e.msg);
}

// Cell `col` (from 0) of the markdown table row `line`, trimmed, into `out`; false if the row
// has fewer cells.
static bool table_cell(const char *line, int col, char *out, size_t size) {
    const char *p = strchr(line, '|');
    for (int i = 0; p && i < col; i++) p = strchr(p + 1, '|');
    if (!p) return false;
    p++;
    const char *end = strchr(p, '|');
    if (!end) return false;
    while (p < end && *p == ' ') p++;
    while (end > p && end[-1] == ' ') end--;
    snprintf(out, size, "%.*s", (int)(end - p), p);
    return true;
}

// Every key's entry is well formed, and the docs and --help name every key.
// `text` (size bytes, NULs included) as a temporary file; loaded, then removed.
static int load_bytes(const char *text, size_t size, int nov, const char *const *ov, gan_config *c, gan_err *e) {
    char path[] = "/tmp/gan-test-config-XXXXXX";
    int fd = mkstemp(path);
    TEST_CHECK(fd >= 0, "mkstemp %s", path);
    if (fd < 0) return 0;
    TEST_CHECK(write(fd, text, size) == (ssize_t)size, "writing %s", path);
    close(fd);
    memset(e, 0, sizeof *e);
    int rc = gan_config_load(path, nov, ov, c, e);
    unlink(path);
    return rc;
}

// YAML tags and merge keys (refused, naming the key), NUL bytes, overflowing integers through
// the shared reader, and user text longer than a message (cut, the reason kept).
static void test_adversarial(void) {
    EXPECT_ERROR(with_line(7, "  steps: !!str 3000\n"),
                 "exp.yaml:7:10: train.steps: YAML tags are not supported (got !!str); write the value without a tag");
    EXPECT_ERROR(with_line(7, "  steps: !!int 3000\n"), "exp.yaml:7:10: train.steps: YAML tags are not supported (got !!int)");
    EXPECT_ERROR(with_line(5, "  path: !!binary aGVsbG8=\n"), "data.path: YAML tags are not supported (got !!binary)");
    EXPECT_ERROR(with_line(5, "  path: ! x\n"), "data.path: YAML tags are not supported (got !)");
    EXPECT_ERROR(with_line(5, "  path: !local x\n"), "data.path: YAML tags are not supported (got !local)");
    EXPECT_ERROR(with_line(5, "  path: &p !!str x\n"), "data.path: YAML tags are not supported (got !!str)");
    EXPECT_ERROR(with_line(6, "train: !!map\n"), "exp.yaml:6:8: train: YAML tags are not supported (got !!map)");
    EXPECT_ERROR(with_line(7, "  !!str steps: 3\n"),
                 "exp.yaml:7:3: key 'steps' in section 'train': YAML tags are not supported (got !!str)");
    EXPECT_ERROR("--- !!map\n" REQUIRED_YAML, "exp.yaml:1:5: YAML tags are not supported (got !!map on the top-level mapping)");
    // An alias of a tagged anchor is the tagged node.
    EXPECT_ERROR(with_line(10, "  every: !!int &e 50\n  keep: *e\n"), "exp.yaml:10:10: checkpoint.every: YAML tags");
    // A tag after non-ASCII text still lands on its key (marks count characters, not bytes).
    EXPECT_ERROR(appended("name: \"\xc3\xa9t\xc3\xa9\"\neval: {every: !!int 0}\n"),
                 "exp.yaml:14:15: eval.every: YAML tags are not supported");
    EXPECT_ERROR(appended("log: {<<: {every: 5}}\n"),
                 "exp.yaml:13:7: merge keys (<<) are not supported in section 'log'; write the keys out");
    EXPECT_ERROR(appended("<<: {name: x}\n"), "exp.yaml:13:1: merge keys (<<) are not supported;");
    // Anchors and aliases of single values stay fine, as does a quoted "<<" value.
    gan_config c;
    gan_err e;
    TEST_CHECK(parse(appended("name: &n \"<<\"\neval: {ref: *n}\n"), 0, NULL, &c, &e) == 0 &&
               !strcmp(c.name, "<<") && !strcmp(c.eval.ref, "<<"), "aliases: %s", e.msg);

    // A NUL byte ends no config silently: the file and its line are named.
    static const char nul[] = "seed: 1\nmodel: {type: dcgan}\n\0junk\n";
    TEST_CHECK(load_bytes(nul, sizeof nul - 1, 0, NULL, &c, &e) == -1 && e.code == GAN_EXIT_USAGE &&
               strstr(e.msg, ":3: a NUL byte; a config is text"), "NUL: %s", e.msg);

    // Thread counts: far beyond the cores is refused where the user gives it (a file or an
    // override), kept in a stored config (gan_config_parse without overrides).
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char too_many[64], most[64], yaml[1024];
    snprintf(too_many, sizeof too_many, "train.threads=%ld", 4 * cores + 1);
    snprintf(most, sizeof most, "train.threads=%ld", 4 * cores);
    const char *ov_bad[] = {too_many}, *ov_ok[] = {most};
    EXPECT_OVERRIDE_ERROR(too_many, "train.threads: ", "is more than 4 times this machine's", "0 uses all cores");
    TEST_CHECK(parse(REQUIRED_YAML, 1, ov_ok, &c, &e) == 0 && c.train.threads == 4 * cores, "4 x cores: %s", e.msg);
    char line[64];
    snprintf(line, sizeof line, "  batch_size: 64\n  threads: %ld\n", 4 * cores + 1);
    snprintf(yaml, sizeof yaml, "%s", with_line(8, line));
    TEST_CHECK(parse(yaml, 0, NULL, &c, &e) == 0, "a stored config keeps its threads: %s", e.msg);
    TEST_CHECK(load_bytes(yaml, strlen(yaml), 0, NULL, &c, &e) == -1 &&
               strstr(e.msg, ":9:3: train.threads: ") && strstr(e.msg, "is more than 4 times"),
               "threads in a file: %s", e.msg);
    TEST_CHECK(parse(REQUIRED_YAML, 0, NULL, &c, &e) == 0 && gan_config_apply_overrides(&c, 1, ov_bad, &e) == -1 &&
               strstr(e.msg, "is more than 4 times"), "threads in a resume's override: %s", e.msg);

    // The command line's integers: the same rules, overflow included.
    int64_t x = 7;
    TEST_CHECK(gan_config_read_int("--seed", "99999999999999999999999", 0, INT64_MAX, &x, &e) == -1 && x == 7 &&
               !strcmp(e.msg, "--seed: expected an integer in [0, 9223372036854775807], got '99999999999999999999999'"),
               "read_int overflow: %s", e.msg);
    TEST_CHECK(gan_config_read_int("--n", " 5", 1, 9, &x, &e) == -1 && gan_config_read_int("--n", "0x5", 1, 9, &x, &e) == -1 &&
               gan_config_read_int("--n", "", 1, 9, &x, &e) == -1 && gan_config_read_int("--n", "10", 1, 9, &x, &e) == -1,
               "read_int junk");
    TEST_CHECK(gan_config_read_int("--n", "+9", 1, 9, &x, &e) == 0 && x == 9, "read_int: %s", e.msg);

    // Text longer than a message: cut with "...", the reason whole, one line.
    char key[1100] = "train.", ov[1200];
    memset(key + 6, 'k', 1000);
    key[1006] = '\0';
    snprintf(ov, sizeof ov, "%s=1", key);
    EXPECT_OVERRIDE_ERROR(ov, "override 'train.kkk", "...': unknown key 'train.kkk", "...'; keys are section.key paths");
    TEST_CHECK(strlen(e.msg) < sizeof e.msg - 1, "a cut message fits");
    snprintf(ov, sizeof ov, "train.steps=%s", key);
    EXPECT_OVERRIDE_ERROR(ov, "...': train.steps: expected an integer >= 1, got 'train.kkk", "kkk...'");
    snprintf(yaml, sizeof yaml, "%s%s: 1\n", REQUIRED_YAML, key + 6);
    char *big = malloc(4096);
    snprintf(big, 4096, "%s%s: 1\n", REQUIRED_YAML, key + 6);
    EXPECT_ERROR(big, "exp.yaml:13:1: unknown top-level key 'kkk", "...'; valid keys: name, seed");
    free(big);
    char source[3000];
    memset(source, 'd', sizeof source);
    memcpy(source + sizeof source - 10, "/exp.yaml", 10);
    TEST_CHECK(gan_config_parse(with_line(7, "  steps: -1\n"), source, 0, NULL, &c, &e) == -1 &&
               !strncmp(e.msg, "...ddd", 6) && strlen(e.msg) < 300 &&
               strstr(e.msg, "d/exp.yaml:7:10: train.steps: expected an integer >= 1, got '-1'"),
               "a long file name keeps its end: %s", e.msg);
    // Cut on a character boundary, control characters shown as '?'.
    char accents[200] = "";
    for (int i = 0; i < 50; i++) strcat(accents, "\xc3\xa9");
    gan_clipped cl = gan_config_clip(accents);
    TEST_CHECK(strlen(cl.s) == 83 && !strcmp(cl.s + 80, "..."), "clipped to 80 bytes of whole characters: %s", cl.s);
    char odd[210] = "a";  // byte 80 is now the second half of a character: that one goes whole
    strcat(odd, accents);
    cl = gan_config_clip(odd);
    TEST_CHECK(strlen(cl.s) == 82 && !strcmp(cl.s + 79, "..."), "not cut inside a character: %s", cl.s);
    TEST_CHECK(!strcmp(gan_config_clip("a\tb\n").s, "a?b?"), "control characters");
    TEST_CHECK(!strcmp(gan_config_clip("short").s, "short"), "short text is whole");
}

static void test_schema_and_docs(void) {
    const gan_cfg_schema *s = &gan_config_schema;
    for (int i = 0; i < s->nkeys; i++) {
        const gan_cfg_key *k = &s->keys[i];
        char parent[128];
        gan_cfg_parent(k->path, parent, sizeof parent);
        TEST_CHECK(!*parent || (gan_cfg_find(s, parent) >= 0 &&
                                s->keys[gan_cfg_find(s, parent)].type == GAN_CFG_SECTION &&
                                gan_cfg_find(s, parent) < i), "%s: its section comes first", k->path);
        TEST_CHECK(k->help && *k->help && !strchr(k->help, '\n'), "%s: one line of help", k->path);
        TEST_CHECK(!(k->required && k->def), "%s: required with a default", k->path);
        TEST_CHECK(gan_cfg_find(s, k->path) == i, "%s: listed twice", k->path);
    }

    char *docs;
    gan_err e;
    TEST_CHECK(gan_fs_read_all(GAN_DOCS_DIR "/config.md", &docs, NULL, &e) == 0, "%s", e.msg);
    char *help = NULL;
    size_t help_n = 0;
    FILE *f = open_memstream(&help, &help_n);
    gan_config_print_schema(f);
    fclose(f);
    for (int i = 0; i < s->nkeys; i++) {
        const gan_cfg_key *k = &s->keys[i];
        char needle[160];
        TEST_CHECK(strstr(help, k->path), "--help lacks %s", k->path);
        if (k->type == GAN_CFG_SECTION) {
            snprintf(needle, sizeof needle, "`%s:`", k->path);
            TEST_CHECK(strstr(docs, needle), "docs/config.md lacks section %s", needle);
            continue;
        }
        // A table row "| `train.lr_g` | ... | `0.0002` | ..." with the default, or "required".
        snprintf(needle, sizeof needle, "| `%s` |", k->path);
        const char *row = strstr(docs, needle);
        TEST_CHECK(row, "docs/config.md has no row %s", needle);
        if (!row) continue;
        size_t len = strcspn(row, "\n");
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)len, row);
        char want[96];
        if (k->required) snprintf(want, sizeof want, "required");
        else if (k->def) snprintf(want, sizeof want, "`%s`", k->def);
        if (k->required || k->def) {
            TEST_CHECK(strstr(line, want), "docs row of %s lacks %s: %s", k->path, want, line);
            continue;
        }
        // Neither required nor a literal default (the run name): the default is a rule, which
        // --help states after "default:" and the row's default column states in words.
        TEST_CHECK(strstr(k->help, "default: "), "%s: neither required nor a default, and its help does not say "
                   "what happens without it: %s", k->path, k->help);
        char cell[1024];
        TEST_CHECK(table_cell(line, 2, cell, sizeof cell) && *cell && strcmp(cell, "required") && cell[0] != '`',
                   "docs row of %s: the default column should describe the default in words: %s", k->path, line);
    }
    free(help);
    free(docs);
}

int main(void) {
    test_good_file();
    test_defaults();
    test_unknown_keys();
    test_wrong_types();
    test_accepted_numbers();
    test_out_of_range();
    test_enums();
    test_missing_and_structure();
    test_files();
    test_overrides();
    test_round_trip();
    test_edit_distance();
    test_when();
    test_adversarial();
    test_schema_and_docs();
    test_losses();
    return test_finish();
}
