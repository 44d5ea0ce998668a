#pragma once
// The HistFactory binned likelihood of a pyhf workspace, with pyhf's conventions:
//   nu_b = sum over samples of (nominal_b + sum of histosys shifts) * product of multiplicative factors
//   -log L = sum_b [nu_b - n_b ln nu_b + lgamma(n_b + 1)]              (continuous Poisson, n may be
//   non-integer)
//          + sum over Gaussian-constrained theta: (a - theta)^2 / (2 sigma^2) + ln sigma + ln(2 pi) / 2
//          + sum over Poisson-constrained gamma:  gamma tau - a ln(gamma tau) + lgamma(a + 1)
// Parameters (one scalar per entry; per-bin modifiers give "name[i]"), with pyhf's defaults:
//   normfactor, shapefactor: free, init 1, bounds [0, 10]
//   normsys, histosys (one alpha per name, shared by both types): init 0, [-5, 5], Gaussian, aux 0, sigma 1
//   lumi: init = auxdata, [0, 10], Gaussian around auxdata (default 1) with the measurement's sigmas
//   (required) shapesys: one gamma per bin, init 1, [1e-10, 10], Poisson with tau = (nominal /
//   uncertainty)^2, aux tau;
//             a bin with zero nominal or zero uncertainty keeps a gamma fixed at 1 with tau = aux = 1
//   staterror: one gamma per bin shared by the channel's samples that carry it, init 1, [1e-10, 10],
//             Gaussian around 1 with sigma = sqrt(sum uncertainty^2) / sum nominal (fixed at 1 where that is
//             0)
// The measurement's config.parameters override inits, bounds, fixed, auxdata and sigmas.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Dense>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/stats/workspace.hpp"

namespace agnostic::stats {

enum class NormsysInterp { code1, code4 };    // pyhf default code4
enum class HistosysInterp { code0, code4p };  // pyhf default code4p
enum class NonPositive { clip, refuse };      // expected yields <= 0 / normsys factors <= 0

struct ModelOptions {
  NormsysInterp normsys = NormsysInterp::code4;
  HistosysInterp histosys = HistosysInterp::code4p;
  NonPositive non_positive = NonPositive::clip;
  std::string measurement;  // "" = the first measurement
  std::string poi;          // "" = the measurement's POI
  // Applied after the measurement's config.parameters, by parameter name ("mu", "gamma_stat[3]") or by
  // modifier name (every element of a per-bin modifier); each value must lie inside the bounds.
  std::map<std::string, double> fixed_values;  // held at this value (`agnostic fit --fix NAME=VALUE`)
  std::map<std::string, double> start_values;  // initial value (`--set NAME=VALUE`)
  // Channels whose main bins are left out of the likelihood (their constraint terms stay), as combine's
  // masking: a blinded signal region. Their expected yields are still computed and reported.
  std::vector<std::string> masked_channels;
};

// main: all channels' bins concatenated in workspace order; aux: one entry per constrained parameter,
// in parameter order (BinnedLikelihood::Parameter::aux gives the position).
struct Data {
  Eigen::VectorXd main;
  Eigen::VectorXd aux;
};

enum class Constraint { none, gaussian, poisson };

// What the clip policy puts in place of an expected yield (or normsys factor) that is <= this.
inline constexpr double kClipValue = 1e-10;

// A Hessian term from two different factors with parameters p and q: both orders, so twice on the
// diagonal when p == q (the common-shape and the general evaluation add them alike).
inline void add_cross_term(Eigen::MatrixXd& hessian, int p, int q, double v) {
  if (p == q) {
    hessian(p, p) += 2.0 * v;
  } else {
    hessian(p, q) += v;
    hessian(q, p) += v;
  }
}

// -- interpolation, exposed for tests and for anyone drawing the modifiers -------------------------------
struct Interpolated {
  double value, d1, d2;  // f(alpha), f'(alpha), f''(alpha)
};

// Coefficients a_1..a_6 of code4's polynomial 1 + sum a_i alpha^i on |alpha| < 1, which matches the
// exponential hi^alpha / lo^-alpha in value, first and second derivative at alpha = +-1.
AGNOSTIC_COMPILED_WHEN_USED
inline std::array<double, 6> code4_coefficients(double hi, double lo) {
  const double lh = std::log(hi), ll = std::log(lo);
  Eigen::Matrix<double, 6, 6> m;
  Eigen::Matrix<double, 6, 1> rhs;
  for (int i = 1; i <= 6; ++i) {
    const double sign = (i % 2 == 0) ? 1.0 : -1.0;  // (-1)^i
    m(0, i - 1) = 1.0;
    m(1, i - 1) = sign;
    m(2, i - 1) = i;
    m(3, i - 1) = -sign * i;  // d/dalpha alpha^i at -1 = i (-1)^(i-1)
    m(4, i - 1) = i * (i - 1.0);
    m(5, i - 1) = sign * i * (i - 1.0);
  }
  rhs << hi - 1.0, lo - 1.0, hi * lh, -lo * ll, hi * lh * lh, lo * ll * ll;
  const Eigen::Matrix<double, 6, 1> a = m.fullPivLu().solve(rhs);
  return {a[0], a[1], a[2], a[3], a[4], a[5]};
}

AGNOSTIC_COMPILED_WHEN_USED
inline Interpolated normsys_code1(double alpha, double hi, double lo) {
  const double l = alpha >= 0.0 ? std::log(hi) : -std::log(lo);
  const double f = std::exp(alpha * l);
  return {f, l * f, l * l * f};
}

AGNOSTIC_COMPILED_WHEN_USED
inline Interpolated normsys_code4(double alpha, double hi, double lo, const std::array<double, 6>& a) {
  if (std::abs(alpha) >= 1.0) return normsys_code1(alpha, hi, lo);
  double value = 0.0, d1 = 0.0, d2 = 0.0;
  for (int i = 6; i >= 1; --i) {  // Horner on the polynomial and its derivatives
    value = value * alpha + a[i - 1];
    if (i >= 2) d1 = d1 * alpha + i * a[i - 1];
    if (i >= 3) d2 = d2 * alpha + i * (i - 1.0) * a[i - 1];
  }
  return {1.0 + value * alpha, d1 * alpha + a[0], d2 * alpha + 2.0 * a[1]};
}

// Additive shift of histosys for one bin; up = hi - nominal, down = nominal - lo.
AGNOSTIC_COMPILED_WHEN_USED
inline Interpolated histosys_code0(double alpha, double up, double down) {
  const double slope = alpha >= 0.0 ? up : down;
  return {alpha * slope, slope, 0.0};
}

AGNOSTIC_COMPILED_WHEN_USED
inline Interpolated histosys_code4p(double alpha, double up, double down) {
  if (std::abs(alpha) > 1.0) return histosys_code0(alpha, up, down);
  const double s = 0.5 * (up + down), a = 0.0625 * (up - down);
  const double a2 = alpha * alpha;
  return {s * alpha + a * a2 * (15.0 + a2 * (3.0 * a2 - 10.0)),
          s + a * alpha * (30.0 + a2 * (18.0 * a2 - 40.0)), a * (30.0 + a2 * (90.0 * a2 - 120.0))};
}

class BinnedLikelihood {
 public:
  struct Parameter {
    std::string name;      // "mu", or "gamma_stat[3]" for element 3 of a per-bin modifier
    std::string modifier;  // the modifier name that created it ("gamma_stat")
    std::string type;      // normfactor, shapefactor, lumi, alpha (normsys/histosys), shapesys, staterror
    double init = 0.0, lower = 0.0, upper = 0.0;
    bool fixed = false;
    Constraint constraint = Constraint::none;
    int aux = -1;              // index into Data::aux, -1 when unconstrained
    double aux_nominal = 0.0;  // Gaussian: the centre; Poisson: tau
    double sigma = 1.0;        // Gaussian width (aux ~ N(theta, sigma))
    double tau = 1.0;          // Poisson scale (aux ~ Poisson(gamma * tau))
  };

