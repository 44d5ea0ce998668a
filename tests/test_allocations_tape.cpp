// A reused tape allocates nothing after its first step.
//
// Three counters watch the heap while steps 2..10 of a training loop run:
//  - the replaced global operator new (every C++ container, std::function, string, ...);
//  - Eigen's own allocator (EIGEN_RUNTIME_NO_MALLOC: Eigen reports every heap allocation of a
//    matrix or of a product's packing buffers through eigen_assert, counted here);
//  - outside the sanitizer builds, malloc itself (glibc's __libc_* entry points behind it), which
//    also sees OpenMP's runtime and anything else in the process.
#include "allocation_counter.hpp"

namespace {
std::atomic<long> g_malloc_calls{0};
}  // namespace

#include <doctest/doctest.h>

#include <agnostic/autodiff/arithmetic.hpp>
#include <agnostic/autodiff/dense.hpp>
#include <agnostic/autodiff/elementwise.hpp>
#include <agnostic/autodiff/gradient_reversal.hpp>
#include <agnostic/autodiff/reductions.hpp>
#include <agnostic/autodiff/soft_histogram.hpp>
#include <agnostic/core/rng.hpp>
#include <agnostic/losses/binary_cross_entropy.hpp>
#include <agnostic/losses/categorical_cross_entropy.hpp>
#include <agnostic/losses/linear_domain_loss.hpp>
#include <agnostic/losses/mse.hpp>
#include <agnostic/losses/soft_histogram_penalty.hpp>
#include <vector>

// ---- malloc itself (glibc, not under the sanitizers, which own malloc)
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AGNOSTIC_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define AGNOSTIC_TEST_SANITIZED 1
#endif
#if defined(__GLIBC__) && !defined(AGNOSTIC_TEST_SANITIZED)
#define AGNOSTIC_TEST_COUNTS_MALLOC 1
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_malloc_calls.fetch_add(1);
  return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t n) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_malloc_calls.fetch_add(1);
  return __libc_calloc(count, n);
}
void* realloc(void* p, std::size_t n) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_malloc_calls.fetch_add(1);
  return __libc_realloc(p, n);
}
void* aligned_alloc(std::size_t alignment, std::size_t n) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_malloc_calls.fetch_add(1);
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_malloc_calls.fetch_add(1);
  *out = __libc_memalign(alignment, n);
  return *out ? 0 : 12;  // ENOMEM
}
void free(void* p) noexcept {
  __libc_free(p);
}
}
#endif

using namespace agnostic;

namespace {

struct Counts {
  long news = 0, eigen = 0, mallocs = 0;
};

template <class Step>
Counts count_steps(Step&& step, int first, int last) {
  g_new_calls = 0;
  g_eigen_heap_calls = 0;
  g_malloc_calls = 0;
  Eigen::internal::set_is_malloc_allowed(false);
  g_counting = true;
  for (int s = first; s <= last; ++s) step();
  g_counting = false;
  Eigen::internal::set_is_malloc_allowed(true);
  return {g_new_calls.load(), g_eigen_heap_calls.load(), g_malloc_calls.load()};
}

template <class T>
Matrix<T> random_matrix(Rng& rng, Index rows, Index cols, double scale) {
  Matrix<T> m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = static_cast<T>(scale * rng.normal());
  return m;
}

// A dense layer's two parameters, Glorot-like scale (the test needs values, not nn/).
struct TapeLayer {
  Parameter<float> w, b;
  TapeLayer(Rng& rng, Index n_in, Index n_out) : w("w", n_out, n_in), b("b", 1, n_out) {
    w.value = random_matrix<float>(rng, n_out, n_in, std::sqrt(2.0 / static_cast<double>(n_in + n_out)));
    b.value = random_matrix<float>(rng, 1, n_out, 0.1);
  }
  Var<float> operator()(Tape<float>& tape, Var<float> x, Activation f) {
    return dense(x, tape.parameter(w), tape.parameter(b), f);
  }
};

void sgd(std::vector<TapeLayer*>& layers, float rate) {
  for (TapeLayer* layer : layers)
    for (Parameter<float>* p : {&layer->w, &layer->b}) {
      p->value -= rate * p->grad;
      p->zero_grad();
    }
}

}  // namespace

