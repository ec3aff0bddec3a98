#include "signals.h"

#include <signal.h>
#include <string.h>

// The one piece of process-global state outside the engine: a signal handler can only talk to
// the loop through a static flag.
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) {
    if (stop_signal) signal(sig, SIG_DFL);  // second signal: let the next one kill
    stop_signal = sig;
}

void gan_signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool gan_signals_stop_requested(void) { return stop_signal != 0; }
int gan_signals_which(void) { return (int)stop_signal; }