  struct ChannelInfo {
    std::string name;
    int offset = 0;  // first bin in Data::main
    int bins = 0;
  };

  // The workspace is checked again through its JSON form, so that structs filled in C++ (or edited
  // after reading) get the same errors as a file would.
  AGNOSTIC_COMPILED_WHEN_USED
  BinnedLikelihood(const Workspace& ws, ModelOptions options = {}) : options_(std::move(options)) {
    build(parse_workspace(to_json(ws), ws.source));
  }

  int n_params() const { return static_cast<int>(params_.size()); }
  int n_main() const { return n_main_; }
  int n_aux() const { return n_aux_; }
  const std::vector<std::string>& names() const { return names_; }
  const std::vector<Parameter>& parameters() const { return params_; }
  const Parameter& parameter(int i) const { return params_.at(static_cast<std::size_t>(i)); }
  const std::vector<ChannelInfo>& channels() const { return channels_; }
  const ModelOptions& options() const { return options_; }
  const std::string& measurement_name() const { return measurement_; }

  int index(const std::string& name) const {
    for (int i = 0; i < n_params(); ++i)
      if (names_[static_cast<std::size_t>(i)] == name) return i;
    std::string hint;
    for (const auto& p : params_)
      if (p.modifier == name) {
        hint = " ('" + name + "' is a per-bin modifier: use '" + name + "[0]' ... )";
        break;
      }
    fail("unknown parameter '", name, "'", hint, "; the model has: ", joined_names());
  }
  int poi() const { return poi_; }
  const Eigen::VectorXd& init() const { return init_; }
  const Eigen::VectorXd& lower() const { return lower_; }
  const Eigen::VectorXd& upper() const { return upper_; }
  const std::vector<bool>& fixed() const { return fixed_; }
  // True where the chosen interpolation has a kink at alpha = 0 for this parameter (code1 normsys with
  // hi * lo != 1, code0 histosys with hi - nominal != nominal - lo): the Hessian there is one-sided.
  bool kinked(int i) const { return kinked_.at(static_cast<std::size_t>(i)) != 0; }
  // Whether main bin b (in Data::main order) belongs to a masked channel (ModelOptions::masked_channels):
  // such a bin has no term in -log L.
  bool masked(Index b) const { return masked_.at(static_cast<std::size_t>(b)) != 0; }
  // The main bins that enter the likelihood.
  int n_unmasked() const { return static_cast<int>(std::count(masked_.begin(), masked_.end(), 0)); }

  // Expected main-bin counts at these parameters (clip policy applied: <= 0 becomes kClipValue, or an Error).
  Eigen::VectorXd expected(const Eigen::VectorXd& params) const {
    check_params(params);
    Eigen::VectorXd nu = raw_expected(params);
    for (Index b = 0; b < nu.size(); ++b) {
      if (nu[b] > kClipValue) continue;
      if (options_.non_positive == NonPositive::clip)
        nu[b] = kClipValue;
      else if (nu[b] < 0.0)
        fail(bin_name(b), ": expected yield ", nu[b], " is negative (non_positive = refuse)");
    }
    return nu;
  }

  // One sample's expected yields in its channel, before the clip policy (which acts on the sums): the
  // stacked templates of a pre-/post-fit figure. Summed per bin they give expected() before clipping.
  struct SampleYields {
    std::string channel, name;
    int offset = 0;  // first bin in Data::main
    Eigen::VectorXd yields;
  };
  std::vector<SampleYields> sample_yields(const Eigen::VectorXd& params) const {
    check_params(params);
    std::vector<SampleYields> out;
    out.reserve(samples_.size());
    for (const auto& s : samples_) {
      SampleYields y{s.channel, s.name, s.offset, Eigen::VectorXd(s.bins)};
      const double scalar = sample_scalar(s, params);
      for (int b = 0; b < s.bins; ++b) y.yields[b] = sample_bin(s, b, scalar, params);
      out.push_back(std::move(y));
    }
    return out;
  }

  // The auxiliary data these parameters would predict: theta for Gaussian, gamma * tau for Poisson.
  Eigen::VectorXd expected_aux(const Eigen::VectorXd& params) const {
    check_params(params);
    Eigen::VectorXd aux(n_aux_);
    for (int i = 0; i < n_params(); ++i) {
      const auto& p = params_[static_cast<std::size_t>(i)];
      if (p.constraint == Constraint::gaussian) aux[p.aux] = params[i];
      if (p.constraint == Constraint::poisson) aux[p.aux] = params[i] * p.tau;
    }
    return aux;
  }

  Data observed() const { return {observed_main_, nominal_aux_}; }

