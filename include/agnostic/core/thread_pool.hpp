#pragma once
// agnostic's own worker threads: the pool that runs the chunks of parallel_chunks (core/threads.hpp),
// and the rule by which its idle threads wait.
//
// Why its own pool: how idle threads wait between parallel regions decides most of the speed of small
// kernels, and no fixed setting is best everywhere (benchmarks/README.md): a thread that spins a
// little catches the next region at once on an idle node, while on a node where other work competes
// for the cores every spin steals the time of the thread a region waits for. libgomp reads its
// setting once, from the environment, at start-up; this pool decides from what it observes while it
// runs, so that no environment variable and no re-execution is needed.
//
// How it works. Each thread that calls parallel_chunks with more than one chunk gets a pool of its own
// (thread_local, created at its first such call, its workers joined when that thread ends), so that
// threads of the program (trials of `agnostic tune --parallel-trials`) never wait for each other.
// A region of n chunks on t threads gives thread p (the caller is 0, worker p is p) the contiguous
// block of chunks [p n / t, (p + 1) n / t): with as many chunks as threads, the calling thread runs
// chunk 0 and worker c runs chunk c. With more chunks than threads, a thread that has run its own
// block takes the next chunk not yet started from the others' blocks, so that a thread that lost its
// core holds up the region by one chunk, not by its whole block. Who runs a chunk never changes its
// arithmetic (that of a serial loop over its rows), so the bits depend on the chunks, not on the
// threads. A worker waiting for work spins for at most `spin_ns`, then blocks on a futex (a
// condition-variable-like kernel wait on one word; std::atomic wait elsewhere than Linux). The
// caller waits for the region's chunks in the same way. Every 16 regions the caller gathers what the
// waits showed and next_spin_state sets the spin length for the next ones:
//   - contention: spinning threads lost their core (a clock, read every 32 pauses, jumped by more
//     than kPreemptedGapNs; or a thread was spinning when its work came and started it that much
//     later) in more than a quarter as many waits as caught their work spinning: the spin is cut to
//     a quarter, and it may grow again only after twice as many calm windows as before (patience).
//     A share, not any one loss: on an idle 2-core VM a lone interruption of 50-125 us (an
//     interrupt, a kernel thread, the two threads on one core for a moment after a wake-up) hits
//     4-15 % of the windows of a long spin, which drove the spin to zero there, while beside a
//     competitor nearly every spin that catches its work has lost its core first;
//   - a wait that blocked although a spin of at most kMaxSpinNs would have caught its work, once
//     `patience` calm windows have passed: the spin doubles;
//   - spins that caught nothing while no blocked wait was within reach: the spin halves;
//   - every kMaxPatience calm windows in a row halve the patience.
// Involuntary context switches (getrusage) are no signal of contention here: threads that block
// preempt each other when one wakes the other on its core, so they rise with passive waiting even on
// an idle node (measured in docs/process.md).
// Exceptions thrown by a chunk are caught on its thread and the one of the lowest chunk is rethrown to
// the caller once every chunk has ended. A pool created before a fork() is abandoned in the child
// (whose copy of it has no workers) and a new one created there at first use. A call from inside a
// chunk, or from inside an OpenMP parallel region, runs its chunks one after the other on the calling
// thread (as nested OpenMP regions did).
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <vector>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "agnostic/core/error.hpp"

