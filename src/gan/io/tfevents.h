// TensorBoard event files: what the trainer writes so that `tensorboard --logdir runs/` shows a
// run's scalars, sample grids and config (docs/tensorboard.md).
//
// A file is a sequence of TFRecords, each one serialized tensorflow.Event message:
//   uint64 length (little-endian), uint32 masked CRC32C of those 8 bytes,
//   the data, uint32 masked CRC32C of the data
// where CRC32C is the Castagnoli CRC and mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8. The
// first record is an Event with file_version "brain.Event:2". The messages are encoded by hand
// (pbwire.h says why not protobuf-c); the field numbers are those of TensorBoard's event.proto,
// summary.proto, tensor.proto and tensor_shape.proto:
//   Event          wall_time 1 (double), step 2 (int64), file_version 3, summary 5,
//                  session_log 7
//   SessionLog     status 1 (START = 1)
//   Summary        value 1 (repeated)
//   Summary.Value  tag 1, simple_value 2 (float), image 4, tensor 8, metadata 9
//   Summary.Image  height 1, width 2, colorspace 3 (1 grey, 3 RGB), encoded_image_string 4
//   SummaryMetadata plugin_data 1 (PluginData: plugin_name 1), data_class 4 (TENSOR = 2)
//   TensorProto    dtype 1 (DT_STRING = 7), tensor_shape 2 (empty: a scalar), string_val 8
//
// The file is opened O_APPEND and only ever grows; each record goes in with one gan_fs_append,
// so a full disk leaves the records before it intact and no torn record (TensorBoard stops
// reading a file at a bad record). A failed write returns a gan_err naming the file.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "error.h"

// CRC-32C (Castagnoli, reflected polynomial 0x82f63b78, initial and final XOR 0xffffffff):
// gan_crc32c("123456789", 9) = 0xe3069283.
uint32_t gan_crc32c(const void *data, size_t n);
// The masked CRC TFRecords store: ((c >> 15) | (c << 17)) + 0xa282ead8 of c = gan_crc32c.
uint32_t gan_crc32c_masked(const void *data, size_t n);
// The framing of one record around n bytes of data: 12 bytes into head (length, its CRC) and 4
// into tail (the data's CRC).
void gan_tfrecord_frame(const void *data, size_t n, unsigned char head[12], unsigned char tail[4]);

typedef struct gan_tfevents gan_tfevents;

// Creates dir/events.out.tfevents.<10-digit unix seconds>.<host>.<pid> (never an existing file:
// each writer starts its own, and TensorBoard reads every file of a directory as one run, in
// the order of their names; the seconds are one more than the latest file's there when that is
// not earlier than now, so a new file always sorts last) and writes the file_version record.
// NULL with err set on failure.
gan_tfevents *gan_tfevents_open(const char *dir, gan_err *err);
// Closes the file (NULL is fine).
void gan_tfevents_close(gan_tfevents *ev);
const char *gan_tfevents_path(const gan_tfevents *ev);

// Every write below appends one Event at `step` with the current wall time; on failure err
// names the file and the reason ("RUN/events.out.tfevents...: cannot append: No space left on
// device; its earlier contents are intact").

// A SessionLog START. TensorBoard's Python loader drops, at every START after a run's first,
// the events of that run it read before with step >= this step: a resumed run writes one so
// that what an abandoned branch logged past the checkpoint disappears from the plots.
int gan_tfevents_session_start(gan_tfevents *ev, int64_t step, gan_err *err);
// n scalars (simple_value) in one Event: tags[i] = values[i].
int gan_tfevents_scalars(gan_tfevents *ev, int64_t step, int n, const char *const *tags, const float *values,
                         gan_err *err);
// An encoded PNG (size bytes) of height x width pixels with `channels` 1 (grey) or 3 (RGB).
int gan_tfevents_image(gan_tfevents *ev, int64_t step, const char *tag, const void *png, size_t size,
                       int height, int width, int channels, gan_err *err);
// A text (markdown, as TensorBoard's text plugin shows it): a scalar string tensor.
int gan_tfevents_text(gan_tfevents *ev, int64_t step, const char *tag, const char *text, gan_err *err);