  // -log L with every constant, pyhf's value. Throws (refuse policy) on a non-positive yield.
  double nll(const Eigen::VectorXd& params, const Data& data) const {
    double value = 0.0;
    evaluate_or_throw(params, data, value, nullptr, nullptr);
    return value + nll_constant(data);
  }
  double nll(const Eigen::VectorXd& params, const Data& data, Eigen::VectorXd& gradient) const {
    double value = 0.0;
    evaluate_or_throw(params, data, value, &gradient, nullptr);
    return value + nll_constant(data);
  }
  // The exact (analytic) Hessian of -log L.
  Eigen::MatrixXd hessian(const Eigen::VectorXd& params, const Data& data) const {
    double value = 0.0;
    Eigen::VectorXd gradient;
    Eigen::MatrixXd h;
    evaluate_or_throw(params, data, value, &gradient, &h);
    return h;
  }

  // The data-only part of -log L: nll = objective + nll_constant. Minimisers use objective(), whose
  // terms are each >= 0 near the minimum and so do not lose digits to cancellation.
  double nll_constant(const Data& data) const {
    check_data(data);
    double c = 0.0;
    for (Index b = 0; b < data.main.size(); ++b)
      if (!masked_[static_cast<std::size_t>(b)]) c += poisson_constant(data.main[b]);
    for (const auto& p : params_) {
      if (p.constraint == Constraint::gaussian)
        c += std::log(p.sigma) + 0.5 * std::log(2.0 * std::numbers::pi);
      if (p.constraint == Constraint::poisson) c += poisson_constant(data.aux[p.aux]);
    }
    return c;
  }

  // objective = -log L - nll_constant(data), with optional analytic gradient and exact Hessian.
  // Returns false (and leaves the outputs unspecified) when the refuse policy meets a yield <= 0.
  bool objective(const Eigen::VectorXd& params, const Data& data, double& value, Eigen::VectorXd* gradient,
                 Eigen::MatrixXd* hessian) const {
    return evaluate(params, data, value, gradient, hessian, nullptr);
  }
  // objective() through the general evaluation whatever the model's shape: the reference against which
  // the evaluation of the common shapes (common_shape()) is tested; both give the same bits.
  bool objective_general(const Eigen::VectorXd& params, const Data& data, double& value,
                         Eigen::VectorXd* gradient, Eigen::MatrixXd* hessian) const {
    return evaluate_general(params, data, value, gradient, hessian, nullptr);
  }
  // Whether every sample has at most one scalar factor (normfactor, lumi or normsys) and no per-bin factor
  // (shapefactor, shapesys, staterror): objective() then takes a shorter path, without the loops over
  // factors and the products with factors left out that the general case needs.
  bool common_shape() const { return common_shape_; }

  // Checks the sizes of a data set and that its counts are >= 0 (Error otherwise).
  void check_data(const Data& data) const {
    require(data.main.size() == n_main_, "data: main has ", data.main.size(), " bins, the model has ",
            n_main_);
    require(data.aux.size() == n_aux_, "data: aux has ", data.aux.size(), " entries, the model has ", n_aux_,
            " constrained parameters");
    for (Index b = 0; b < data.main.size(); ++b)  // the message is built only when it is needed
      if (!(std::isfinite(data.main[b]) && data.main[b] >= 0.0))
        fail("data: ", bin_name(b), " has count ", data.main[b], ", expected a finite number >= 0");
    for (const auto& p : params_) {
      if (p.constraint == Constraint::none) continue;
      const double a = data.aux[p.aux];
      require(std::isfinite(a), "data: auxiliary datum of '", p.name, "' is ", a);
      if (p.constraint == Constraint::poisson)
        require(a >= 0.0, "data: auxiliary datum of '", p.name, "' is ", a, ", a Poisson count must be >= 0");
    }
  }

  void check_params(const Eigen::VectorXd& params) const {
    if (params.size() != n_params())
      fail("parameters: got ", params.size(), " values, the model has ", n_params(), " (", joined_names(),
           ")");
    for (int i = 0; i < n_params(); ++i)
      require(std::isfinite(params[i]), "parameter '", names_[static_cast<std::size_t>(i)], "' is ",
              params[i]);
  }

  std::string bin_name(Index b) const {
    for (const auto& c : channels_)
      if (b >= c.offset && b < c.offset + c.bins)
        return "channel '" + c.name + "' bin " + std::to_string(b - c.offset);
    return "bin " + std::to_string(b);
  }

 private:
  enum class FactorKind { linear, normsys };
  struct ScalarFactor {  // one value for every bin of the sample
    int param;
    FactorKind kind;
    double hi = 1.0, lo = 1.0;
    std::array<double, 6> code4{};
    std::string name;
  };
  struct Histo {
    int param;
    std::vector<double> up, down;
  };
  struct Sample {
    std::string channel, name;
    int offset = 0, bins = 0;
    std::vector<double> nominal;
    std::vector<ScalarFactor> scalars;
    std::vector<int> per_bin;  // first parameter index of each per-bin factor (element b is first + b)
    std::vector<Histo> histos;
    std::size_t scalar_offset = 0, shift_offset = 0;  // into the evaluation buffers
  };

  static double poisson_constant(double n) {
    return n > 0.0 ? n - n * std::log(n) + std::lgamma(n + 1.0) : 0.0;
  }
  // n - n ln nu + nu minus its value at nu = n: >= 0, no cancellation near the best fit.
  static double poisson_term(double nu, double n) { return n > 0.0 ? nu - n - n * std::log(nu / n) : nu; }

  std::string joined_names() const {
    std::string out;
    for (const auto& n : names_) out += (out.empty() ? "" : ", ") + n;
    return out;
  }

  Interpolated scalar_factor(const ScalarFactor& f, const Eigen::VectorXd& params) const {
    const double x = params[f.param];
    if (f.kind == FactorKind::linear) return {x, 1.0, 0.0};
    Interpolated r = options_.normsys == NormsysInterp::code1 ? normsys_code1(x, f.hi, f.lo)
                                                              : normsys_code4(x, f.hi, f.lo, f.code4);
    if (r.value <= kClipValue && options_.non_positive == NonPositive::clip) r = {kClipValue, 0.0, 0.0};
    return r;
  }
  Interpolated histo_shift(const Histo& h, int bin, double alpha) const {
    const auto b = static_cast<std::size_t>(bin);
    return options_.histosys == HistosysInterp::code0 ? histosys_code0(alpha, h.up[b], h.down[b])
                                                      : histosys_code4p(alpha, h.up[b], h.down[b]);
  }

