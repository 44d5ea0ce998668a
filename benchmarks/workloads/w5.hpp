#pragma once
// W5: single-event inference for the trigger (see ../shared/BENCHMARKS.md): 26 -> 48 x 4 ReLU ->
// 3 softmax, one event at a time, the weights read from a model file (written at build time by
// w5-generate, which also writes the standalone header timed here).
//
// Four contestants run side by side, interleaved repeat by repeat so that a load on the shared
// machine hits them alike: infer::Network, the generated standalone header (compiled here with
// agnostic-bench's flags), and the hand-written Eigen fixed-size peer in both storage orders.
//   ns_per_event  independent events from a pool of 4096, total time / events (median of repeats)
//   latency_ns    each event's first feature depends on the previous event's output, so calls
//                 cannot overlap (median of repeats)
//   best_ns_per_event, best_latency_ns  the fastest repeat of each (on a loaded machine the
//                 median can include repeats interrupted by other processes)
//   median_ns, p99_ns  one clock reading around each of 200 000 single calls (includes the
//                 clock's own ~20 ns)
//   allocations_per_call  operator new calls counted over every timed call (this program's
//                 operator new is replaced by a counting one below)
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "../bench_options.hpp"
#include "../peers/w5_eigen.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/infer/network.hpp"
#include "w5_standalone.hpp"  // generated into the build directory by w5-generate

