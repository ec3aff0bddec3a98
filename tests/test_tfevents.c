// TensorBoard event files (tfevents.h, pbwire.h): CRC-32C against published test vectors, the
// masked CRC and a record's framing against tools/read_tfevents.py's Python implementation, and
// the protobuf encodings against bytes serialized by the Python protobuf library (4.21, Debian 12's
// python3-protobuf, with the message definitions of tools/read_tfevents.py):
//   Event(step=300).SerializeToString() and so on, as each case says.
// Then whole files written through the public functions, read back record by record; an
// Event's wall time (field 1, the first 9 bytes) is the clock's, so it is checked for being
// now and the rest of the record byte for byte.
#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "pbwire.h"
#include "test.h"
#include "tfevents.h"

#define BYTES(s) (const unsigned char *)(s), sizeof(s) - 1

static void check_bytes(const char *what, const unsigned char *got, size_t n, const unsigned char *want, size_t m) {
    TEST_CHECK(n == m && memcmp(got, want, n) == 0, "%s: %zu bytes, expected %zu%s", what, n, m,
               n == m ? " (contents differ)" : "");
}

static void check_pb(const char *what, gan_pb *b, const unsigned char *want, size_t m) {
    check_bytes(what, b->data, b->len, want, m);
    gan_pb_free(b);
}

static void test_crc(void) {
    // RFC 3720 (iSCSI) B.4's vectors and the usual check value.
    unsigned char zeros[32] = {0}, ones[32], up[32], down[32];
    for (int i = 0; i < 32; i++) ones[i] = 0xff, up[i] = (unsigned char)i, down[i] = (unsigned char)(31 - i);
    TEST_CHECK(gan_crc32c("123456789", 9) == 0xe3069283u, "crc32c(123456789) = %#x", gan_crc32c("123456789", 9));
    TEST_CHECK(gan_crc32c(zeros, 32) == 0x8a9136aau, "crc32c(32 zeros) = %#x", gan_crc32c(zeros, 32));
    TEST_CHECK(gan_crc32c(ones, 32) == 0x62a8ab43u, "crc32c(32 0xff) = %#x", gan_crc32c(ones, 32));
    TEST_CHECK(gan_crc32c(up, 32) == 0x46dd794eu, "crc32c(0..31) = %#x", gan_crc32c(up, 32));
    TEST_CHECK(gan_crc32c(down, 32) == 0x113fdb5cu, "crc32c(31..0) = %#x", gan_crc32c(down, 32));
    TEST_CHECK(gan_crc32c("", 0) == 0, "crc32c of nothing = %#x", gan_crc32c("", 0));
    // Masked, as read_tfevents.masked_crc computes them.
    TEST_CHECK(gan_crc32c_masked("123456789", 9) == 0xc78ab0e5u, "masked crc32c(123456789) = %#x",
               gan_crc32c_masked("123456789", 9));
    TEST_CHECK(gan_crc32c_masked(zeros, 32) == 0x0fd7fffau, "masked crc32c(32 zeros) = %#x",
               gan_crc32c_masked(zeros, 32));
    TEST_CHECK(gan_crc32c_masked("", 0) == 0xa282ead8u, "masked crc32c of nothing = %#x", gan_crc32c_masked("", 0));

    unsigned char head[12], tail[4];
    gan_tfrecord_frame("hello", 5, head, tail);
    check_bytes("the frame of \"hello\"", head, 12, BYTES("\x05\x00\x00\x00\x00\x00\x00\x00\xea\xb2\x04\x3e"));
    check_bytes("the data CRC of \"hello\"", tail, 4, BYTES("\xbb\x1f\x1c\x19"));
}

