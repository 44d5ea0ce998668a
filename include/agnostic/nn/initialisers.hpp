#pragma once
// Initial values for weights and biases, drawn from a seeded agnostic::Rng.
//
// A dense layer's weight is n_out x n_in, so fan_in = cols and fan_out = rows (a 1 x n bias has
// fan_in n, fan_out 1). The formulas are the usual ones:
//   Glorot (Xavier) uniform  U(-a, a), a = sqrt(6 / (fan_in + fan_out))
//   Glorot (Xavier) normal   N(0, s^2), s = sqrt(2 / (fan_in + fan_out))
//   He (Kaiming) uniform     U(-a, a), a = sqrt(6 / fan_in)
//   He (Kaiming) normal      N(0, s^2), s = sqrt(2 / fan_in)
// The normal ones are plain (untruncated) Gaussians, as in PyTorch's xavier_normal_/kaiming_normal_;
// Keras draws them from a normal truncated at 2 s with a corrected width instead.
//
// Draws are taken in double and rounded to T, row by row (all inputs of output unit 0, then unit
// 1, ...), so the same seed gives the same values for float and double, independent of the standard
// library's distributions (compilers may still round lo + (hi - lo) u differently in the last bit).
#include <cmath>
#include <string>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/core/rng.hpp"

namespace agnostic {

enum class InitialiserKind { glorot_uniform, glorot_normal, he_uniform, he_normal, zeros, constant };

struct Initialiser {
  InitialiserKind kind = InitialiserKind::glorot_uniform;
  double value = 0.0;  // the value of `constant`

  static Initialiser glorot_uniform() { return {InitialiserKind::glorot_uniform, 0.0}; }
  static Initialiser glorot_normal() { return {InitialiserKind::glorot_normal, 0.0}; }
  static Initialiser xavier_uniform() { return glorot_uniform(); }
  static Initialiser xavier_normal() { return glorot_normal(); }
  static Initialiser he_uniform() { return {InitialiserKind::he_uniform, 0.0}; }
  static Initialiser he_normal() { return {InitialiserKind::he_normal, 0.0}; }
  static Initialiser zeros() { return {InitialiserKind::zeros, 0.0}; }
  static Initialiser constant(double v) { return {InitialiserKind::constant, v}; }

  bool operator==(const Initialiser&) const = default;

  // The half-width (uniform kinds) or standard deviation (normal kinds) for a rows x cols matrix;
  // 0 for zeros and constant.
  double scale(Index rows, Index cols) const {
    const double fan_in = static_cast<double>(cols), fan_out = static_cast<double>(rows);
    switch (kind) {
      case InitialiserKind::glorot_uniform:
        return std::sqrt(6.0 / (fan_in + fan_out));
      case InitialiserKind::glorot_normal:
        return std::sqrt(2.0 / (fan_in + fan_out));
      case InitialiserKind::he_uniform:
        return std::sqrt(6.0 / fan_in);
      case InitialiserKind::he_normal:
        return std::sqrt(2.0 / fan_in);
      case InitialiserKind::zeros:
      case InitialiserKind::constant:
        return 0.0;
    }
    return 0.0;
  }

  // Fills m (its size is kept) and advances rng by one draw per element for the random kinds.
  template <class T>
  void fill(Matrix<T>& m, Rng& rng) const {
    const bool random = kind != InitialiserKind::zeros && kind != InitialiserKind::constant;
    if (random)
      require(m.rows() > 0 && m.cols() > 0, "initialiser ", initialiser_name(*this),
              " needs a non-empty matrix, got ", m.rows(), " x ", m.cols());
    const double s = scale(m.rows(), m.cols());
    for (Index i = 0; i < m.rows(); ++i)
      for (Index j = 0; j < m.cols(); ++j) {
        double x = 0.0;
        switch (kind) {
          case InitialiserKind::glorot_uniform:
          case InitialiserKind::he_uniform:
            x = rng.uniform(-s, s);
            break;
          case InitialiserKind::glorot_normal:
          case InitialiserKind::he_normal:
            x = s * rng.normal();
            break;
          case InitialiserKind::zeros:
            x = 0.0;
            break;
          case InitialiserKind::constant:
            x = value;
            break;
        }
        m(i, j) = static_cast<T>(x);
      }
  }

  friend std::string initialiser_name(const Initialiser& init) {
    switch (init.kind) {
      case InitialiserKind::glorot_uniform:
        return "glorot_uniform";
      case InitialiserKind::glorot_normal:
        return "glorot_normal";
      case InitialiserKind::he_uniform:
        return "he_uniform";
      case InitialiserKind::he_normal:
        return "he_normal";
      case InitialiserKind::zeros:
        return "zeros";
      case InitialiserKind::constant:
        return "constant";
    }
    return "?";
  }
};

// By name, for configuration files: glorot_uniform (= xavier_uniform), glorot_normal
// (= xavier_normal), he_uniform, he_normal, zeros, constant (with `value`).
inline Initialiser initialiser_from_name(const std::string& name, double value = 0.0) {
  if (name == "glorot_uniform" || name == "xavier_uniform") return Initialiser::glorot_uniform();
  if (name == "glorot_normal" || name == "xavier_normal") return Initialiser::glorot_normal();
  if (name == "he_uniform") return Initialiser::he_uniform();
  if (name == "he_normal") return Initialiser::he_normal();
  if (name == "zeros") return Initialiser::zeros();
  if (name == "constant") return Initialiser::constant(value);
  fail("unknown initialiser '", name,
       "' (allowed: glorot_uniform, xavier_uniform, glorot_normal, xavier_normal, he_uniform, he_normal, "
       "zeros, "
       "constant)");
}

}  // namespace agnostic