  // Bin b of one sample at these parameters; `scalar` is the product of its scalar factors.
  double sample_bin(const Sample& s, int b, double scalar, const Eigen::VectorXd& params) const {
    double additive = s.nominal[static_cast<std::size_t>(b)];
    for (const auto& h : s.histos) additive += histo_shift(h, b, params[h.param]).value;
    double v = additive * scalar;
    for (int first : s.per_bin) v *= params[first + b];
    return v;
  }
  double sample_scalar(const Sample& s, const Eigen::VectorXd& params) const {
    double scalar = 1.0;
    for (const auto& f : s.scalars) scalar *= scalar_factor(f, params).value;
    return scalar;
  }

  Eigen::VectorXd raw_expected(const Eigen::VectorXd& params) const {
    Eigen::VectorXd nu = Eigen::VectorXd::Zero(n_main_);
    for (const auto& s : samples_) {
      const double scalar = sample_scalar(s, params);
      for (int b = 0; b < s.bins; ++b) nu[s.offset + b] += sample_bin(s, b, scalar, params);
    }
    return nu;
  }

  void evaluate_or_throw(const Eigen::VectorXd& params, const Data& data, double& value,
                         Eigen::VectorXd* gradient, Eigen::MatrixXd* hessian) const {
    check_params(params);
    check_data(data);
    std::string why;
    if (!evaluate(params, data, value, gradient, hessian, &why)) fail(why, " (non_positive = refuse)");
  }

  // Per-thread buffers of evaluate(), so that a fit allocates nothing per evaluation once warm.
  struct Scratch {
    Eigen::VectorXd nu, residual, curvature, weighted;
    Eigen::MatrixXd jac;
    std::vector<char> clipped;
    std::vector<Interpolated> scalars, shifts;  // per sample's scalar factor; per (sample, histosys, bin)
    std::vector<double> without, without2, bin_without;  // products with one / two factors left out
  };

  bool evaluate(const Eigen::VectorXd& params, const Data& data, double& value, Eigen::VectorXd* gradient,
                Eigen::MatrixXd* hessian, std::string* why) const {
    return common_shape_ ? evaluate_common(params, data, value, gradient, hessian, why)
                         : evaluate_general(params, data, value, gradient, hessian, why);
  }

  // evaluate() for common_shape() models, the general evaluation with its loops over factors removed:
  // nu_sb = (nominal_sb + sum of histosys shifts) * S_s with S_s the sample's one scalar factor (or 1).
  // The same sums in the same order as evaluate_general(), so the same bits.
  bool evaluate_common(const Eigen::VectorXd& params, const Data& data, double& value,
                       Eigen::VectorXd* gradient, Eigen::MatrixXd* hessian, std::string* why) const {
    const bool clip = options_.non_positive == NonPositive::clip;
    thread_local Scratch scratch;
    Scratch& w = scratch;
    w.scalars.resize(samples_.size());  // per sample here: {1, 0, 0} without a scalar factor
    w.shifts.resize(n_shift_entries_);
    w.nu.setZero(n_main_);
    for (std::size_t i = 0; i < samples_.size(); ++i) {
      const Sample& s = samples_[i];
      Interpolated f{1.0, 0.0, 0.0};
      if (!s.scalars.empty()) {
        f = scalar_factor(s.scalars[0], params);
        if (!clip && s.scalars[0].kind == FactorKind::normsys && f.value <= 0.0) {
          if (why)
            *why = "normsys '" + s.scalars[0].name +
                   "' factor is <= 0 at alpha = " + std::to_string(params[s.scalars[0].param]);
          return false;
        }
      }
      w.scalars[i] = f;
      const auto stride = static_cast<std::size_t>(s.bins);
      for (int b = 0; b < s.bins; ++b) {
        const auto bu = static_cast<std::size_t>(b);
        double additive = s.nominal[bu];
        for (std::size_t h = 0; h < s.histos.size(); ++h) {
          const Interpolated shift = histo_shift(s.histos[h], b, params[s.histos[h].param]);
          w.shifts[s.shift_offset + h * stride + bu] = shift;
          additive += shift.value;
        }
        w.nu[s.offset + b] += additive * f.value;
      }
    }
    if (!poisson_terms(data, w, value, why)) return false;
    if (!gradient && !hessian) return add_constraints(params, data, value, nullptr, nullptr, why);
    start_derivatives(data, w, hessian);
    // (p, q) from two different factors: both orders, so twice on the diagonal when p == q
    auto cross = [&](int p, int q, double v) { add_cross_term(*hessian, p, q, v); };
    for (std::size_t i = 0; i < samples_.size(); ++i) {
      const Sample& s = samples_[i];
      const Interpolated f = w.scalars[i];
      const int pk = s.scalars.empty() ? -1 : s.scalars[0].param;
      const auto stride = static_cast<std::size_t>(s.bins);
      for (int b = 0; b < s.bins; ++b) {
        const Index row = s.offset + b;
        if (w.clipped[static_cast<std::size_t>(row)]) continue;
        const std::size_t nh = s.histos.size();  // shift[h * stride]: histosys h in this bin
        const Interpolated* shift =              // no histosys: the buffer may be empty (data() null)
            nh > 0 ? w.shifts.data() + s.shift_offset + static_cast<std::size_t>(b) : nullptr;
        double additive = s.nominal[static_cast<std::size_t>(b)];
        for (std::size_t h = 0; h < nh; ++h) additive += shift[h * stride].value;
        for (std::size_t h = 0; h < nh; ++h) w.jac(row, s.histos[h].param) += shift[h * stride].d1 * f.value;
        if (pk >= 0) w.jac(row, pk) += f.d1 * additive;
        const double w2 = w.residual[row];
        if (!hessian || w2 == 0.0) continue;
        for (std::size_t h = 0; h < nh; ++h) {
          const int ph = s.histos[h].param;
          (*hessian)(ph, ph) += w2 * shift[h * stride].d2 * f.value;  // shifts are additive: no histo x histo
          if (pk >= 0) cross(ph, pk, w2 * shift[h * stride].d1 * f.d1);
        }
        if (pk >= 0) (*hessian)(pk, pk) += w2 * f.d2 * additive;
      }
    }
    return finish_derivatives(params, data, w, value, gradient, hessian, why);
  }

