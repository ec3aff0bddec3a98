// Reading a file libhdf5 may crash on, without crashing gan.
//
// The HDF5 project does not promise that crafted files are handled safely, and fuzzing found
// dozens of inputs that crash libhdf5 1.10.8 inside its own code (docs/reliability.md,
// "Fuzzing"). So before a command reads a checkpoint a user gave it, a child process reads the
// whole file first: every object, every attribute and every dataset, as the command's reads
// would parse them. The command goes on only when the child finished; a child that died is
// reported as one line, and nothing of the file was loaded.
#pragma once
#include "error.h"

// 0 when a child process read every object, attribute and dataset of `path` and exited (HDF5
// errors are not its business: the caller's reads report them, with their own messages); -1
// with err ("PATH: libhdf5 crashed reading this file (Segmentation fault): it is damaged or
// crafted, and nothing of it was loaded; ...") when the child was killed by a signal or did not
// finish within `seconds`.
int gan_h5_read_isolated(const char *path, double seconds, gan_err *err);
