// What one training step measured: a short list of named values. The model families fill it,
// the trainer averages it into metrics.jsonl and the progress line shows it, so it lives below
// all three.
#pragma once

#define GAN_STATS_MAX 12

// names[0] and names[1] are always "loss_d" and "loss_g". A value is NAN when the step did not
// measure it (a lazy regulariser that did not run).
typedef struct gan_stats {
    int n;
    const char *names[GAN_STATS_MAX];
    float values[GAN_STATS_MAX];
} gan_stats;