  // The end of pass 1, shared by both evaluations: the Poisson terms of the main bins (w.nu) under the
  // non-positive policy; w.clipped marks masked and clipped bins, which get no derivatives.
  bool poisson_terms(const Data& data, Scratch& w, double& value, std::string* why) const {
    const bool clip = options_.non_positive == NonPositive::clip;
    w.clipped.assign(static_cast<std::size_t>(n_main_), 0);
    value = 0.0;
    for (Index b = 0; b < n_main_; ++b) {
      const double n = data.main[b];
      if (masked_[static_cast<std::size_t>(b)]) {  // no term, no derivatives (as a clipped bin)
        w.clipped[static_cast<std::size_t>(b)] = 1;
        continue;
      }
      if (w.nu[b] <= kClipValue) {
        if (clip) {
          w.nu[b] = kClipValue;
          w.clipped[static_cast<std::size_t>(b)] = 1;
        } else if (w.nu[b] < 0.0 || (w.nu[b] == 0.0 && n > 0.0)) {
          if (why)
            *why = bin_name(b) + ": expected yield " + std::to_string(w.nu[b]) + " with observed " +
                   std::to_string(n);
          return false;
        }
      }
      value += poisson_term(w.nu[b], n);
    }
    return true;
  }

  // The start of pass 2: per bin the weights r = 1 - n/nu and c = n/nu^2; J and the Hessian zeroed.
  void start_derivatives(const Data& data, Scratch& w, Eigen::MatrixXd* hessian) const {
    w.residual.resize(n_main_);
    w.curvature.resize(n_main_);
    // clipped bins get zero rows in jac, so their weights do not matter
    for (Index b = 0; b < n_main_; ++b) {
      w.residual[b] = 1.0 - data.main[b] / w.nu[b];
      w.curvature[b] = data.main[b] / (w.nu[b] * w.nu[b]);
      if (masked_[static_cast<std::size_t>(b)]) w.residual[b] = w.curvature[b] = 0.0;  // nu may be <= 0 there
    }
    w.jac.setZero(n_main_, n_params());
    if (hessian) hessian->setZero(n_params(), n_params());
  }

  // The end of pass 2: gradient = J^T r, Hessian += J^T diag(c) J, then the constraint terms. J^T r and
  // J^T diag(c) J by hand: the matrices are tall and thin, Eigen's general products cost more than the
  // arithmetic at these sizes.
  bool finish_derivatives(const Eigen::VectorXd& params, const Data& data, Scratch& w, double& value,
                          Eigen::VectorXd* gradient, Eigen::MatrixXd* hessian, std::string* why) const {
    const int np = n_params();
    if (gradient) {
      gradient->resize(np);
      for (int p = 0; p < np; ++p) (*gradient)[p] = w.jac.col(p).dot(w.residual);
    }
    if (hessian)
      for (int p = 0; p < np; ++p) {
        w.weighted = w.jac.col(p).cwiseProduct(w.curvature);
        for (int q = 0; q <= p; ++q) {
          const double v = w.weighted.dot(w.jac.col(q));
          (*hessian)(p, q) += v;
          if (p != q) (*hessian)(q, p) += v;
        }
      }
    return add_constraints(params, data, value, gradient, hessian, why);
  }

  // The constraint terms of every parameter: value, and gradient and Hessian when asked for.
  bool add_constraints(const Eigen::VectorXd& params, const Data& data, double& value,
                       Eigen::VectorXd* gradient, Eigen::MatrixXd* hessian, std::string* why) const {
    const bool clip = options_.non_positive == NonPositive::clip;
    for (int i = 0; i < n_params(); ++i) {
      const auto& p = params_[static_cast<std::size_t>(i)];
      if (p.constraint == Constraint::gaussian) {
        const double z = (data.aux[p.aux] - params[i]) / p.sigma;
        value += 0.5 * z * z;
        if (gradient) (*gradient)[i] += (params[i] - data.aux[p.aux]) / (p.sigma * p.sigma);
        if (hessian) (*hessian)(i, i) += 1.0 / (p.sigma * p.sigma);
      } else if (p.constraint == Constraint::poisson) {
        double rate = params[i] * p.tau;
        const bool positive = rate > kClipValue;
        if (!positive) {
          if (!clip) {
            if (why) *why = "Poisson constraint of '" + p.name + "': rate " + std::to_string(rate) + " <= 0";
            return false;
          }
          rate = kClipValue;
        }
        const double a = data.aux[p.aux];
        value += poisson_term(rate, a);
        if (!positive) continue;
        if (gradient) (*gradient)[i] += p.tau - a / params[i];
        if (hessian) (*hessian)(i, i) += a / (params[i] * params[i]);
      }
    }
    return true;
  }

