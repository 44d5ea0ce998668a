// The README's DANN step (Clavijo et al., arXiv:2005.00568) with only the headers it uses, not the
// module headers: docs/build-cost.md compares it with readme_dann_step_modules.cpp to tell what the
// module headers cost from what the step itself compiles.
#include <agnostic/autodiff/arithmetic.hpp>
#include <agnostic/autodiff/gradient_reversal.hpp>
#include <agnostic/core/rng.hpp>
#include <agnostic/losses/categorical_cross_entropy.hpp>
#include <agnostic/nn/sequential.hpp>
#include <agnostic/optim/rmsprop.hpp>

using namespace agnostic;

float dann_step(const MatrixF& features, const MatrixF& labels, const MatrixF& source_weights,
                const MatrixF& domains, const MatrixF& domain_weights, float lambda) {
  Rng rng(42);
  Sequential<float> extractor({41, 20, 16, 13, 10}, Activation::elu(), Activation::elu(), rng);
  Sequential<float> label_head({10, 2}, Activation::elu(), Activation::identity(), rng);
  Sequential<float> domain_head({10, 20, 2}, Activation::elu(), Activation::identity(), rng);
  RMSProp<float> optimiser(extractor.parameters() + label_head.parameters() + domain_head.parameters(),
                           {.lr = 1e-3});
  Tape<float> tape;

  auto h = extractor(tape, tape.input(features));
  auto y = label_head(tape, h);
  auto d = domain_head(tape, reverse_gradient(h, lambda));
  auto loss = cross_entropy(y, labels, source_weights) + cross_entropy(d, domains, domain_weights);
  tape.backward(loss);
  optimiser.step();
  const float value = loss.item();
  tape.clear();
  return value;
}

int main() {
  const MatrixF x = MatrixF::Random(256, 41), labels = MatrixF::Zero(256, 2), weights = MatrixF::Ones(256, 1);
  return dann_step(x, labels, weights, labels, weights, 1.0f) > 0.0f ? 0 : 1;
}
