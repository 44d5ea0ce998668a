// same_bits: trains two small tape graphs (a DANN-like network and a graph of most tape operations)
// for 20 SGD steps at 1, 2, 3 and 4 threads, every kernel split into chunks (parallel_min_work 1), and
// prints each run's losses and final parameters as a 64-bit FNV-1a hash of their bytes. Built once
// against the parent commit's headers and once against the new ones, the two outputs must be equal:
// the worker pool (core/thread_pool.hpp) changes who runs a chunk, not what it computes.
// `same_bits K` splits every kernel into K chunks on any thread count: its four lines must agree.
//   g++ -std=c++20 -O2 -fopenmp -I<repo>/include -isystem /usr/include/eigen3 same_bits.cpp
#include <agnostic/autodiff.hpp>
#include <agnostic/core.hpp>
#include <agnostic/losses.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace agnostic;

namespace {

struct Hash {
  std::uint64_t h = 1469598103934665603ULL;
  void add(const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ULL;
  }
  void add(const MatrixF& m) { add(m.data(), sizeof(float) * static_cast<std::size_t>(m.size())); }
};

MatrixF normal_matrix(Rng& rng, Index rows, Index cols, double sd) {
  MatrixF m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.normal(0.0, sd));
  return m;
}

std::uint64_t dann_run(int steps) {
  Rng rng(11);
  const Index batch = 3001, n_in = 17;
  const MatrixF x = normal_matrix(rng, batch, n_in, 1.0);
  std::vector<int> label(batch), domain(batch);
  VectorF gate(batch);
  for (Index i = 0; i < batch; ++i) {
    label[static_cast<std::size_t>(i)] = static_cast<int>(rng.below(2));
    domain[static_cast<std::size_t>(i)] = static_cast<int>(i % 3 == 0);
    gate(i) = i % 3 == 0 ? 0.0f : 1.0f;
  }
  const std::vector<std::pair<Index, Index>> shapes{{n_in, 24}, {24, 12}, {12, 2}, {12, 9}, {9, 2}};
  std::vector<Parameter<float>> w, b;
  w.reserve(shapes.size());
  b.reserve(shapes.size());
  for (const auto& [in, out] : shapes) {
    w.emplace_back("w", out, in);
    w.back().value = normal_matrix(rng, out, in, 0.4);
    b.emplace_back("b", 1, out);
    b.back().value = normal_matrix(rng, 1, out, 0.1);
  }
  GradientReversal reversal(0.7);
  Tape<float> tape;
  Hash hash;
  for (int s = 0; s < steps; ++s) {
    tape.clear();
    const Activation elu = Activation::elu(1.0);
    auto layer = [&](Var<float> in, std::size_t k, Activation f) {
      return dense(in, tape.parameter(w[k]), tape.parameter(b[k]), f);
    };
    auto h = layer(layer(tape.input(x), 0, elu), 1, elu);
    auto label_loss = cross_entropy(layer(h, 2, Activation::identity()), label, gate);
    auto domain_loss = cross_entropy(layer(layer(reversal(h), 3, elu), 4, Activation::identity()), domain);
    auto loss = label_loss + domain_loss;
    tape.backward(loss);
    const float l = loss.item();
    hash.add(&l, sizeof l);
    for (std::size_t k = 0; k < shapes.size(); ++k)
      for (Parameter<float>* p : {&w[k], &b[k]}) {
        p->value -= 0.05f * p->grad;
        p->zero_grad();
      }
  }
  for (std::size_t k = 0; k < shapes.size(); ++k) {
    hash.add(w[k].value);
    hash.add(b[k].value);
  }
  return hash.h;
}

std::uint64_t many_operations_run(int steps) {
  Rng rng(12);
  const Index batch = 2503;
  const MatrixF x = normal_matrix(rng, batch, 6, 1.0);
  const MatrixF target = normal_matrix(rng, batch, 4, 1.0);
  VectorF weight(batch), shifted(batch), binary(batch);
  std::vector<int> label(batch), domain(batch);
  for (Index i = 0; i < batch; ++i) {
    weight(i) = static_cast<float>(rng.uniform(0.2, 1.8));
    shifted(i) = weight(i) * static_cast<float>(rng.uniform(0.9, 1.1));
    binary(i) = static_cast<float>(rng.below(2));
    label[static_cast<std::size_t>(i)] = static_cast<int>(rng.below(4));
    domain[static_cast<std::size_t>(i)] = static_cast<int>(rng.below(2));
  }
  Parameter<float> w("w", 4, 6), v("v", 1, 6), row("row", 1, 4);
  w.value = normal_matrix(rng, 4, 6, 0.3);
  v.value = normal_matrix(rng, 1, 6, 0.3);
  row.value = normal_matrix(rng, 1, 4, 0.3);
  const SoftHistogram histogram = SoftHistogram::uniform(12, 0.0, 1.0);
  Tape<float> tape;
  Hash hash;
  for (int s = 0; s < steps; ++s) {
    tape.clear();
    auto a = dense(tape.input(x), tape.parameter(w), Var<float>{}) + tape.parameter(row);
    auto c = concat_cols({tanh(a), sigmoid(a), softplus(a), relu(a), elu(a, 1.0)});
    auto d = sqrt(square(c) + 1.0f) + log(exp(scale(c, 0.2f)) + 1.5f);
    auto y = dense(tape.input(x), tape.parameter(v), Var<float>{});
    auto f = sigmoid(y);
    auto loss = mean(softmax(d)) + sum(log_softmax(a)) * 1e-4f + categorical_cross_entropy(a, label, weight) +
                binary_cross_entropy(y, binary, weight) + mse(a, target, weight) +
                linear_domain_loss(reverse_gradient(y, 0.5), domain, weight) +
                soft_histogram_penalty(histogram(f, weight), histogram(f, shifted)) +
                weighted_mean(y, weight);
    tape.backward(loss);
    const float l = loss.item();
    hash.add(&l, sizeof l);
    for (Parameter<float>* p : {&w, &v, &row}) {
      p->value -= 0.02f * p->grad;
      p->zero_grad();
    }
  }
  hash.add(w.value);
  hash.add(v.value);
  hash.add(row.value);
  return hash.h;
}

}  // namespace

// With an argument K > 0 every kernel is split into K chunks whatever the thread count
// (set_fixed_chunks): then the four lines must show the same hashes.
int main(int argc, char** argv) {
  set_parallel_min_work(1);
  if (argc > 1) set_fixed_chunks(std::atoi(argv[1]));
  for (int n = 1; n <= 4; ++n) {
    set_threads(n);
    std::printf("threads %d dann %016llx many_operations %016llx\n", n,
                static_cast<unsigned long long>(dann_run(20)),
                static_cast<unsigned long long>(many_operations_run(20)));
  }
  return 0;
}
