// The backend a run computes on, by the name a user gave: a config's `device` key or a
// command's --device ("cpu", "cuda", "cuda:1"). Every command opens its backend here, so the
// message for a name this build lacks is the same everywhere.
#pragma once
#include "backend.h"
#include "error.h"

// Opens the backend `device` names with `threads` host threads (0: all cores); `what` names
// where the name came from in messages ("device", "--device": "device nonesuch: no such
// backend in this build (built: cpu, cuda; ...)"). A name this build does not have
// is a usage error listing the built backends; a built backend whose device is absent here is a
// runtime error saying why. Close the result with ag_backend_close.
ag_backend *gan_device_open(const char *device, int threads, const char *what, gan_err *err);
