// How much more memory this process can take before an allocation fails or the kernel's
// out-of-memory killer steps in: the tightest of the machine's available memory, the process's
// address-space and data limits (ulimit -v, ulimit -d) and its cgroup's memory.max. The trainer
// compares its up-front estimate with it, so a run that cannot fit is refused before it starts
// instead of aborting in its first step.
#pragma once
#include <stdbool.h>
#include <stdint.h>

typedef struct gan_mem_room {
    bool known;      // false: no such limit could be read, nothing is refused by it
    uint64_t bytes;  // what is left under the tightest limit of its kind
    char what[96];   // that limit, for messages: "the address-space limit (ulimit -v)", ...
} gan_mem_room;

// Two kinds of limit: memory touched (the machine's available memory, the cgroup's memory.max)
// and address space reserved, touched or not (ulimit -v and -d). A growing buffer may reserve
// more than it ever touches, so each need is compared with the room of its own kind.
typedef struct gan_mem_rooms {
    gan_mem_room touched, reserved;
} gan_mem_rooms;

gan_mem_rooms gan_mem_rooms_now(void);

// "1.50 GiB", "320.0 MiB", "12.0 KiB": sizes for messages.
void gan_format_bytes(char *dst, int size, double bytes);
