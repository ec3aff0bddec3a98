#include "pbwire.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "gan_check.h"

void gan_pb_free(gan_pb *b) {
    free(b->data);
    *b = (gan_pb){0};
}

static void put(gan_pb *b, const void *data, size_t n) {
    if (n == 0) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n) cap *= 2;
        b->data = gan_xrealloc(b->data, cap, "a protobuf message");
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

void gan_pb_varint(gan_pb *b, uint64_t v) {
    unsigned char out[10];
    size_t n = 0;
    do {
        out[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) out[n] |= 0x80;
        n++;
    } while (v);
    put(b, out, n);
}

void gan_pb_key(gan_pb *b, int field, int wire_type) {
    GAN_CHECK(field >= 1 && field < (1 << 29), "gan_pb_key: field number %d out of range", field);
    gan_pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wire_type);
}

void gan_pb_uint(gan_pb *b, int field, uint64_t v) {
    gan_pb_key(b, field, GAN_PB_VARINT);
    gan_pb_varint(b, v);
}

void gan_pb_int(gan_pb *b, int field, int64_t v) {
    gan_pb_uint(b, field, (uint64_t)v);  // two's complement, as protobuf writes int32 and int64
}

// Little-endian whatever the host's byte order.
static void put_le(gan_pb *b, uint64_t bits, int nbytes) {
    unsigned char out[8];
    for (int i = 0; i < nbytes; i++) out[i] = (unsigned char)(bits >> (8 * i));
    put(b, out, (size_t)nbytes);
}

void gan_pb_double(gan_pb *b, int field, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    gan_pb_key(b, field, GAN_PB_FIXED64);
    put_le(b, bits, 8);
}

void gan_pb_float(gan_pb *b, int field, float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    gan_pb_key(b, field, GAN_PB_FIXED32);
    put_le(b, bits, 4);
}

void gan_pb_bytes(gan_pb *b, int field, const void *data, size_t n) {
    gan_pb_key(b, field, GAN_PB_BYTES);
    gan_pb_varint(b, n);
    put(b, data, n);
}

void gan_pb_string(gan_pb *b, int field, const char *s) {
    gan_pb_bytes(b, field, s, strlen(s));
}

void gan_pb_message(gan_pb *b, int field, const gan_pb *sub) {
    gan_pb_bytes(b, field, sub->data, sub->len);
}