// ---- counting operator new (this program only; the count is read around W5's timed calls)
namespace w5_detail {
inline std::atomic<long> allocations{0};
// Out of line, so that GCC does not see free() applied to what operator new returned and warn.
[[gnu::noinline]] inline void release(void* p) noexcept {
  std::free(p);
}
}  // namespace w5_detail
void* operator new(std::size_t n) {
  w5_detail::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void* operator new(std::size_t n, std::align_val_t a) {
  w5_detail::allocations.fetch_add(1, std::memory_order_relaxed);
  const auto alignment = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(alignment, (n + alignment - 1) / alignment * alignment)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return operator new(n, a);
}
void operator delete(void* p) noexcept {
  w5_detail::release(p);
}
void operator delete[](void* p) noexcept {
  w5_detail::release(p);
}
void operator delete(void* p, std::size_t) noexcept {
  w5_detail::release(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  w5_detail::release(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  w5_detail::release(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  w5_detail::release(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  w5_detail::release(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  w5_detail::release(p);
}

namespace w5_detail {

constexpr std::size_t kFeatures = 26, kOutputs = 3, kPool = 4096;
constexpr long kSingleCalls = 200000;

struct Timing {
  std::vector<double> ns_per_event, latency_ns, single_ns;
  long allocations = 0, calls = 0;
};

template <class Evaluate>
void time_pool(Evaluate& evaluate, const std::vector<float>& pool, std::vector<float>& out, Timing& t) {
  const long before = allocations.load();
  auto start = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k < kPool; ++k) evaluate(pool.data() + k * kFeatures, out.data() + k * kOutputs);
  t.ns_per_event.push_back(seconds_since(start) * 1e9 / kPool);

  // Latency: the next event's first feature is shifted by the previous output.
  std::array<float, kFeatures> x{};
  std::array<float, kOutputs> y{};
  start = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k < kPool; ++k) {
    std::copy_n(pool.data() + k * kFeatures, kFeatures, x.data());
    x[0] += y[0];
    evaluate(x.data(), y.data());
  }
  t.latency_ns.push_back(seconds_since(start) * 1e9 / kPool);
  out[0] += y[0];  // keep the chain's result alive
  t.allocations += allocations.load() - before;
  t.calls += 2 * static_cast<long>(kPool);
}

template <class Evaluate>
void time_single_calls(Evaluate& evaluate, const std::vector<float>& pool, std::vector<float>& out, Timing& t,
                       long calls) {
  const long before = allocations.load();
  for (long c = 0; c < calls; ++c) {
    const std::size_t k = static_cast<std::size_t>(c) % kPool;
    const auto start = std::chrono::steady_clock::now();
    evaluate(pool.data() + k * kFeatures, out.data() + k * kOutputs);
    const auto stop = std::chrono::steady_clock::now();
    t.single_ns.push_back(std::chrono::duration<double, std::nano>(stop - start).count());
  }
  t.allocations += allocations.load() - before;
  t.calls += calls;
}

inline double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

inline nlohmann::json summary(const Timing& t) {
  const double med = percentile(t.single_ns, 0.5), p99 = percentile(t.single_ns, 0.99);
  return {{"ns_per_event", median(t.ns_per_event)},
          {"latency_ns", median(t.latency_ns)},
          {"best_ns_per_event", *std::min_element(t.ns_per_event.begin(), t.ns_per_event.end())},
          {"best_latency_ns", *std::min_element(t.latency_ns.begin(), t.latency_ns.end())},
          {"median_ns", med},
          {"p99_ns", p99},
          {"p99_over_median", p99 / med},
          {"allocations_per_call", static_cast<double>(t.allocations) / static_cast<double>(t.calls)}};
}

}  // namespace w5_detail

inline nlohmann::json run_w5(const BenchOptions& options) {
  using namespace agnostic;
  using namespace w5_detail;
  const auto model = io::read_model<float>(AGNOSTIC_W5_MODEL);
  const auto network = infer::load_network<infer::Network<float, 26, 48, 48, 48, 48, 3>>(AGNOSTIC_W5_MODEL);
  const auto col_major = std::make_unique<W5EigenColMajor>(model);
  const auto row_major = std::make_unique<W5EigenRowMajor>(model);

  Rng rng(5);
  std::vector<float> pool(kPool * kFeatures);
  for (std::size_t k = 0; k < kPool; ++k)
    for (std::size_t j = 0; j < kFeatures; ++j)
      pool[k * kFeatures + j] =
          static_cast<float>(-model.inputs.offset[j] + rng.normal() / model.inputs.scale[j]);
  std::vector<float> out(kPool * kOutputs), reference(kPool * kOutputs);

  auto run_network = [&](const float* x, float* y) { network->evaluate(x, y); };
  auto run_header = [&](const float* x, float* y) { w5_standalone::evaluate(x, y); };
  auto run_col = [&](const float* x, float* y) { col_major->evaluate(x, y); };
  auto run_row = [&](const float* x, float* y) { row_major->evaluate(x, y); };

  // Every contestant computes the same numbers (to float rounding) before any is timed.
  for (std::size_t k = 0; k < kPool; ++k)
    run_network(pool.data() + k * kFeatures, reference.data() + k * kOutputs);
  double worst = 0.0;
  auto compare = [&](auto& evaluate) {
    for (std::size_t k = 0; k < kPool; ++k) evaluate(pool.data() + k * kFeatures, out.data() + k * kOutputs);
    for (std::size_t i = 0; i < out.size(); ++i)
      worst = std::max(worst, static_cast<double>(std::abs(out[i] - reference[i])));
  };
  compare(run_header);
  compare(run_col);
  compare(run_row);
  require(worst <= 1e-5, "W5: the contestants disagree by ", worst, " (more than float rounding)");

  Timing t_network, t_header, t_col, t_row;
  const int repeats = std::max(options.repeats, 15);
  for (Timing* t : {&t_network, &t_header, &t_col, &t_row}) {  // no growth while counting
    t->single_ns.reserve(kSingleCalls);
    t->ns_per_event.reserve(static_cast<std::size_t>(repeats));
    t->latency_ns.reserve(static_cast<std::size_t>(repeats));
  }
  for (int r = 0; r < repeats; ++r) {
    time_pool(run_network, pool, out, t_network);
    time_pool(run_header, pool, out, t_header);
    time_pool(run_col, pool, out, t_col);
    time_pool(run_row, pool, out, t_row);
  }
  const long chunk = kSingleCalls / 20;
  for (int r = 0; r < 20; ++r) {
    time_single_calls(run_network, pool, out, t_network, chunk);
    time_single_calls(run_header, pool, out, t_header, chunk);
    time_single_calls(run_col, pool, out, t_col, chunk);
    time_single_calls(run_row, pool, out, t_row, chunk);
  }

  nlohmann::json result = summary(t_network);
  result["workload"] = "W5";
  result["threads"] = 1;
  result["network"] = "26-48-48-48-48-3 relu/softmax, infer::Network<float, 26, 48, 48, 48, 48, 3>";
  result["max_difference_between_contestants"] = worst;
  const nlohmann::json col = summary(t_col), row = summary(t_row);
  const nlohmann::json& best =
      col["ns_per_event"].get<double>() <= row["ns_per_event"].get<double>() ? col : row;
  result["standalone_header"] = summary(t_header);
  result["eigen_col_major"] = col;
  result["eigen_row_major"] = row;
  result["eigen_best"] = &best == &col ? "col_major" : "row_major";
  for (const char* key : {"ns_per_event", "latency_ns", "p99_ns"}) {
    result[std::string("ratio_to_eigen_") + key] = result[key].get<double>() / best[key].get<double>();
    result[std::string("header_ratio_to_eigen_") + key] =
        result["standalone_header"][key].get<double>() / best[key].get<double>();
  }
  return result;
}
