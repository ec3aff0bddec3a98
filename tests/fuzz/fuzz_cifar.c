// CIFAR-10 binary batches (data/cifar10.c): the input is a batch file, read as a single .bin
// (format auto: by its name and size) and as the only data_batch_*.bin of a folder.
#include <stdint.h>
#include <stdlib.h>

#include "dataset.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char dir[GAN_PATH_MAX], path[GAN_PATH_MAX];
    fuzz_mkdir("cifar", dir);
    fuzz_write("cifar/data_batch_1.bin", data, size, path);
    gan_err err;
    gan_dataset ds;
    gan_data_opts o = {.path = path, .format = GAN_DATA_AUTO, .limit = (int64_t)(size % 3)};
    if (gan_dataset_load(&o, &ds, &err) == 0) gan_dataset_free(&ds);
    o = (gan_data_opts){.path = dir, .format = GAN_DATA_AUTO, .channels = 1};
    if (gan_dataset_load(&o, &ds, &err) == 0) gan_dataset_free(&ds);
    o = (gan_data_opts){.path = path, .format = GAN_DATA_CIFAR10};
    if (gan_dataset_load(&o, &ds, &err) == 0) gan_dataset_free(&ds);
    return 0;
}