  bool evaluate_general(const Eigen::VectorXd& params, const Data& data, double& value,
                        Eigen::VectorXd* gradient, Eigen::MatrixXd* hessian, std::string* why) const {
    const bool clip = options_.non_positive == NonPositive::clip;
    thread_local Scratch scratch;
    Scratch& w = scratch;
    // Pass 1: every interpolated factor and shift once, the expected yields, the non-positive policy.
    w.scalars.resize(n_scalar_factors_);
    w.shifts.resize(n_shift_entries_);
    w.nu.setZero(n_main_);
    for (const auto& s : samples_) {
      double scalar = 1.0;
      for (std::size_t k = 0; k < s.scalars.size(); ++k) {
        const Interpolated f = scalar_factor(s.scalars[k], params);
        if (!clip && s.scalars[k].kind == FactorKind::normsys && f.value <= 0.0) {
          if (why)
            *why = "normsys '" + s.scalars[k].name +
                   "' factor is <= 0 at alpha = " + std::to_string(params[s.scalars[k].param]);
          return false;
        }
        w.scalars[s.scalar_offset + k] = f;
        scalar *= f.value;
      }
      for (int b = 0; b < s.bins; ++b) {
        double additive = s.nominal[static_cast<std::size_t>(b)];
        for (std::size_t h = 0; h < s.histos.size(); ++h) {
          const Interpolated shift = histo_shift(s.histos[h], b, params[s.histos[h].param]);
          w.shifts[s.shift_offset + h * static_cast<std::size_t>(s.bins) + static_cast<std::size_t>(b)] =
              shift;
          additive += shift.value;
        }
        double v = additive * scalar;
        for (int first : s.per_bin) v *= params[first + b];
        w.nu[s.offset + b] += v;
      }
    }
    if (!poisson_terms(data, w, value, why)) return false;
    if (!gradient && !hessian) return add_constraints(params, data, value, nullptr, nullptr, why);

    // Pass 2: J = d nu / d theta; gradient = J^T (1 - n/nu); Hessian = J^T diag(n/nu^2) J + sum (1 - n/nu) d2
    // nu.
    start_derivatives(data, w, hessian);
    // nu_sb = A_b * S * P_b: A = nominal + histosys shifts, S = product of the sample's scalar factors
    // (the same in every bin), P = product of its per-bin factors. Derivatives use the products with one
    // or two factors left out, so a factor equal to 0 (mu = 0) needs no division.
    for (const auto& s : samples_) {
      const std::size_t nk = s.scalars.size(), nh = s.histos.size(), nj = s.per_bin.size();
      const Interpolated* f = w.scalars.data() + s.scalar_offset;
      w.without.assign(nk, 1.0);
      w.without2.assign(nk * nk, 1.0);
      for (std::size_t k = 0; k < nk; ++k)
        for (std::size_t m = 0; m < nk; ++m) {
          if (m == k) continue;
          w.without[k] *= f[m].value;
          for (std::size_t l = k + 1; l < nk; ++l)
            if (m != l) w.without2[k * nk + l] *= f[m].value;
        }
      const double scalar = nk > 0 ? w.without[0] * f[0].value : 1.0;
      const auto stride = static_cast<std::size_t>(s.bins);
      for (int b = 0; b < s.bins; ++b) {
        const Index row = s.offset + b;
        if (w.clipped[static_cast<std::size_t>(row)]) continue;
        // No histosys: the buffer may be empty (data() null), so no pointer arithmetic on it.
        const Interpolated* shift =
            nh > 0 ? w.shifts.data() + s.shift_offset + static_cast<std::size_t>(b) : nullptr;
        double additive = s.nominal[static_cast<std::size_t>(b)];
        for (std::size_t h = 0; h < nh; ++h) additive += shift[h * stride].value;
        w.bin_without.assign(nj, 1.0);
        double per_bin = 1.0;
        for (std::size_t j = 0; j < nj; ++j) {
          const double theta = params[s.per_bin[j] + b];
          per_bin *= theta;
          for (std::size_t i = 0; i < nj; ++i)
            if (i != j) w.bin_without[i] *= theta;
        }
        const double sp = scalar * per_bin, ap = additive * per_bin, as = additive * scalar;
        for (std::size_t h = 0; h < nh; ++h) w.jac(row, s.histos[h].param) += shift[h * stride].d1 * sp;
        for (std::size_t k = 0; k < nk; ++k) w.jac(row, s.scalars[k].param) += f[k].d1 * w.without[k] * ap;
        for (std::size_t j = 0; j < nj; ++j) w.jac(row, s.per_bin[j] + b) += w.bin_without[j] * as;
        const double w2 = w.residual[row];
        if (!hessian || w2 == 0.0) continue;
        // (p, q) from two different factors: both orders, so twice on the diagonal when p == q
        auto cross = [&](int p, int q, double v) { add_cross_term(*hessian, p, q, v); };
        for (std::size_t h = 0; h < nh; ++h) {
          const int ph = s.histos[h].param;
          const double d1 = shift[h * stride].d1;
          (*hessian)(ph, ph) += w2 * shift[h * stride].d2 * sp;  // shifts are additive: no histo x histo
          for (std::size_t k = 0; k < nk; ++k)
            cross(ph, s.scalars[k].param, w2 * d1 * f[k].d1 * w.without[k] * per_bin);
          for (std::size_t j = 0; j < nj; ++j)
            cross(ph, s.per_bin[j] + b, w2 * d1 * scalar * w.bin_without[j]);
        }
        for (std::size_t k = 0; k < nk; ++k) {
          const int pk = s.scalars[k].param;
          (*hessian)(pk, pk) += w2 * f[k].d2 * w.without[k] * ap;
          for (std::size_t l = k + 1; l < nk; ++l)
            cross(pk, s.scalars[l].param, w2 * f[k].d1 * f[l].d1 * w.without2[k * nk + l] * ap);
          for (std::size_t j = 0; j < nj; ++j)
            cross(pk, s.per_bin[j] + b, w2 * f[k].d1 * w.without[k] * additive * w.bin_without[j]);
        }
        for (std::size_t i = 0; i < nj; ++i)
          for (std::size_t j = i + 1; j < nj; ++j) {
            double rest = as;
            for (std::size_t m = 0; m < nj; ++m)
              if (m != i && m != j) rest *= params[s.per_bin[m] + b];
            cross(s.per_bin[i] + b, s.per_bin[j] + b, w2 * rest);
          }
      }
    }
    return finish_derivatives(params, data, w, value, gradient, hessian, why);
  }

  // -- construction ---------------------------------------------------------------------------------------
  int add_parameter(Parameter p) {
    names_.push_back(p.name);
    params_.push_back(std::move(p));
    return n_params() - 1;
  }

  struct Group {
    std::string type;  // normfactor, shapefactor, lumi, alpha, shapesys, staterror
    int first = 0, count = 1;
    std::string channel;  // per-bin groups that must stay within one channel
    std::string owner;    // "channel/sample" that created it, for messages
  };

  static std::string group_type(const std::string& modifier_type) {
    return (modifier_type == "normsys" || modifier_type == "histosys") ? "alpha" : modifier_type;
  }