static void test_pbwire(void) {
    gan_pb b = {0};
    gan_pb_int(&b, 2, 300);  // Event(step=300)
    check_pb("varint 300", &b, BYTES("\x10\xac\x02"));
    gan_pb_int(&b, 2, -1);  // Event(step=-1): ten bytes of two's complement
    check_pb("varint -1", &b, BYTES("\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"));
    gan_pb_int(&b, 2, ((int64_t)1 << 40) + 5);  // Event(step=2**40+5)
    check_pb("varint 2^40 + 5", &b, BYTES("\x10\x85\x80\x80\x80\x80\x20"));
    gan_pb_int(&b, 2, 0);  // Event(step=0) under proto2 presence
    check_pb("varint 0", &b, BYTES("\x10\x00"));
    gan_pb_double(&b, 1, 1796059625.865);  // Event(wall_time=1796059625.865)
    check_pb("double 1796059625.865", &b, BYTES("\x09\x29\x5c\x77\x7a\x6c\xc3\xda\x41"));
    gan_pb_double(&b, 1, -0.1);  // Event(wall_time=-0.1)
    check_pb("double -0.1", &b, BYTES("\x09\x9a\x99\x99\x99\x99\x99\xb9\xbf"));
    gan_pb_float(&b, 2, -1234.5678f);  // SummaryValue(simple_value=-1234.5678)
    check_pb("float -1234.5678", &b, BYTES("\x15\x2b\x52\x9a\xc4"));
    // Event(wall_time=1.5, step=0, file_version="brain.Event:2")
    gan_pb_double(&b, 1, 1.5);
    gan_pb_int(&b, 2, 0);
    gan_pb_string(&b, 3, "brain.Event:2");
    check_pb("a file_version Event", &b,
             BYTES("\x09\x00\x00\x00\x00\x00\x00\xf8\x3f\x10\x00\x1a\x0d\x62\x72\x61\x69\x6e\x2e\x45\x76\x65\x6e\x74"
                   "\x3a\x32"));
    // A submessage: Event(wall_time=2.25, step=7, session_log=SessionLog(status=1))
    gan_pb log = {0};
    gan_pb_uint(&log, 1, 1);
    gan_pb_double(&b, 1, 2.25);
    gan_pb_int(&b, 2, 7);
    gan_pb_message(&b, 7, &log);
    gan_pb_free(&log);
    check_pb("a SessionLog Event", &b, BYTES("\x09\x00\x00\x00\x00\x00\x00\x02\x40\x10\x07\x3a\x02\x08\x01"));
    // A field number past 15 takes a two-byte key.
    gan_pb_uint(&b, 16, 1);
    check_pb("field 16", &b, BYTES("\x80\x01\x01"));
}

// The records of the one event file in dir, concatenated data, each record's data start in starts.
static int read_records(const char *dir, unsigned char **data, size_t *starts, size_t *lens, int max) {
    DIR *d = opendir(dir);
    char path[GAN_PATH_MAX] = "";
    int files = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (!strncmp(e->d_name, "events.out.tfevents.", 20)) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            files++;
        }
    if (d) closedir(d);
    TEST_CHECK(files == 1, "%d event files in %s, expected 1", files, dir);
    char *text;
    size_t size;
    gan_err err;
    if (files != 1 || gan_fs_read_all(path, &text, &size, &err) != 0) return -1;
    int n = 0;
    size_t pos = 0;
    while (pos + 12 <= size && n < max) {
        uint64_t len = 0;
        for (int i = 0; i < 8; i++) len |= (uint64_t)(unsigned char)text[pos + i] << (8 * i);
        if (pos + 16 + len > size) break;
        unsigned char head[12], tail[4];
        gan_tfrecord_frame(text + pos + 12, len, head, tail);
        TEST_CHECK(memcmp(head, text + pos, 12) == 0 && memcmp(tail, text + pos + 12 + len, 4) == 0,
                   "record %d: framing or CRC differs", n);
        starts[n] = pos + 12;
        lens[n++] = len;
        pos += 16 + len;
    }
    TEST_CHECK(pos == size, "%zu bytes after the last whole record", size - pos);
    *data = (unsigned char *)text;
    return n;
}

// Record i is `want` but for its wall time (bytes 1-8), which must be about now.
static void check_event(int i, const unsigned char *data, size_t start, size_t len, const unsigned char *want,
                        size_t m, double t0) {
    const unsigned char *rec = data + start;
    TEST_CHECK(len == m && rec[0] == 0x09 && memcmp(rec + 9, want + 9, m - 9) == 0,
               "record %d: %zu bytes, expected %zu, or contents differ", i, len, m);
    double wall;
    uint64_t bits = 0;
    for (int k = 0; k < 8; k++) bits |= (uint64_t)rec[1 + k] << (8 * k);
    memcpy(&wall, &bits, sizeof wall);
    // Within ten minutes of the test, not one second: the wall clock may be stepped while it runs
    // (a CI machine's clock was: records stamped 42 s before the test's own start).
    TEST_CHECK(wall >= t0 - 600 && wall <= (double)time(NULL) + 600, "record %d: wall time %.3f, not now", i, wall);
}