namespace agnostic {

// ---- the waiting rule (a pure function, tested on synthetic observations) ----

// The longest spin the rule allows (about libgomp's GOMP_SPINCOUNT=20000 on the development machine,
// where one pause instruction takes 28 ns), the shortest non-zero one, and the one a pool starts with.
inline constexpr long kMaxSpinNs = 500'000;
inline constexpr long kMinSpinNs = 2'000;
inline constexpr long kStartSpinNs = 50'000;
// A spinning thread whose clock jumps by more than this between two reads (32 pauses apart, about a
// microsecond), or that was spinning when its work was published and started it later than this,
// had lost its core while spinning.
inline constexpr long kPreemptedGapNs = 50'000;
// Regions per observation window, and the longest patience (calm windows before the spin may grow).
inline constexpr int kWindowRegions = 16;
inline constexpr int kMaxPatience = 256;
// A window is contended when kContendedShare times its waits that lost their core outnumber its waits
// that caught their work spinning.
inline constexpr int kContendedShare = 4;

// What the waits of one window of regions showed.
struct WaitObservation {
  int wakeups = 0;               // worker waits that ended with work to do
  int caught_spinning = 0;       // of them, found the work while spinning
  int blocked_within_reach = 0;  // blocked waits whose work came less than kMaxSpinNs after the wait began
  int preempted_spinning = 0;    // waits (of workers or the caller) that lost their core while spinning
};

// The spin length, and the memory of contention that keeps it from growing back at once.
struct SpinState {
  long spin_ns = kStartSpinNs;
  int calm_windows = 0;  // windows without contention since the last one with
  int patience = 1;      // calm windows needed before the spin may grow
};

inline bool contended(const WaitObservation& o) {
  return o.preempted_spinning > 0 && kContendedShare * o.preempted_spinning > o.caught_spinning;
}

// The rule, window by window (the header comment says why).
inline SpinState next_spin_state(SpinState s, const WaitObservation& o) {
  if (contended(o)) {
    s.spin_ns = s.spin_ns / 4 < kMinSpinNs ? 0 : s.spin_ns / 4;
    s.calm_windows = 0;
    s.patience = std::min(2 * s.patience, kMaxPatience);
    return s;
  }
  ++s.calm_windows;
  if (o.blocked_within_reach > 0 && s.calm_windows >= s.patience)
    s.spin_ns = std::clamp(2 * s.spin_ns, kMinSpinNs, kMaxSpinNs);
  else if (o.blocked_within_reach == 0 && o.wakeups > 0 && o.caught_spinning == 0 && s.spin_ns > 0)
    s.spin_ns = s.spin_ns / 2 < kMinSpinNs ? 0 : s.spin_ns / 2;
  if (s.calm_windows % kMaxPatience == 0) s.patience = std::max(1, s.patience / 2);
  return s;
}

// ---- waiting on one word ----

namespace thread_pool_detail {

inline long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Blocks while word == expected (returns at once if it differs; may return spuriously).
inline void block_while_equal(std::atomic<std::uint32_t>& word, std::uint32_t expected) {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr,
          0);
#else
  word.wait(expected, std::memory_order_seq_cst);
#endif
}

inline void wake_all(std::atomic<std::uint32_t>& word) {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr,
          0);
#else
  word.notify_all();
#endif
}

// How a spin ended: done() became true (caught) or spin_ns passed; whether the spinning thread lost
// its core meanwhile (its clock jumped by more than kPreemptedGapNs between two reads).
struct Spin {
  bool caught = false, preempted = false;
};

// Spins until done() or until spin_ns have passed.
template <class Done>
Spin spin_until(Done&& done, long spin_ns) {
  Spin spin;
  if (done()) {
    spin.caught = true;
    return spin;
  }
  if (spin_ns <= 0) return spin;
  long last = now_ns();
  const long until = last + spin_ns;
  for (;;) {
    for (int i = 0; i < 32; ++i) {
      cpu_relax();
      if (done()) {
        spin.caught = true;
        spin.preempted = spin.preempted || now_ns() - last > kPreemptedGapNs;
        return spin;
      }
    }
    const long now = now_ns();
    spin.preempted = spin.preempted || now - last > kPreemptedGapNs;
    last = now;
    if (now >= until) return spin;
  }
}

// Bumped in a forked child: pools made before the fork have no workers there.
inline std::atomic<unsigned>& fork_generation() {
  static std::atomic<unsigned> generation{0};
  return generation;
}
inline void count_fork_in_child() {
  fork_generation().fetch_add(1, std::memory_order_relaxed);
}
inline void watch_forks() {
  static const bool registered = pthread_atfork(nullptr, nullptr, count_fork_in_child) == 0;
  (void)registered;
}

// True on a pool's worker threads, and on a calling thread while it runs its region.
inline bool& inside_region() {
  static thread_local bool inside = false;
  return inside;
}

}  // namespace thread_pool_detail

// ---- the pool ----

class ThreadPool {
 public:
  using ChunkFunction = void (*)(void* body, int chunk);