  AGNOSTIC_COMPILED_WHEN_USED
  void build(const Workspace& ws) {
    const MeasurementSpec& meas = ws.measurement(options_.measurement);
    measurement_ = meas.name;
    std::map<std::string, Group> groups;
    // staterror: per channel and name, sums of nominal and of squared uncertainties per bin
    std::map<std::pair<std::string, std::string>, std::pair<std::vector<double>, std::vector<double>>> stat;
    for (const auto& c : ws.channels)
      for (const auto& s : c.samples)
        for (const auto& m : s.modifiers)
          if (m.type == "staterror") {
            auto& [nom, var] = stat[{c.name, m.name}];
            nom.resize(s.data.size(), 0.0);
            var.resize(s.data.size(), 0.0);
            for (std::size_t b = 0; b < s.data.size(); ++b) {
              nom[b] += s.data[b];
              var[b] += m.values[b] * m.values[b];
            }
          }

    int offset = 0;
    for (const auto& c : ws.channels) {
      channels_.push_back({c.name, offset, c.bins()});
      for (const auto& s : c.samples) {
        Sample sample;
        sample.channel = c.name;
        sample.name = s.name;
        sample.offset = offset;
        sample.bins = c.bins();
        sample.nominal = s.data;
        const std::string where = ws.where() + ": channel '" + c.name + "' sample '" + s.name + "'";
        for (const auto& m : s.modifiers) {
          const std::string mwhere = where + " modifier '" + m.name + "' (" + m.type + ")";
          const std::string type = group_type(m.type);
          const bool per_bin = m.type == "shapefactor" || m.type == "shapesys" || m.type == "staterror";
          auto found = groups.find(m.name);
          if (found != groups.end()) {
            const Group& g = found->second;
            require(g.type == type, mwhere, ": the name '", m.name, "' is already a ", g.type,
                    " parameter (from ", g.owner,
                    "); modifiers sharing a parameter must have compatible types");
            if (per_bin)
              require(g.count == sample.bins, mwhere, ": shares its parameter with ", g.owner, " which has ",
                      g.count, " bins, this sample has ", sample.bins);
            if (m.type == "staterror")
              require(g.channel == c.name, mwhere, ": staterror '", m.name, "' is already used in channel '",
                      g.channel, "'; a staterror parameter belongs to one channel");
            if (m.type == "shapesys")
              fail(mwhere, ": shapesys '", m.name, "' is already used by ", g.owner,
                   "; sharing a shapesys parameter between samples is not supported");
          } else {
            Group g;
            g.type = type;
            g.channel = c.name;
            g.owner = "channel '" + c.name + "' sample '" + s.name + "'";
            g.first = n_params();
            g.count = per_bin ? sample.bins : 1;
            make_parameters(g, m, sample, stat, mwhere);
            found = groups.emplace(m.name, g).first;
          }
          const Group& g = found->second;
          if (m.type == "normfactor" || m.type == "lumi") {
            sample.scalars.push_back({g.first, FactorKind::linear, 1.0, 1.0, {}, m.name});
          } else if (m.type == "normsys") {
            ScalarFactor f{g.first, FactorKind::normsys, m.hi, m.lo, {}, m.name};
            if (!(m.hi > 0.0 && m.lo > 0.0)) {
              require(options_.non_positive == NonPositive::clip, mwhere, ": hi = ", m.hi, " and lo = ", m.lo,
                      " must both be > 0 (non_positive = refuse)");
              f.hi = std::max(f.hi, kClipValue);
              f.lo = std::max(f.lo, kClipValue);
            }
            f.code4 = code4_coefficients(f.hi, f.lo);
            sample.scalars.push_back(f);
          } else if (m.type == "histosys") {
            Histo h{g.first, {}, {}};
            for (int b = 0; b < sample.bins; ++b) {
              const auto i = static_cast<std::size_t>(b);
              h.up.push_back(m.hi_data[i] - s.data[i]);
              h.down.push_back(s.data[i] - m.lo_data[i]);
            }
            sample.histos.push_back(std::move(h));
          } else {
            sample.per_bin.push_back(g.first);
          }
        }
        samples_.push_back(std::move(sample));
      }
      offset += c.bins();
    }
    n_main_ = offset;
    for (auto& s : samples_) {
      s.scalar_offset = n_scalar_factors_;
      s.shift_offset = n_shift_entries_;
      n_scalar_factors_ += s.scalars.size();
      n_shift_entries_ += s.histos.size() * static_cast<std::size_t>(s.bins);
    }
    common_shape_ = std::all_of(samples_.begin(), samples_.end(),
                                [](const Sample& s) { return s.per_bin.empty() && s.scalars.size() <= 1; });
    kinked_.assign(params_.size(), 0);
    for (const auto& s : samples_) {
      for (const auto& f : s.scalars)
        if (f.kind == FactorKind::normsys && options_.normsys == NormsysInterp::code1 &&
            std::abs(std::log(f.hi) + std::log(f.lo)) > 1e-15)
          kinked_[static_cast<std::size_t>(f.param)] = 1;
      for (const auto& h : s.histos)
        for (std::size_t b = 0; b < h.up.size(); ++b)
          if (options_.histosys == HistosysInterp::code0 && h.up[b] != h.down[b])
            kinked_[static_cast<std::size_t>(h.param)] = 1;
    }

    // measurement overrides
    for (const auto& cfg : meas.parameters) {
      auto found = groups.find(cfg.name);
      if (found == groups.end()) continue;  // pyhf ignores settings of parameters the model does not have
      const Group& g = found->second;
      const std::string where = ws.where() + ": measurement '" + meas.name + "' parameter '" + cfg.name + "'";
      auto sized = [&](std::size_t n, const char* key) {
        require(static_cast<int>(n) == g.count, where, ": '", key, "' has ", n,
                " entries, the parameter has ", g.count);
      };
      for (int k = 0; k < g.count; ++k) {
        auto& p = params_[static_cast<std::size_t>(g.first + k)];
        const auto ku = static_cast<std::size_t>(k);
        if (!cfg.inits.empty()) {
          sized(cfg.inits.size(), "inits");
          p.init = cfg.inits[ku];
        }
        if (!cfg.bounds.empty()) {
          sized(cfg.bounds.size(), "bounds");
          p.lower = cfg.bounds[ku].first;
          p.upper = cfg.bounds[ku].second;
        }
        if (cfg.fixed) p.fixed = *cfg.fixed;
        if (!cfg.auxdata.empty()) {
          sized(cfg.auxdata.size(), "auxdata");
          require(p.constraint == Constraint::gaussian, where,
                  ": 'auxdata' can only be set for a Gaussian-constrained parameter, this one is ", p.type);
          p.aux_nominal = cfg.auxdata[ku];
          if (p.type == "lumi" && cfg.inits.empty()) p.init = p.aux_nominal;
        }
        if (!cfg.sigmas.empty()) {
          sized(cfg.sigmas.size(), "sigmas");
          require(p.constraint == Constraint::gaussian, where,
                  ": 'sigmas' can only be set for a Gaussian-constrained parameter, this one is ", p.type);
          require(cfg.sigmas[ku] > 0.0, where, ": sigmas must be > 0, got ", cfg.sigmas[ku]);
          p.sigma = cfg.sigmas[ku];
        }
      }
    }
    for (const auto& [name, g] : groups)
      if (g.type == "lumi") {
        bool has_sigma = false;
        for (const auto& cfg : meas.parameters)
          has_sigma = has_sigma || (cfg.name == name && !cfg.sigmas.empty());
        require(has_sigma, ws.where(), ": lumi parameter '", name,
                "' needs 'sigmas' (and usually 'auxdata') in ", "measurement '", meas.name,
                "' config.parameters");
      }
    apply_values(options_.start_values, "start value (--set)", false);
    apply_values(options_.fixed_values, "fixed value (--fix)", true);
    for (auto& p : params_) {
      require(p.lower <= p.init && p.init <= p.upper, ws.where(), ": parameter '", p.name, "' init ", p.init,
              " is outside its bounds [", p.lower, ", ", p.upper, "]");
      if (p.constraint != Constraint::none) p.aux = n_aux_++;
    }

    const std::string poi_name = options_.poi.empty() ? meas.poi : options_.poi;
    auto poi = groups.find(poi_name);
    require(poi != groups.end() && poi->second.count == 1, ws.where(), ": POI '", poi_name,
            "' of measurement '", meas.name,
            "' is not a scalar parameter of the model (parameters: ", joined_names(), ")");
    poi_ = poi->second.first;

    const int np = n_params();
    init_.resize(np);
    lower_.resize(np);
    upper_.resize(np);
    fixed_.assign(static_cast<std::size_t>(np), false);
    nominal_aux_.resize(n_aux_);
    for (int i = 0; i < np; ++i) {
      const auto& p = params_[static_cast<std::size_t>(i)];
      init_[i] = p.init;
      lower_[i] = p.lower;
      upper_[i] = p.upper;
      fixed_[static_cast<std::size_t>(i)] = p.fixed;
      if (p.aux >= 0) nominal_aux_[p.aux] = p.aux_nominal;
    }
    observed_main_.resize(n_main_);
    for (const auto& c : channels_) {
      const auto& obs = ws.observation(c.name);
      for (int b = 0; b < c.bins; ++b) observed_main_[c.offset + b] = obs.data[static_cast<std::size_t>(b)];
    }
    masked_.assign(static_cast<std::size_t>(n_main_), 0);
    for (const auto& name : options_.masked_channels) {
      const auto c = std::find_if(channels_.begin(), channels_.end(),
                                  [&](const ChannelInfo& info) { return info.name == name; });
      if (c == channels_.end()) {
        std::string known;
        for (const auto& info : channels_) known += (known.empty() ? "'" : ", '") + info.name + "'";
        fail(ws.where(), ": masked channel '", name, "' is not in the workspace (channels: ", known, ")");
      }
      std::fill_n(masked_.begin() + c->offset, c->bins, 1);
    }
  }

