// Ctrl-C (SIGINT) and SIGTERM during training: the handler only records that a stop was asked
// for; the training loop finishes its step, writes a checkpoint and exits 0. A second signal
// while stopping restores the default action, so a stuck run can still be killed.
#pragma once
#include <stdbool.h>

void gan_signals_install(void);
bool gan_signals_stop_requested(void);
int gan_signals_which(void);  // the signal that asked, for the message
