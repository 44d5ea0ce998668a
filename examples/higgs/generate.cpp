// higgs-generate: writes a CSV of simulated-looking H -> tau tau events with the columns of the Higgs
// ML challenge sample (EventId, the 30 DER_/PRI_ features, Weight, Label), so that the example runs
// on a fresh clone with nothing beside it.
//
//   higgs-generate --output events.csv [--signal 5000] [--background 5000] [--seed 1]
//
// It is a toy, not a detector simulation, but every feature is computed from four-vectors the way
// the challenge defines it, so the correlations a network learns are physics-like:
//   signal       H (125 GeV) -> tau_lep tau_had, harder Higgs pT, more (and more forward) jets
//   background   Z/gamma* -> tau tau (half; the Z peak and a continuum), and W -> l nu with a jet faking the
//   tau (half)
// Each tau gives its visible part a random fraction of its momentum; the neutrinos and a resolution
// smearing make the missing transverse momentum. Undefined quantities are -999.0, as in the
// challenge: jet variables for events with fewer jets, and DER_mass_MMC when the (here imitated)
// mass reconstruction fails. Signal weights are ~1e-3, background weights ~1, like the real sample.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <numbers>
#include <string>
#include <vector>

#include "agnostic/core/rng.hpp"

namespace {

constexpr double kMissing = -999.0;
constexpr double kPi = std::numbers::pi;

struct FourVector {
  double e = 0, px = 0, py = 0, pz = 0;
  double pt() const { return std::hypot(px, py); }
  double phi() const { return std::atan2(py, px); }
  double eta() const {
    const double p = std::sqrt(px * px + py * py + pz * pz);
    return 0.5 * std::log((p + pz) / std::max(p - pz, 1e-9));
  }
  double mass() const { return std::sqrt(std::max(0.0, e * e - px * px - py * py - pz * pz)); }
  FourVector operator+(const FourVector& o) const { return {e + o.e, px + o.px, py + o.py, pz + o.pz}; }
  FourVector operator*(double s) const { return {e * s, px * s, py * s, pz * s}; }
};

FourVector massless(double pt, double eta, double phi) {
  return {pt * std::cosh(eta), pt * std::cos(phi), pt * std::sin(phi), pt * std::sinh(eta)};
}

FourVector with_mass(double pt, double eta, double phi, double m) {
  const FourVector v = massless(pt, eta, phi);
  const double p2 = v.px * v.px + v.py * v.py + v.pz * v.pz;
  return {std::sqrt(p2 + m * m), v.px, v.py, v.pz};
}

// Boosts v (given in the rest frame of `frame`) into the frame in which `frame` moves.
FourVector boost(const FourVector& v, const FourVector& frame) {
  const double m = frame.mass();
  const double bx = frame.px / frame.e, by = frame.py / frame.e, bz = frame.pz / frame.e;
  const double b2 = bx * bx + by * by + bz * bz;
  const double gamma = frame.e / m;
  const double bp = bx * v.px + by * v.py + bz * v.pz;
  const double g2 = b2 > 0 ? (gamma - 1.0) / b2 : 0.0;
  return {gamma * (v.e + bp), v.px + g2 * bp * bx + gamma * bx * v.e, v.py + g2 * bp * by + gamma * by * v.e,
          v.pz + g2 * bp * bz + gamma * bz * v.e};
}

// Two massless daughters of `parent`, emitted isotropically in its rest frame.
std::pair<FourVector, FourVector> two_body(const FourVector& parent, agnostic::Rng& rng) {
  const double m = parent.mass();
  const double cos_theta = rng.uniform(-1.0, 1.0), phi = rng.uniform(-kPi, kPi);
  const double sin_theta = std::sqrt(1.0 - cos_theta * cos_theta);
  const double p = 0.5 * m;
  const FourVector a{p, p * sin_theta * std::cos(phi), p * sin_theta * std::sin(phi), p * cos_theta};
  const FourVector b{p, -a.px, -a.py, -a.pz};
  return {boost(a, parent), boost(b, parent)};
}

double wrap(double phi) {
  while (phi > kPi) phi -= 2 * kPi;
  while (phi <= -kPi) phi += 2 * kPi;
  return phi;
}

double exponential(agnostic::Rng& rng, double mean) {
  double u = rng.uniform();
  while (u <= 0.0) u = rng.uniform();
  return -mean * std::log(u);
}

struct Event {
  double features[30];
  double weight;
  bool signal;
};

enum class Process { higgs, z, w };

// One event of `process` that passes the selection (lepton and tau pT > 20 GeV, |eta| < 2.5).
Event generate(Process process, agnostic::Rng& rng) {
  while (true) {
    FourVector lep, tau, nu_sum;
    double mmc_failure = 0.0, boson_mass = 0.0;
    if (process == Process::w) {
      // W -> l nu; a jet fakes the hadronic tau.
      const double mw = 80.4 + 2.1 * std::tan(kPi * (rng.uniform() - 0.5)) * 0.5;
      if (mw < 50 || mw > 120) continue;
      const FourVector w =
          with_mass(exponential(rng, 35.0), rng.normal(0.0, 1.6), rng.uniform(-kPi, kPi), mw);
      auto [l, nu] = two_body(w, rng);
      lep = l;
      nu_sum = nu;
      tau = massless(20.0 + exponential(rng, 22.0), rng.uniform(-2.5, 2.5), rng.uniform(-kPi, kPi));
      mmc_failure = 0.30;
    } else {
      const bool higgs = process == Process::higgs;
      // Background: the Z peak, plus a Drell-Yan continuum that reaches under the Higgs mass.
      const double mass = higgs                 ? rng.normal(125.0, 1.0)
                          : rng.uniform() < 0.6 ? rng.normal(91.19, 2.5)
                                                : 60.0 + exponential(rng, 55.0);
      const FourVector boson = with_mass(exponential(rng, higgs ? 45.0 : 28.0),
                                         rng.normal(0.0, higgs ? 1.3 : 1.7), rng.uniform(-kPi, kPi), mass);
      boson_mass = mass;
      auto [t1, t2] = two_body(boson, rng);
      // Visible fractions: leptonic decays keep less of the tau than hadronic ones.
      const double x_lep = 0.15 + 0.85 * std::sqrt(rng.uniform()), x_had = 0.3 + 0.7 * rng.uniform();
      const bool swap = rng.uniform() < 0.5;
      const FourVector& tl = swap ? t2 : t1;
      const FourVector& th = swap ? t1 : t2;
      lep = tl * x_lep;
      tau = th * x_had;
      nu_sum = tl * (1.0 - x_lep) + th * (1.0 - x_had);
      mmc_failure = higgs ? 0.05 : 0.12;
    }
    if (lep.pt() < 20.0 || tau.pt() < 20.0 || std::abs(lep.eta()) > 2.5 || std::abs(tau.eta()) > 2.5)
      continue;

    // Jets: signal has more, and (VBF-like) far apart in eta.
    const double u = rng.uniform();
    static const double higgs_jets[] = {0.30, 0.65, 0.88}, z_jets[] = {0.50, 0.82, 0.95},
                        w_jets[] = {0.42, 0.78, 0.93};  // cumulative P(0, 1, 2 jets)
    const double* cumulative = process == Process::higgs ? higgs_jets
                               : process == Process::z   ? z_jets
                                                         : w_jets;
    const int jet_num = u < cumulative[0] ? 0 : u < cumulative[1] ? 1 : u < cumulative[2] ? 2 : 3;
    const bool vbf = process == Process::higgs && jet_num >= 2 && rng.uniform() < 0.45;
    std::vector<FourVector> jets;
    for (int k = 0; k < jet_num; ++k) {
      const double pt = 25.0 + exponential(rng, process == Process::higgs ? 45.0 : 30.0);
      double eta = rng.normal(0.0, 1.8);
      if (vbf && k < 2) eta = (k == 0 ? 1.0 : -1.0) * std::abs(rng.normal(2.4, 0.9));
      if (std::abs(eta) > 4.5) eta = std::copysign(4.4, eta);
      jets.push_back(massless(pt, eta, rng.uniform(-kPi, kPi)));
    }
    std::sort(jets.begin(), jets.end(),
              [](const FourVector& a, const FourVector& b) { return a.pt() > b.pt(); });

    // Missing transverse momentum: neutrinos, recoil against the jets, and resolution.
    double sum_jet_pt = 0.0;
    for (const auto& j : jets) sum_jet_pt += j.pt();
    const double underlying = exponential(rng, 60.0) + 20.0;
    const double sumet = lep.pt() + tau.pt() + sum_jet_pt + underlying;
    const double resolution = 0.5 * std::sqrt(sumet);
    const double met_x = nu_sum.px + rng.normal(0.0, resolution),
                 met_y = nu_sum.py + rng.normal(0.0, resolution);
    const double met = std::hypot(met_x, met_y), met_phi = std::atan2(met_y, met_x);

    Event ev{};
    ev.signal = process == Process::higgs;
    double* f = ev.features;
    const double true_mass = (lep + tau + FourVector{0, nu_sum.px, nu_sum.py, nu_sum.pz}).mass();
    const double mmc_centre = process == Process::w ? 0.55 * true_mass + 25.0 : boson_mass;
    f[0] = rng.uniform() < mmc_failure ? kMissing : std::max(10.0, rng.normal(mmc_centre, 0.22 * mmc_centre));
    f[1] = std::sqrt(std::max(0.0, 2.0 * lep.pt() * met * (1.0 - std::cos(lep.phi() - met_phi))));
    f[2] = (lep + tau).mass();
    const double hx = lep.px + tau.px + met_x, hy = lep.py + tau.py + met_y;
    f[3] = std::hypot(hx, hy);
    if (jet_num >= 2) {
      const double e1 = jets[0].eta(), e2 = jets[1].eta();
      f[4] = std::abs(e1 - e2);
      f[5] = (jets[0] + jets[1]).mass();
      f[6] = e1 * e2;
    } else {
      f[4] = f[5] = f[6] = kMissing;
    }
    f[7] = std::hypot(lep.eta() - tau.eta(), wrap(lep.phi() - tau.phi()));
    double tx = hx, ty = hy;
    for (const auto& j : jets) tx += j.px, ty += j.py;
    f[8] = std::hypot(tx, ty);
    f[9] = lep.pt() + tau.pt() + sum_jet_pt;
    f[10] = lep.pt() / tau.pt();
    {
      const double s = std::sin(tau.phi() - lep.phi()) >= 0 ? 1.0 : -1.0;
      const double a = std::sin(met_phi - lep.phi()) * s, b = std::sin(tau.phi() - met_phi) * s;
      f[11] = (a + b) / std::max(std::hypot(a, b), 1e-9);
    }
    if (jet_num >= 2) {
      const double e1 = jets[0].eta(), e2 = jets[1].eta();
      const double d = std::max(std::abs(e1 - e2), 1e-3);
      f[12] = std::exp(-4.0 / (d * d) * std::pow(lep.eta() - 0.5 * (e1 + e2), 2));
    } else {
      f[12] = kMissing;
    }
    f[13] = tau.pt(), f[14] = tau.eta(), f[15] = tau.phi();
    f[16] = lep.pt(), f[17] = lep.eta(), f[18] = lep.phi();
    f[19] = met, f[20] = met_phi, f[21] = sumet;
    f[22] = jet_num;
    for (int k = 0; k < 2; ++k) {
      const bool present = jet_num > k;
      f[23 + 3 * k] = present ? jets[static_cast<std::size_t>(k)].pt() : kMissing;
      f[24 + 3 * k] = present ? jets[static_cast<std::size_t>(k)].eta() : kMissing;
      f[25 + 3 * k] = present ? jets[static_cast<std::size_t>(k)].phi() : kMissing;
    }
    f[29] = sum_jet_pt;
    // Cross-section weights: signal is rare. Z and W+jets weights differ, as different samples would.
    ev.weight = process == Process::higgs ? 0.0025 * rng.uniform(0.3, 2.0)
                : process == Process::z   ? rng.uniform(0.6, 2.0)
                                          : rng.uniform(1.5, 6.0);
    return ev;
  }
}

const char* kColumns =
    "EventId,DER_mass_MMC,DER_mass_transverse_met_lep,DER_mass_vis,DER_pt_h,DER_deltaeta_jet_jet,"
    "DER_mass_jet_jet,DER_prodeta_jet_jet,DER_deltar_tau_lep,DER_pt_tot,DER_sum_pt,DER_pt_ratio_lep_tau,"
    "DER_met_phi_centrality,DER_lep_eta_centrality,PRI_tau_pt,PRI_tau_eta,PRI_tau_phi,PRI_lep_pt,PRI_lep_eta,"
    "PRI_lep_phi,PRI_met,PRI_met_phi,PRI_met_sumet,PRI_jet_num,PRI_jet_leading_pt,PRI_jet_leading_eta,"
    "PRI_jet_leading_phi,PRI_jet_subleading_pt,PRI_jet_subleading_eta,PRI_jet_subleading_phi,PRI_jet_all_pt,"
    "Weight,Label";

int usage(std::ostream& out, int code) {
  out << "usage: higgs-generate --output FILE.csv [--signal N] [--background N] [--seed S]\n"
         "Writes N signal and N background toy H->tautau events with the columns of the Higgs ML\n"
         "challenge sample (defaults: 5000 each, seed 1).\n";
  return code;
}

bool parse_count(const char* text, long& value) {
  const char* end = text + std::strlen(text);
  const auto r = std::from_chars(text, end, value);
  return r.ec == std::errc() && r.ptr == end && value >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string output;
  long n_signal = 5000, n_background = 5000, seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return usage(std::cout, 0);
    if (i + 1 >= argc) {
      std::cerr << "higgs-generate: " << arg << " needs a value\n";
      return usage(std::cerr, 2);
    }
    const char* value = argv[++i];
    long* target = arg == "--signal"       ? &n_signal
                   : arg == "--background" ? &n_background
                   : arg == "--seed"       ? &seed
                                           : nullptr;
    if (arg == "--output") {
      output = value;
    } else if (!target) {
      std::cerr << "higgs-generate: unknown option '" << arg << "'\n";
      return usage(std::cerr, 2);
    } else if (!parse_count(value, *target)) {
      std::cerr << "higgs-generate: " << arg << " is '" << value << "'; expected a non-negative integer\n";
      return 2;
    }
  }
  if (output.empty()) return usage(std::cerr, 2);
  std::ofstream out(output);
  if (!out) {
    std::cerr << "higgs-generate: cannot open '" << output << "' for writing\n";
    return 1;
  }
  agnostic::Rng rng(static_cast<std::uint64_t>(seed));
  out << kColumns << "\n";
  long left_signal = n_signal, left_background = n_background, id = 100000;
  char buffer[64];
  while (left_signal + left_background > 0) {
    // Classes interleaved at random, as in a real file; background split evenly between Z and W.
    const bool signal = rng.below(static_cast<std::uint64_t>(left_signal + left_background)) <
                        static_cast<std::uint64_t>(left_signal);
    const Process p = signal ? Process::higgs : (rng.uniform() < 0.5 ? Process::z : Process::w);
    const Event ev = generate(p, rng);
    (signal ? left_signal : left_background)--;
    out << id++;
    for (double x : ev.features) {
      // Three decimals, like the challenge files.
      const double rounded = x == kMissing ? x : std::round(x * 1000.0) / 1000.0;
      const auto r = std::to_chars(buffer, buffer + sizeof buffer, rounded);
      out << ',' << std::string_view(buffer, static_cast<std::size_t>(r.ptr - buffer));
    }
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, ev.weight);
    out << ',' << std::string_view(buffer, static_cast<std::size_t>(r.ptr - buffer)) << ','
        << (ev.signal ? 's' : 'b') << '\n';
  }
  out.flush();
  if (!out) {
    std::cerr << "higgs-generate: writing '" << output << "' failed\n";
    return 1;
  }
  std::cout << "higgs-generate: wrote " << n_signal << " signal and " << n_background
            << " background events to " << output << "\n";
  return 0;
}