TEST_CASE("tape allocations: steps 2..10 of a DANN training step allocate nothing") {
  const int before = threads();
  set_threads(2);
  const Index batch = 4096;
  set_parallel_min_work(1L << 15);                  // reach the parallel path with a small test size
  REQUIRE(chunk_count(batch, batch * 10 * 2) > 1);  // even the smallest product runs in two chunks
  Rng rng(81);
  const MatrixF x = random_matrix<float>(rng, batch, 41, 1.0);
  std::vector<int> labels(batch), domains(batch);
  VectorF source_weights(batch);
  for (Index i = 0; i < batch; ++i) {
    labels[static_cast<size_t>(i)] = static_cast<int>(rng.below(2));
    domains[static_cast<size_t>(i)] = i % 2 == 0 ? 1 : 0;  // 1: source, 0: target
    source_weights(i) = i % 2 == 0 ? 1.0f : 0.0f;          // the gate
  }
  // Feature extractor 41 -> 20 -> 16 -> 13 -> 10 (ELU), label head 10 -> 2, domain head 10 -> 20 -> 2.
  TapeLayer f1(rng, 41, 20), f2(rng, 20, 16), f3(rng, 16, 13), f4(rng, 13, 10), label(rng, 10, 2),
      d1(rng, 10, 20), d2(rng, 20, 2);
  std::vector<TapeLayer*> layers{&f1, &f2, &f3, &f4, &label, &d1, &d2};
  GradientReversal reversal(0.5);
  Tape<float> tape;
  std::vector<float> losses;
  losses.reserve(16);
  auto step = [&]() {
    tape.clear();
    const Activation elu = Activation::elu(1.0);
    auto h = f4(tape, f3(tape, f2(tape, f1(tape, tape.input(x), elu), elu), elu), elu);
    auto label_loss = cross_entropy(label(tape, h, Activation::identity()), labels, source_weights);
    auto d = d2(tape, d1(tape, reversal(h), elu), Activation::identity());
    auto domain_loss = cross_entropy(d, domains);
    auto loss = label_loss + domain_loss;
    tape.backward(loss);
    losses.push_back(loss.item());
    sgd(layers, 0.05f);
  };
  step();  // the first step sizes every buffer
  const Counts counts = count_steps(step, 2, 10);
  set_threads(before);
  CHECK(losses.size() == 10);
  for (float l : losses) CHECK(std::isfinite(l));
  CHECK(counts.news == 0);
  CHECK(counts.eigen == 0);
#ifdef AGNOSTIC_TEST_COUNTS_MALLOC
  CHECK(counts.mallocs == 0);
#endif
  // The counters do count: a fresh matrix is seen by all of them.
  const Counts fresh = count_steps(
      [&]() {
        const MatrixF m = MatrixF::Ones(3, 3);
        volatile float keep = m.sum();
        (void)keep;
        std::vector<int> v(3);
        (void)v;
      },
      1, 1);
  CHECK(fresh.news == 1);
  CHECK(fresh.eigen == 1);
#ifdef AGNOSTIC_TEST_COUNTS_MALLOC
  CHECK(fresh.mallocs >= 2);
#endif
}

TEST_CASE("tape allocations: a graph with every other operation, reused, allocates nothing either") {
  const int before = threads();
  set_threads(2);
  const Index batch = 4096;
  Rng rng(82);
  const MatrixF x = random_matrix<float>(rng, batch, 8, 1.0);
  const MatrixF targets = random_matrix<float>(rng, batch, 3, 1.0);
  MatrixF probabilities = random_matrix<float>(rng, batch, 3, 1.0).array().exp().matrix();
  for (Index i = 0; i < batch; ++i) probabilities.row(i) /= probabilities.row(i).sum();
  VectorF weights(batch), varied(batch), binary(batch);
  std::vector<int> labels(batch), domains(batch), rows;
  std::vector<bool> mask(batch);
  for (Index i = 0; i < batch; ++i) {
    weights(i) = static_cast<float>(rng.uniform(0.5, 1.5));
    varied(i) = weights(i) * static_cast<float>(rng.uniform(0.8, 1.2));
    binary(i) = rng.uniform() < 0.5 ? 0.0f : 1.0f;
    labels[static_cast<size_t>(i)] = static_cast<int>(rng.below(3));
    domains[static_cast<size_t>(i)] = static_cast<int>(rng.below(2));
    mask[static_cast<size_t>(i)] = i % 3 != 0;
    if (i < 2000 && i % 2 == 0) rows.push_back(static_cast<int>(i));
  }
  Parameter<float> w("w", 3, 8), w1("w1", 1, 8), row("row", 1, 3), column("column", batch, 1);
  w.value = random_matrix<float>(rng, 3, 8, 0.3);
  w1.value = random_matrix<float>(rng, 1, 8, 0.3);
  row.value = random_matrix<float>(rng, 1, 3, 0.3);
  column.value = random_matrix<float>(rng, batch, 1, 0.3);
  const SoftHistogram histogram = SoftHistogram::uniform(10, 0.0, 1.0);
  Tape<float> tape;
  std::vector<float> losses;
  losses.reserve(16);
  auto step = [&]() {
    tape.clear();
    auto z = dense(tape.input(x), tape.parameter(w), Var<float>{});
    auto a = (z + tape.parameter(row)) * tape.parameter(column) - 0.5f * z;
    auto a2 = 2.0f - (-a + 1.0f) / 4.0f;
    auto acts = concat_cols(
        {tanh(a2), sigmoid(a), softplus(a), relu(a), leaky_relu(a, 0.2), elu(a, 1.0), identity(a)});
    auto c = sqrt(square(acts) + 1.0f) + log(exp(scale(acts, 0.1f)) + 2.0f);
    auto s = select_rows(select_rows_where(softmax(c), mask), rows);
    auto y = dense(tape.input(x), tape.parameter(w1), Var<float>{});
    auto f = sigmoid(y);
    auto penalty = soft_histogram_penalty(histogram(f, weights), histogram(f, varied));
    auto loss = mean(s) + sum(log_softmax(a)) * 1e-4f + categorical_cross_entropy(a, labels, weights) +
                categorical_cross_entropy(a, probabilities, weights) +
                binary_cross_entropy(y, binary, weights) + mse(a, targets, weights) +
                linear_domain_loss(reverse_gradient(y, 0.3), domains, weights) + penalty +
                weighted_mean(y, weights) + mean(stop_gradient(c));
    tape.backward(loss);
    losses.push_back(loss.item());
    for (Parameter<float>* p : {&w, &w1, &row, &column}) {
      p->value -= 0.01f * p->grad;
      p->zero_grad();
    }
  };
  step();
  const Counts counts = count_steps(step, 2, 10);
  set_threads(before);
  CHECK(losses.size() == 10);
  for (float l : losses) CHECK(std::isfinite(l));
  CHECK(counts.news == 0);
  CHECK(counts.eigen == 0);
#ifdef AGNOSTIC_TEST_COUNTS_MALLOC
  CHECK(counts.mallocs == 0);
#endif
}