  // Sets the init (and, with `fix`, the fixed flag) of the parameters named in `values`: a parameter
  // name, or a modifier name for all of its elements.
  void apply_values(const std::map<std::string, double>& values, const char* what, bool fix) {
    for (const auto& [name, value] : values) {
      bool found = false;
      for (auto& p : params_) {
        if (p.name != name && p.modifier != name) continue;
        found = true;
        require(std::isfinite(value) && p.lower <= value && value <= p.upper, what, " ", value,
                " of parameter '", p.name, "' is outside its bounds [", p.lower, ", ", p.upper, "]");
        p.init = value;
        if (fix) p.fixed = true;
      }
      require(found, what, ": unknown parameter '", name, "'; the model has: ", joined_names());
    }
  }

  void make_parameters(const Group& g, const ModifierSpec& m, const Sample& sample,
                       const std::map<std::pair<std::string, std::string>,
                                      std::pair<std::vector<double>, std::vector<double>>>& stat,
                       const std::string& where) {
    for (int k = 0; k < g.count; ++k) {
      const auto ku = static_cast<std::size_t>(k);
      Parameter p;
      p.modifier = m.name;
      p.type = g.type;
      p.name = g.count == 1 && g.type != "shapefactor" && g.type != "shapesys" && g.type != "staterror"
                   ? m.name
                   : m.name + "[" + std::to_string(k) + "]";
      if (g.type == "normfactor" || g.type == "shapefactor") {
        p.init = 1.0, p.lower = 0.0, p.upper = 10.0;
      } else if (g.type == "alpha") {
        p.init = 0.0, p.lower = -5.0, p.upper = 5.0;
        p.constraint = Constraint::gaussian, p.aux_nominal = 0.0, p.sigma = 1.0;
      } else if (g.type == "lumi") {
        p.init = 1.0, p.lower = 0.0, p.upper = 10.0;
        p.constraint = Constraint::gaussian, p.aux_nominal = 1.0,
        p.sigma = 1.0;  // sigma set by the measurement
      } else if (g.type == "shapesys") {
        p.init = 1.0, p.lower = 1e-10, p.upper = 10.0;
        p.constraint = Constraint::poisson;
        const double nom = sample.nominal[ku], unc = m.values[ku];
        if (nom > 0.0 && unc > 0.0) {
          p.tau = (nom / unc) * (nom / unc);
        } else {
          p.tau = 1.0;
          p.fixed = true;
        }
        p.aux_nominal = p.tau;
      } else if (g.type == "staterror") {
        p.init = 1.0, p.lower = 1e-10, p.upper = 10.0;
        p.constraint = Constraint::gaussian, p.aux_nominal = 1.0;
        const auto& [nom, var] = stat.at({sample.channel, m.name});
        if (nom[ku] > 0.0 && var[ku] > 0.0) {
          p.sigma = std::sqrt(var[ku]) / nom[ku];
        } else {
          p.sigma = 1.0;
          p.fixed = true;
        }
      } else {
        fail(where, ": internal: unknown parameter type ", g.type);
      }
      add_parameter(std::move(p));
    }
  }

  ModelOptions options_;
  std::string measurement_;
  std::vector<Parameter> params_;
  std::vector<std::string> names_;
  std::vector<ChannelInfo> channels_;
  std::vector<Sample> samples_;
  int n_main_ = 0, n_aux_ = 0, poi_ = 0;
  std::size_t n_scalar_factors_ = 0, n_shift_entries_ = 0;
  Eigen::VectorXd init_, lower_, upper_, observed_main_, nominal_aux_;
  std::vector<bool> fixed_;
  std::vector<char> kinked_;
  std::vector<char> masked_;  // per main bin: 1 when its channel is masked
  bool common_shape_ = false;
};

}  // namespace agnostic::stats
