#pragma once
// The activation functions of agnostic's dense layers: their kinds, their names in model files
// (lwtnn's spelling) and their forward formulas, for one value (activate) and for a block of values
// (activate_in_place). Everything that evaluates a network uses these: the tape's dense node and
// activation operations, the model files (io/), the trigger-side kernels (infer/). The derivatives,
// which only the tape needs, are in autodiff/activation.hpp.
//
// Names: files are written with lwtnn's ("rectified", "leakyrelu", "linear"); everything that reads
// a name (training configs, model files, lwtnn files) also accepts the names Keras and PyTorch users
// type first ("relu", "leaky_relu", "identity"), through lwtnn_activation_name().
#include <array>
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>

#include "agnostic/core/error.hpp"

namespace agnostic {

enum class ActivationKind { identity, relu, leaky_relu, elu, tanh, sigmoid, softplus };

struct Activation {
  ActivationKind kind = ActivationKind::identity;
  double alpha = 0.0;  // slope of LeakyReLU for x < 0, scale of ELU for x < 0

  static Activation identity() { return {ActivationKind::identity, 0.0}; }
  static Activation relu() { return {ActivationKind::relu, 0.0}; }
  static Activation leaky_relu(double a) {
    require(a > 0.0 && a < 1.0, "LeakyReLU needs 0 < alpha < 1, got ", a);
    return {ActivationKind::leaky_relu, a};
  }
  static Activation elu(double a = 1.0) {
    require(a > 0.0, "ELU needs alpha > 0, got ", a);
    return {ActivationKind::elu, a};
  }
  static Activation tanh() { return {ActivationKind::tanh, 0.0}; }
  static Activation sigmoid() { return {ActivationKind::sigmoid, 0.0}; }
  static Activation softplus() { return {ActivationKind::softplus, 0.0}; }

  bool operator==(const Activation&) const = default;
};

// y = f(x)
template <class T>
inline T activate(const Activation& a, T x) {
  switch (a.kind) {
    case ActivationKind::identity:
      return x;
    case ActivationKind::relu:
      return x > T(0) ? x : T(0);
    case ActivationKind::leaky_relu:
      return x > T(0) ? x : T(a.alpha) * x;
    case ActivationKind::elu:
      return x > T(0) ? x : T(a.alpha) * std::expm1(x);
    case ActivationKind::tanh:
      return std::tanh(x);
    case ActivationKind::sigmoid:
      // Written so that exp never overflows.
      if (x >= T(0))
        return T(1) / (T(1) + std::exp(-x));
      else {
        const T e = std::exp(x);
        return e / (T(1) + e);
      }
    case ActivationKind::softplus:
      return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::abs(x)));
  }
  return x;
}

// Applies f in place to a block (any writable Eigen dense expression). Only operations Eigen
// vectorises are used (its select() is not vectorised, hence max/min instead); the values agree
// with activate() to the last bit or two, not always exactly.
template <class Block>
inline void activate_in_place(const Activation& a, Block&& m) {
  using T = typename std::decay_t<Block>::Scalar;
  auto x = m.array();
  const T alpha = static_cast<T>(a.alpha);
  switch (a.kind) {
    case ActivationKind::identity:
      return;
    case ActivationKind::relu:
      x = x.cwiseMax(T(0));
      return;
    case ActivationKind::leaky_relu:
      x = x.cwiseMax(T(0)) + alpha * x.cwiseMin(T(0));
      return;
    case ActivationKind::elu:
      x = x.cwiseMax(T(0)) + alpha * (x.cwiseMin(T(0)).exp() - T(1));
      return;
    case ActivationKind::tanh:
      x = x.tanh();
      return;
    case ActivationKind::sigmoid:
      x = x.logistic();
      return;
    case ActivationKind::softplus:
      x = x.cwiseMax(T(0)) + (-x.abs()).exp().log1p();
      return;
  }
}

// Names as lwtnn writes them ("linear", "rectified", ...); leakyrelu and elu carry alpha separately.
inline std::string activation_name(const Activation& a) {
  switch (a.kind) {
    case ActivationKind::identity:
      return "linear";
    case ActivationKind::relu:
      return "rectified";
    case ActivationKind::leaky_relu:
      return "leakyrelu";
    case ActivationKind::elu:
      return "elu";
    case ActivationKind::tanh:
      return "tanh";
    case ActivationKind::sigmoid:
      return "sigmoid";
    case ActivationKind::softplus:
      return "softplus";
  }
  return "linear";
}

// Other names read for lwtnn's: {other name, lwtnn's name}.
inline constexpr std::array<std::pair<const char*, const char*>, 3> kActivationAliases = {
    {{"relu", "rectified"}, {"leaky_relu", "leakyrelu"}, {"identity", "linear"}}};

// "relu, leaky_relu, identity": the other names, for messages that list what is allowed.
inline std::string activation_alias_list() {
  std::string out;
  for (const auto& [alias, name] : kActivationAliases) out += (out.empty() ? "" : ", ") + std::string(alias);
  return out;
}

// lwtnn's name of the activation called `name` ("relu" -> "rectified"); any other name as given.
inline std::string lwtnn_activation_name(const std::string& name) {
  for (const auto& [alias, lwtnn] : kActivationAliases)
    if (name == alias) return lwtnn;
  return name;
}

// The activation called `name` (lwtnn's name or another of kActivationAliases).
inline Activation activation_from_name(const std::string& given, double alpha = 0.0) {
  const std::string name = lwtnn_activation_name(given);
  if (name == "linear") return Activation::identity();
  if (name == "rectified") return Activation::relu();
  if (name == "leakyrelu") return Activation::leaky_relu(alpha);
  if (name == "elu") return Activation::elu(alpha == 0.0 ? 1.0 : alpha);
  if (name == "tanh") return Activation::tanh();
  if (name == "sigmoid") return Activation::sigmoid();
  if (name == "softplus") return Activation::softplus();
  fail("unknown activation '", given,
       "' (allowed: linear, rectified, leakyrelu, elu, tanh, sigmoid, softplus; ",
       "also read: ", activation_alias_list(), ")");
}

}  // namespace agnostic
