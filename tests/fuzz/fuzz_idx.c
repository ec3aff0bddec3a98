// IDX files (data/idx.c, idx_file.c, labels.c): the input is an IDX file, read as images and as
// labels. Its plain bytes go through the reader as they are (a .gz input is then a gzip stream,
// usually a damaged one); an input that is not gzip already is also gzipped here and read as
// .idx.gz, so that the fuzzer's changes to the header and the data reach the gzip paths too
// (the buffer that grows as data arrives, the trailer check, data.limit).
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "dataset.h"
#include "fuzz_common.h"
#include "labels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all_ways(const char *path, int64_t limit) {
    gan_err err;
    gan_dataset ds;
    gan_data_opts o = {.path = path, .format = GAN_DATA_AUTO, .limit = limit};
    // AUTO sniffs (any IDX magic, or a gzip stream zlib cannot read) before the reader runs;
    // IDX sends everything to the reader, so its own refusals are reached too.
    if (gan_dataset_load(&o, &ds, &err) == 0) gan_dataset_free(&ds);
    o.format = GAN_DATA_IDX;
    o.channels = 3;  // the gray-to-RGB conversion after a successful read
    if (gan_dataset_load(&o, &ds, &err) == 0) gan_dataset_free(&ds);
    int64_t n;
    free(gan_labels_load(path, limit, 10, &n, &err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[GAN_PATH_MAX];
    fuzz_write("images.idx", data, size, path);
    read_all_ways(path, 0);
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) return 0;
    uLongf zsize = compressBound(size) + 32;
    uint8_t *gz = malloc(zsize);
    z_stream z = {0};
    // windowBits 16 + 15: a gzip wrapper, as gzip(1) writes it.
    if (deflateInit2(&z, 1, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) fuzz_fail("deflateInit2");
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)size;
    z.next_out = gz;
    z.avail_out = (uInt)zsize;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) fuzz_fail("deflate");
    size_t gsize = z.total_out;
    deflateEnd(&z);
    fuzz_write("images.idx.gz", gz, gsize, path);
    free(gz);
    read_all_ways(path, size % 3);  // data.limit 0 (all), 1 or 2
    return 0;
}