  ThreadPool() : generation_(thread_pool_detail::fork_generation().load(std::memory_order_relaxed)) {}
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Wakes and joins the workers (none are running a chunk: the owner thread is here).
  ~ThreadPool() {
    stop_.store(true, std::memory_order_seq_cst);
    for (auto& w : workers_) {
      w->ticket.fetch_add(1, std::memory_order_seq_cst);
      thread_pool_detail::wake_all(w->ticket);
    }
    for (auto& w : workers_) pthread_join(w->thread, nullptr);
  }

  // Runs chunk_function(body, c) for c = 0 .. chunks-1 on `threads` threads (the caller and threads-1
  // workers; at most one per chunk). Thread p owns the contiguous block of chunks
  // [p * chunks / threads, (p + 1) * chunks / threads) and runs them in order; with more chunks than
  // threads, a thread that has run its own block takes the next chunk not yet started from the
  // others' blocks. Returns when every chunk has ended; rethrows the exception of the lowest chunk
  // that threw.
  void run(int chunks, int threads, ChunkFunction chunk_function, void* body) {
    threads = std::clamp(threads, 1, chunks);
    require(chunks <= kMaxChunks, "parallel_chunks: ", chunks, " chunks, at most ", kMaxChunks,
            " are allowed");
    require(threads <= kMaxThreads, "parallel_chunks: ", threads, " threads, at most ", kMaxThreads,
            " are allowed; lower the thread count (set_threads, --threads or OMP_NUM_THREADS)");
    add_workers(threads - 1);
    run_ = chunk_function;
    body_ = body;
    if (static_cast<int>(errors_.size()) < chunks) errors_.resize(static_cast<std::size_t>(chunks));
    published_ns_.store(thread_pool_detail::now_ns(), std::memory_order_relaxed);
    remaining_.store(static_cast<std::uint32_t>(chunks), std::memory_order_relaxed);
    const std::uint32_t region = ++region_;
    for (int p = 0; p < threads; ++p)
      blocks_[p].word.store(
          block_word(region, chunks * p / threads, chunks * (p + 1) / threads, chunks > threads),
          std::memory_order_seq_cst);
    for (int p = 1; p < threads; ++p) {
      Worker& w = *workers_[static_cast<std::size_t>(p - 1)];
      w.ticket.store(region, std::memory_order_seq_cst);
      if (w.sleeping.load(std::memory_order_seq_cst) != 0) thread_pool_detail::wake_all(w.ticket);
    }
    thread_pool_detail::inside_region() = true;
    run_blocks(region, 0, threads);
    thread_pool_detail::inside_region() = false;
    wait_for_chunks();
    std::exception_ptr first_error;
    for (int c = 0; c < chunks; ++c) {
      std::exception_ptr& e = errors_[static_cast<std::size_t>(c)];
      if (e && !first_error) first_error = e;
      e = nullptr;
    }
    if (++regions_in_window_ >= kWindowRegions) close_window();
    if (first_error) std::rethrow_exception(first_error);
  }

  long spin_ns() const { return spin_ns_.load(std::memory_order_relaxed); }
  int workers() const { return static_cast<int>(workers_.size()); }
  bool made_in_this_process() const {
    return generation_ == thread_pool_detail::fork_generation().load(std::memory_order_relaxed);
  }

  // The most chunks one region may have (a block's chunk numbers are kept in 15 bits), and the most
  // threads (the blocks are allocated once, with the pool, so that a thread still reading them never
  // sees them move).
  static constexpr int kMaxChunks = (1 << 15) - 1;
  static constexpr int kMaxThreads = 1024;

 private:
  struct alignas(64) Worker {
    std::atomic<std::uint32_t> ticket{0};    // the caller stores the region's number to hand it over
    std::atomic<std::uint32_t> sleeping{0};  // 1 while blocked on ticket
    int index = 0;                           // the thread's number in a region (the caller is 0)
    pthread_t thread{};
  };

