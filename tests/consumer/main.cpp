// Prints f(x W^T + b) for a fixed 1 x 2 input through one dense node: the consumer test reads it.
// It includes one module header, not agnostic.hpp: the test checks how agnostic is found and
// installed, and agnostic.hpp would cost two minutes of compile for each of its two builds.
#include <agnostic/autodiff.hpp>
#include <iostream>

int main() {
  agnostic::Parameter<double> w("w", 1, 2), b("b", 1, 1);
  w.value << 2.0, -1.0;
  b.value << 0.5;
  agnostic::MatrixD x(1, 2);
  x << 1.0, 3.0;
  agnostic::Tape<double> tape;
  auto y = agnostic::dense(tape.input(x), tape.parameter(w), tape.parameter(b), agnostic::Activation::relu());
  std::cout << "consumer output " << y.item() << "\n";  // relu(2 - 3 + 0.5) = 0
  auto z = agnostic::dense(tape.input(x), tape.parameter(w), tape.parameter(b));
  std::cout << "consumer linear " << z.item() << "\n";  // -0.5
  return 0;
}
