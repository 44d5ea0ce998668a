// inferno-generate: the 3D synthetic mixture of INFERNO (de Castro & Dorigo, Comput. Phys. Commun.
// 244 (2019) 170, sec. 4 / the thesis' sec. 6.5.1), written as a CSV for `agnostic train`:
//
//   background: (x0, x1) ~ N((2 + r, 0), diag(5, 9)),  x2 ~ Exp(rate lambda),  r = 0, lambda = 3
//   signal:     (x0, x1) ~ N((1, 1), diag(1, 1)),      x2 ~ Exp(rate 2)
//
// Columns: x0, x1, x2, label (1 signal, 0 background), lambda_up, lambda_down. The nuisance r
// (shift of the background's x0 mean) is a "shift" systematic of x0 (add +-sigma_r, background
// only), exact because r moves x0 alone. The exponential rate lambda enters as exact density-ratio
// weight factors for lambda +- sigma_lambda (1 for signal events):
//   w(x2) = (lambda' / lambda) exp(-(lambda' - lambda) x2).
//
//   inferno-generate OUT.csv EVENTS_PER_CLASS SEED [SIGMA_LAMBDA=1]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: inferno-generate OUT.csv EVENTS_PER_CLASS SEED [SIGMA_LAMBDA=1]\n");
    return 2;
  }
  const long n = std::atol(argv[2]);
  const unsigned long seed = std::strtoul(argv[3], nullptr, 10);
  const double sigma_lambda = argc > 4 ? std::atof(argv[4]) : 1.0;
  const double lambda = 3.0;
  if (n < 1 || !(sigma_lambda > 0.0 && sigma_lambda < lambda)) {
    std::fprintf(stderr, "inferno-generate: EVENTS_PER_CLASS must be >= 1 and 0 < SIGMA_LAMBDA < 3\n");
    return 2;
  }
  std::ofstream out(argv[1]);
  if (!out) {
    std::fprintf(stderr, "inferno-generate: cannot write '%s'\n", argv[1]);
    return 1;
  }
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::exponential_distribution<double> exp_signal(2.0), exp_background(lambda);
  out << "x0,x1,x2,label,lambda_up,lambda_down\n";
  out.precision(8);
  for (long i = 0; i < 2 * n; ++i) {
    const bool signal = i % 2 == 1;  // interleaved, so any prefix of the file is balanced
    double x0, x1, x2, up = 1.0, down = 1.0;
    if (signal) {
      x0 = 1.0 + normal(rng);
      x1 = 1.0 + normal(rng);
      x2 = exp_signal(rng);
    } else {
      x0 = 2.0 + std::sqrt(5.0) * normal(rng);
      x1 = 3.0 * normal(rng);
      x2 = exp_background(rng);
      const double l_up = lambda + sigma_lambda, l_down = lambda - sigma_lambda;
      up = l_up / lambda * std::exp(-(l_up - lambda) * x2);
      down = l_down / lambda * std::exp(-(l_down - lambda) * x2);
    }
    out << x0 << ',' << x1 << ',' << x2 << ',' << (signal ? 1 : 0) << ',' << up << ',' << down << '\n';
  }
  return 0;
}
