// jemalloc's options for the executables that link it (corridor_use_jemalloc in the top
// CMakeLists.txt: the corridor binary and the benchmarks). jemalloc reads this symbol when it
// starts; the MALLOC_CONF environment variable is read after it and overrides any option
// (for example MALLOC_CONF=thp:default,dirty_decay_ms:10000 restores jemalloc's defaults).
//
// - thp:always: jemalloc asks the kernel for transparent huge pages (madvise) for the memory
//   it maps. Rule state is millions of small blocks reached at random; with 4 KiB pages
//   nearly every one an event touches also misses the TLB.
// - dirty_decay_ms:-1, muzzy_decay_ms:-1: freed pages stay with jemalloc for reuse instead of
//   going back to the kernel after ten seconds. The state's keys expire and new ones arrive
//   all the time; pages given back and taken again come back as fresh huge pages, which the
//   kernel must zero (and on some virtual machines the host must back again) first.
//
// Measured in benchmarks/README.md ("Eighth round"): at the rule benchmark's full scale with
// idle keys dropped, about a fifth to a third more events per second, resident memory 3 %
// higher. The cost: the process keeps the memory its state once needed.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "thp:always,dirty_decay_ms:-1,muzzy_decay_ms:-1";
}
