// The server's malloc policy and trimming (see heap_policy.hpp).
// Must never change anything but glibc's tunables for this process.
#include "server/heap_policy.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace duet::server {

void apply_server_heap_policy() {
#if defined(__GLIBC__)
  // Every thread that allocates would otherwise get an arena of its own (up to 8 per core), each
  // keeping what it freed; sessions bring a dozen threads each.
  mallopt(M_ARENA_MAX, 2);
  // A fixed threshold (glibc raises it after each free of a mapped block, up to 32 MB, which
  // leaves session-sized buffers in the arenas for good): blocks from 256 KiB up are always
  // mapped, and unmapped when freed.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
}

void release_free_heap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace duet::server