static void test_file(void) {
    char dir[] = "/tmp/test_tfevents.XXXXXX";
    TEST_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    double t0 = (double)time(NULL);
    gan_err err;
    gan_tfevents *ev = gan_tfevents_open(dir, &err);
    TEST_CHECK(ev != NULL, "open: %s", err.msg);
    if (!ev) return;
    const char *tags[] = {"loss/d", "speed/images_per_sec"};
    const float values[] = {0.5f, -1234.5678f};
    TEST_CHECK(gan_tfevents_session_start(ev, 7, &err) == 0, "session_start: %s", err.msg);
    TEST_CHECK(gan_tfevents_scalars(ev, 12, 2, tags, values, &err) == 0, "scalars: %s", err.msg);
    TEST_CHECK(gan_tfevents_image(ev, 3, "samples", "\x89PNG", 4, 62, 30, 1, &err) == 0, "image: %s", err.msg);
    TEST_CHECK(gan_tfevents_text(ev, 0, "config", "    seed: 3\n", &err) == 0, "text: %s", err.msg);
    gan_tfevents_close(ev);

    unsigned char *data = NULL;
    size_t starts[8], lens[8];
    int n = read_records(dir, &data, starts, lens, 8);
    TEST_CHECK(n == 5, "%d records, expected 5", n);
    if (n == 5) {
        // Event(wall_time=1.5, step=0, file_version="brain.Event:2")
        check_event(0, data, starts[0], lens[0],
                    BYTES("\x09\x00\x00\x00\x00\x00\x00\xf8\x3f\x10\x00\x1a\x0d\x62\x72\x61\x69\x6e\x2e\x45\x76\x65"
                          "\x6e\x74\x3a\x32"), t0);
        // Event(wall_time=2.25, step=7, session_log=SessionLog(status=1))
        check_event(1, data, starts[1], lens[1],
                    BYTES("\x09\x00\x00\x00\x00\x00\x00\x02\x40\x10\x07\x3a\x02\x08\x01"), t0);
        // Event(wall_time=3.0, step=12) with summary values (tag="loss/d", simple_value=0.5) and
        // (tag="speed/images_per_sec", simple_value=-1234.5678)
        check_event(2, data, starts[2], lens[2],
                    BYTES("\x09\x00\x00\x00\x00\x00\x00\x08\x40\x10\x0c\x2a\x2c\x0a\x0d\x0a\x06\x6c\x6f\x73\x73\x2f"
                          "\x64\x15\x00\x00\x00\x3f\x0a\x1b\x0a\x14\x73\x70\x65\x65\x64\x2f\x69\x6d\x61\x67\x65\x73"
                          "\x5f\x70\x65\x72\x5f\x73\x65\x63\x15\x2b\x52\x9a\xc4"), t0);
        // Event(wall_time=4.0, step=3), value tag="samples", image(height=62, width=30,
        // colorspace=1, encoded_image_string=b"\x89PNG")
        check_event(3, data, starts[3], lens[3],
                    BYTES("\x09\x00\x00\x00\x00\x00\x00\x10\x40\x10\x03\x2a\x19\x0a\x17\x0a\x07\x73\x61\x6d\x70\x6c"
                          "\x65\x73\x22\x0c\x08\x3e\x10\x1e\x18\x01\x22\x04\x89\x50\x4e\x47"), t0);
        // Event(wall_time=5.0, step=0), value tag="config", tensor(dtype=7, tensor_shape={},
        // string_val=[b"    seed: 3\n"]), metadata(plugin_data(plugin_name="text"), data_class=2)
        check_event(4, data, starts[4], lens[4],
                    BYTES("\x09\x00\x00\x00\x00\x00\x00\x14\x40\x10\x00\x2a\x2a\x0a\x28\x0a\x06\x63\x6f\x6e\x66\x69"
                          "\x67\x42\x12\x08\x07\x12\x00\x42\x0c\x20\x20\x20\x20\x73\x65\x65\x64\x3a\x20\x33\x0a\x4a"
                          "\x0a\x0a\x06\x0a\x04\x74\x65\x78\x74\x20\x02"), t0);
    }
    free(data);

    // A second writer in the same directory and second starts a file that sorts after the first.
    gan_tfevents *a = gan_tfevents_open(dir, &err);
    TEST_CHECK(a != NULL, "second open: %s", err.msg);
    if (a) {
        const char *name = strrchr(gan_tfevents_path(a), '/') + 1;
        DIR *d = opendir(dir);
        for (struct dirent *e; d && (e = readdir(d));)
            if (!strncmp(e->d_name, "events.", 7) && strcmp(e->d_name, name))
                TEST_CHECK(strcmp(e->d_name, name) < 0, "%s sorts after the newer %s", e->d_name, name);
        if (d) closedir(d);
        gan_tfevents_close(a);
    }

    // A directory that is not there: an error naming the file.
    gan_tfevents *bad = gan_tfevents_open("/nonexistent-dir-for-test_tfevents", &err);
    TEST_CHECK(bad == NULL && strstr(err.msg, "/nonexistent-dir-for-test_tfevents/events.out.tfevents.") &&
               strstr(err.msg, "No such file or directory"), "open in a missing directory: %s", err.msg);
    gan_tfevents_close(bad);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    TEST_CHECK(system(cmd) == 0, "%s", cmd);
}

int main(void) {
    test_crc();
    test_pbwire();
    test_file();
    return test_finish();
}
