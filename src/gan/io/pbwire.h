// Protocol-buffer wire format, encoding only: just what tfevents.c needs to write TensorBoard's
// Event messages. A message is built in a growable buffer; a submessage is built in a buffer of
// its own and appended as a length-delimited field (gan_pb_message).
//
// Why not protobuf-c: an event file needs nine small messages of a few fields each, all of them
// varints, fixed-width numbers or length-delimited bytes. Encoding those is the few functions
// below; protobuf-c would add a dependency, generated code and the .proto files to build it
// from, for no check we do not make anyway (tests/test_tfevents.c compares these bytes with the
// Python protobuf library's, and tests/cli/test_tensorboard.sh decodes whole files with it).
//
// Values are written the way protobuf's own serializers write them: fields in the order called,
// integers as varints (a negative int64 as its 64-bit two's complement: ten bytes), double and
// float little-endian. Nothing here skips default values: the caller leaves out what it does
// not want written.
#pragma once
#include <stddef.h>
#include <stdint.h>

enum { GAN_PB_VARINT = 0, GAN_PB_FIXED64 = 1, GAN_PB_BYTES = 2, GAN_PB_FIXED32 = 5 };

typedef struct gan_pb {
    unsigned char *data;  // malloc'd; NULL while empty
    size_t len, cap;
} gan_pb;

void gan_pb_free(gan_pb *b);
// A raw base-128 varint (1 to 10 bytes).
void gan_pb_varint(gan_pb *b, uint64_t v);
// A field's key: (field << 3) | wire type, as a varint.
void gan_pb_key(gan_pb *b, int field, int wire_type);
// Varint fields: uint32/uint64/bool/enum, and int32/int64 (gan_pb_int: sign-extended to 64 bits).
void gan_pb_uint(gan_pb *b, int field, uint64_t v);
void gan_pb_int(gan_pb *b, int field, int64_t v);
void gan_pb_double(gan_pb *b, int field, double v);
void gan_pb_float(gan_pb *b, int field, float v);
// string and bytes fields (n bytes of data; data may be NULL when n is 0).
void gan_pb_bytes(gan_pb *b, int field, const void *data, size_t n);
void gan_pb_string(gan_pb *b, int field, const char *s);
// A submessage field: sub's bytes, length-delimited.
void gan_pb_message(gan_pb *b, int field, const gan_pb *sub);
