//! The memory allocator of every binary that links the server (`catalog-server`, `catalog-bench`
//! and the tests): mimalloc. The hot paths allocate per row and per message across threads
//! (a request decoded on one worker, its record built on the writer thread, freed on another),
//! where glibc's malloc spent a tenth of the time; `docs/benchmark-notes.md` has the A/B.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