  // A thread's block of chunks in the current region, in one word so that a claim is one
  // compare-and-swap: the region's number (a thread still looking at an earlier region claims
  // nothing), the next chunk not yet started, the end of the block, and whether other threads may
  // take its chunks.
  struct alignas(64) Block {
    std::atomic<std::uint64_t> word{0};
  };
  static std::uint64_t block_word(std::uint32_t region, int next, int end, bool shared) {
    return std::uint64_t{region} << 32 | std::uint64_t(shared ? 1 : 0) << 31 |
           std::uint64_t(static_cast<std::uint32_t>(end)) << 16 | static_cast<std::uint32_t>(next);
  }

  // The next chunk of block `b` in region `region`, or -1 when none is left (or the region is over,
  // or the block is not shared and `own` is false).
  int claim(std::uint32_t region, int b, bool own) {
    std::atomic<std::uint64_t>& word = blocks_[b].word;
    std::uint64_t w = word.load(std::memory_order_acquire);
    for (;;) {
      const int next = static_cast<int>(w & 0xffff), end = static_cast<int>(w >> 16 & 0x7fff);
      const bool shared = (w >> 31 & 1) != 0;
      if (static_cast<std::uint32_t>(w >> 32) != region || next >= end || (!own && !shared)) return -1;
      if (word.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel, std::memory_order_acquire))
        return next;
    }
  }

  // Thread p's part of a region: its own block, then (when blocks are shared) what is left of the
  // others', starting with the next thread's.
  void run_blocks(std::uint32_t region, int p, int threads) {
    for (int c; (c = claim(region, p, true)) >= 0;) run_chunk(c);
    for (int q = 1; q < threads; ++q)
      for (int c; (c = claim(region, (p + q) % threads, false)) >= 0;) run_chunk(c);
  }

  void run_chunk(int c) {
    try {
      run_(body_, c);
    } catch (...) {
      errors_[static_cast<std::size_t>(c)] = std::current_exception();
    }
    if (remaining_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        caller_sleeping_.load(std::memory_order_seq_cst) != 0)
      thread_pool_detail::wake_all(remaining_);
  }

  void add_workers(int wanted) {
    thread_pool_detail::watch_forks();
    while (static_cast<int>(workers_.size()) < wanted) {
      auto w = std::make_unique<Worker>();
      w->index = static_cast<int>(workers_.size()) + 1;
      auto* start = new StartArguments{this, w.get()};
      pthread_attr_t attributes;
      pthread_attr_init(&attributes);
      // At least 8 MiB of stack, as the main thread has: Eigen's packing buffers of a chunk's products
      // live on the stack (core/matrix.hpp raises Eigen's stack-allocation limit).
      std::size_t stack = 0;
      pthread_attr_getstacksize(&attributes, &stack);
      pthread_attr_setstacksize(&attributes, std::max<std::size_t>(stack, std::size_t{8} << 20));
      const int failed = pthread_create(&w->thread, &attributes, &ThreadPool::worker_main, start);
      pthread_attr_destroy(&attributes);
      if (failed != 0) {
        delete start;
        fail("parallel_chunks: could not start worker thread ", w->index, " (pthread_create error ", failed,
             "); lower the thread count (set_threads, --threads or OMP_NUM_THREADS)");
      }
      workers_.push_back(std::move(w));
    }
  }

  struct StartArguments {
    ThreadPool* pool;
    Worker* worker;
  };
  static void* worker_main(void* p) {
    const StartArguments start = *static_cast<StartArguments*>(p);
    delete static_cast<StartArguments*>(p);
    start.pool->work(*start.worker);
    return nullptr;
  }

  void work(Worker& w) {
    thread_pool_detail::inside_region() = true;
    std::uint32_t seen = 0;
    for (;;) {
      const long idle_since = thread_pool_detail::now_ns();
      const thread_pool_detail::Spin spin = thread_pool_detail::spin_until(
          [&] { return w.ticket.load(std::memory_order_acquire) != seen; }, spin_ns());
      const bool caught = spin.caught;
      if (!caught) {
        w.sleeping.store(1, std::memory_order_seq_cst);
        while (w.ticket.load(std::memory_order_seq_cst) == seen)
          thread_pool_detail::block_while_equal(w.ticket, seen);
        w.sleeping.store(0, std::memory_order_relaxed);
      }
      seen = w.ticket.load(std::memory_order_acquire);
      if (stop_.load(std::memory_order_acquire)) return;
      const long started = thread_pool_detail::now_ns(),
                 published = published_ns_.load(std::memory_order_relaxed);
      // What this wait showed, counted before the first chunk ends (so the caller, which waits for the
      // chunks, sees it in the same region whenever this thread took part in it).
      wakeups_.fetch_add(1, std::memory_order_relaxed);
      if (caught) caught_spinning_.fetch_add(1, std::memory_order_relaxed);
      if (spin.preempted || (caught && started - published > kPreemptedGapNs))
        preempted_spinning_.fetch_add(1, std::memory_order_relaxed);
      if (!caught && published - idle_since < kMaxSpinNs)
        blocked_within_reach_.fetch_add(1, std::memory_order_relaxed);
      run_blocks(seen, w.index, threads_of(seen, w.index));
    }
  }

  // The thread count of region `region` as worker `index` can know it: the number of blocks tagged
  // with the region (blocks of other regions claim nothing, so a count that is too small only skips
  // them).
  int threads_of(std::uint32_t region, int index) const {
    int n = index + 1;
    while (n < kMaxThreads &&
           static_cast<std::uint32_t>(blocks_[n].word.load(std::memory_order_acquire) >> 32) == region)
      ++n;
    return n;
  }

  void wait_for_chunks() {
    const thread_pool_detail::Spin spin = thread_pool_detail::spin_until(
        [&] { return remaining_.load(std::memory_order_acquire) == 0; }, spin_ns());
    if (spin.preempted) preempted_spinning_.fetch_add(1, std::memory_order_relaxed);
    if (spin.caught) return;
    caller_sleeping_.store(1, std::memory_order_seq_cst);
    for (std::uint32_t left; (left = remaining_.load(std::memory_order_seq_cst)) != 0;)
      thread_pool_detail::block_while_equal(remaining_, left);
    caller_sleeping_.store(0, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
  }

  void close_window() {
    WaitObservation observed;
    observed.wakeups = wakeups_.exchange(0, std::memory_order_relaxed);
    observed.caught_spinning = caught_spinning_.exchange(0, std::memory_order_relaxed);
    observed.blocked_within_reach = blocked_within_reach_.exchange(0, std::memory_order_relaxed);
    observed.preempted_spinning = preempted_spinning_.exchange(0, std::memory_order_relaxed);
    state_ = next_spin_state(state_, observed);
    spin_ns_.store(state_.spin_ns, std::memory_order_relaxed);
    regions_in_window_ = 0;
  }

  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Block[]> blocks_ =
      std::make_unique<Block[]>(kMaxThreads);  // thread p's chunks (0: the caller)
  // The region being run: written by the caller before its blocks and tickets are published, read by
  // a thread only after it has claimed a chunk of it.
  ChunkFunction run_ = nullptr;
  void* body_ = nullptr;
  std::vector<std::exception_ptr> errors_;  // errors_[c]: what chunk c threw
  std::uint32_t region_ = 0;
  std::atomic<long> published_ns_{0};
  std::atomic<std::uint32_t> remaining_{0};        // chunks of the region not yet ended
  std::atomic<std::uint32_t> caller_sleeping_{0};  // 1 while the caller is blocked on remaining_
  std::atomic<bool> stop_{false};
  std::atomic<long> spin_ns_{kStartSpinNs};
  // What the waits of the current window showed (counted by the waiting threads), and the rule's state.
  std::atomic<int> wakeups_{0}, caught_spinning_{0}, blocked_within_reach_{0}, preempted_spinning_{0};
  SpinState state_{};
  int regions_in_window_ = 0;
  unsigned generation_;
};

// The calling thread's pool (created at first use). In a child forked after the pool was made the old
// pool has no workers: it is left alone (its memory kept) and a new one made.
inline ThreadPool& this_threads_pool() {
  struct Holder {
    ThreadPool* pool = nullptr;
    ~Holder() {
      if (pool != nullptr && pool->made_in_this_process()) delete pool;
    }
  };
  static thread_local Holder holder;
  if (holder.pool == nullptr || !holder.pool->made_in_this_process()) holder.pool = new ThreadPool();
  return *holder.pool;
}

}  // namespace agnostic
