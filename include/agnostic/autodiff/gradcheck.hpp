#pragma once
// Gradient checking: the tape's gradient of a scalar against central finite differences, in double.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "agnostic/autodiff/tape.hpp"

namespace agnostic {

// The numeric derivative is Richardson-extrapolated from central differences with steps h and h/2
// (error of order h^4), so h can be large enough that rounding in a big sum does not swamp it.
// Keep inputs of kinked functions (ReLU, bin edges) at least h away from their kinks.
struct GradcheckOptions {
  double step = 1e-3;       // h, relative to max(1, |x|)
  double tolerance = 1e-6;  // on |analytic - numeric| / max(|analytic|, |numeric|, floor)
  double floor = 1e-3;      // below this size a gradient is compared absolutely
};

struct GradcheckReport {
  bool ok = true;
  double max_error = 0.0;
  std::string worst;  // where the largest error was, with both values
  int compared = 0;
};

// `build(tape, vars)` records a scalar on the tape from one Var per entry of `inputs` (made with
// tape.variable) and from any parameters it reads itself; the gradient is checked with respect to
// every element of every input and of every parameter in `parameters`.
template <class Build>
GradcheckReport gradcheck(Build&& build, std::vector<MatrixD> inputs,
                          std::vector<Parameter<double>*> parameters = {}, GradcheckOptions options = {}) {
  Tape<double> tape;
  std::vector<Var<double>> vars;
  auto evaluate = [&]() {
    tape.clear();
    vars.clear();
    for (auto& x : inputs) vars.push_back(tape.variable(x));
    Var<double> loss = build(tape, static_cast<const std::vector<Var<double>>&>(vars));
    require(loss.value().size() == 1, "gradcheck: the function must return a 1 x 1 node");
    return loss;
  };

  for (auto* p : parameters) p->zero_grad();
  Var<double> loss = evaluate();
  tape.backward(loss);
  std::vector<MatrixD> analytic;
  for (auto& v : vars) analytic.push_back(v.grad());
  for (auto* p : parameters) analytic.push_back(p->grad);

  std::vector<MatrixD*> targets;
  std::vector<std::string> names;
  for (size_t i = 0; i < inputs.size(); ++i) {
    targets.push_back(&inputs[i]);
    names.push_back("input " + std::to_string(i));
  }
  for (auto* p : parameters) {
    targets.push_back(&p->value);
    names.push_back("parameter " + p->name);
  }

  GradcheckReport report;
  for (size_t t = 0; t < targets.size(); ++t) {
    MatrixD& x = *targets[t];
    for (Index j = 0; j < x.cols(); ++j)
      for (Index i = 0; i < x.rows(); ++i) {
        const double original = x(i, j);
        const double h = options.step * std::max(1.0, std::abs(original));
        auto central = [&](double step) {
          x(i, j) = original + step;
          const double up = evaluate().item();
          x(i, j) = original - step;
          const double down = evaluate().item();
          x(i, j) = original;
          return (up - down) / (2 * step);
        };
        const double numeric = (4 * central(h / 2) - central(h)) / 3;
        const double a = analytic[t](i, j);
        const double error =
            std::abs(a - numeric) / std::max({std::abs(a), std::abs(numeric), options.floor});
        ++report.compared;
        if (!(error <= report.max_error) || report.compared == 1) {
          report.max_error = std::isnan(error) ? INFINITY : error;
          std::ostringstream where;
          where << names[t] << " (" << i << ", " << j << "): analytic " << a << ", numeric " << numeric;
          report.worst = where.str();
        }
      }
  }
  report.ok = report.max_error <= options.tolerance;
  return report;
}

}  // namespace agnostic
