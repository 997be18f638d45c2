// How a long-running server keeps its heap from growing with every session it ever held: a
// malloc policy set once at start (few arenas, large blocks always mapped so freeing returns
// them), and a trim after each session is torn down so the pages it freed go back to the system.
// Must never be called per request (trimming walks the heap), only at start and after a close.
#pragma once

namespace duet::server {

// Sets the process's malloc policy for serving (glibc; a no-op elsewhere). Call once, before the
// engine and the server start threads.
void apply_server_heap_policy();

// Returns freed heap pages to the system (glibc malloc_trim; a no-op elsewhere).
void release_free_heap();

}  // namespace duet::server
