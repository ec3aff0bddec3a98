#include <string.h>

#include "family.h"

extern const gan_family gan_family_dcgan, gan_family_stylegan2;

static const gan_family *const families[] = {&gan_family_dcgan, &gan_family_stylegan2};

const gan_family *gan_family_find(const char *type) {
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (!strcmp(families[i]->type, type)) return families[i];
    return NULL;
}
