#pragma once
// A seeded random-number generator whose whole state is two 64-bit words, so that it can be
// saved in a checkpoint and restored exactly. The draws do not depend on the standard library's
// distribution implementations: the same seed gives the same numbers with every compiler.
#include <cmath>
#include <cstdint>
#include <numbers>

namespace agnostic {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 1) { reseed(seed); }

  // splitmix64 expands the seed into xoroshiro128+ state (never all zero).
  void reseed(std::uint64_t seed) {
    s0_ = splitmix(seed);
    s1_ = splitmix(seed);
  }

  std::uint64_t next() {
    const std::uint64_t a = s0_;
    std::uint64_t b = s1_;
    const std::uint64_t result = a + b;
    b ^= a;
    s0_ = rotl(a, 24) ^ b ^ (b << 16);
    s1_ = rotl(b, 37);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  // Standard normal by Box-Muller; no cached second value, so the state stays two words.
  double normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  double normal(double mean, double sigma) { return mean + sigma * normal(); }

  // Uniform integer in [0, n) without modulo bias.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = (~std::uint64_t{0}) - (~std::uint64_t{0}) % n;
    std::uint64_t x = next();
    while (x >= limit) x = next();
    return x % n;
  }

  // Poisson draw; inversion for small means, normal-corrected rejection (PTRS) for large ones.
  std::uint64_t poisson(double mean);

  struct State {
    std::uint64_t s0, s1;
  };
  State state() const { return {s0_, s1_}; }
  void set_state(State s) {
    s0_ = s.s0;
    s1_ = s.s1;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t splitmix(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t s0_ = 0, s1_ = 0;
};

inline std::uint64_t Rng::poisson(double mean) {
  if (!(mean > 0.0)) return 0;
  if (mean < 30.0) {
    // Inversion by sequential search: exact, and fast for small means.
    const double u = uniform();
    double p = std::exp(-mean), cumulative = p;
    std::uint64_t k = 0;
    while (u > cumulative && k < 1000) {
      ++k;
      p *= mean / static_cast<double>(k);
      cumulative += p;
    }
    return k;
  }
  // Hormann's transformed rejection with squeeze (PTRS), valid for mean >= 10.
  const double slam = std::sqrt(mean), loglam = std::log(mean);
  const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2.0);
  while (true) {
    const double u = uniform() - 0.5, v = uniform();
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2.0 * a / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<std::uint64_t>(k);
    if (k < 0.0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <=
        -mean + k * loglam - std::lgamma(k + 1.0))
      return static_cast<std::uint64_t>(k);
  }
}

}  // namespace agnostic
