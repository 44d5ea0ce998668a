#pragma once
// Shape uncertainties of a template from an ensemble (Chisholm et al., arXiv:2112.00650 sec. 3.4): given M
// members' histograms of one variable (an ensemble of GANs, bootstrap replicas of an ancestral-sampling
// model, ...), the nominal template is their mean, and the K leading principal components of the members'
// deviations from it, each an eigenvector of their covariance scaled by the square root of its eigenvalue,
// become +-1 sigma histosys modifiers: hi = nominal + component, lo = nominal - component. With the
// unit-Gaussian constraint of a histosys nuisance, the fit then allows the template to move along each
// component with the spread the ensemble shows. The covariance is the unbiased one (divided by M - 1).
// template_workspace() writes the result as a sample of a pyhf workspace (stats/workspace.hpp).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <Eigen/Eigenvalues>
#include <nlohmann/json.hpp>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/json_file.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/stats/workspace.hpp"

namespace agnostic::stats {

struct TemplatePca {
  VectorD nominal;                  // the ensemble mean, one entry per bin
  std::vector<VectorD> components;  // the K leading components, sqrt(eigenvalue) * unit eigenvector
  VectorD variances;                // every eigenvalue of the covariance, largest first
  // The fraction of the ensemble's total variance that the kept components carry.
  double explained() const {
    const double total = variances.sum();
    double kept = 0.0;
    for (std::size_t k = 0; k < components.size(); ++k) kept += variances(static_cast<Index>(k));
    return total > 0.0 ? kept / total : 1.0;
  }
};

// members: one row per member, one column per bin. Each component's sign is fixed so that its
// largest-magnitude entry is positive (the same ensemble always gives the same modifiers).
AGNOSTIC_COMPILED_WHEN_USED
inline TemplatePca template_pca(const MatrixD& members, int components) {
  const Index m = members.rows(), bins = members.cols();
  require(m >= 2, "template_pca: an ensemble needs at least 2 members, got ", m);
  require(bins >= 1, "template_pca: the members' histograms have no bins");
  require(members.allFinite(), "template_pca: a member's histogram holds a NaN or infinite bin");
  require(components >= 0 && components <= std::min<Index>(m - 1, bins), "template_pca: ", components,
          " components asked for, but ", m, " members in ", bins, " bins have at most ",
          std::min<Index>(m - 1, bins), " (members - 1 and bins)");
  TemplatePca out;
  out.nominal = members.colwise().mean().transpose();
  const MatrixD deviations = members.rowwise() - out.nominal.transpose();
  const MatrixD covariance = deviations.transpose() * deviations / static_cast<double>(m - 1);
  const Eigen::SelfAdjointEigenSolver<MatrixD> eigen(covariance);
  require(eigen.info() == Eigen::Success, "template_pca: the eigen-decomposition of the covariance failed");
  // Eigen sorts eigenvalues in increasing order; take them largest first. Rounding can make a zero
  // eigenvalue slightly negative: it is reported as 0.
  out.variances.resize(bins);
  for (Index k = 0; k < bins; ++k) out.variances(k) = std::max(0.0, eigen.eigenvalues()(bins - 1 - k));
  for (int k = 0; k < components; ++k) {
    VectorD v = eigen.eigenvectors().col(bins - 1 - k);
    Index largest = 0;
    v.cwiseAbs().maxCoeff(&largest);
    if (v(largest) < 0.0) v = -v;
    out.components.push_back(std::sqrt(out.variances(k)) * v);
  }
  return out;
}

struct TemplateWorkspaceOptions {
  std::string channel = "signal_region";
  std::string background = "background";            // the sample of the nominal template
  std::string modifier_prefix = "shape_pc";         // histosys names: shape_pc1, shape_pc2, ...
  std::string background_norm = "background_norm";  // free normfactor of the background ("" = none)
  std::vector<double> signal;                       // a signal template (empty: no signal sample)
  std::string signal_name = "signal";
  std::string poi = "mu";        // the signal's normfactor; without a signal, the POI is background_norm
  std::vector<double> observed;  // the observed counts (empty: the nominal template, i.e. Asimov for mu = 0)
  std::string measurement = "template_pca";
};

// A workspace with one channel: the background sample (nominal template, its PCA histosys modifiers
// and an optional free normalisation), an optional signal sample scaled by the POI, the observation.
AGNOSTIC_COMPILED_WHEN_USED
inline Workspace template_workspace(const TemplatePca& pca, const TemplateWorkspaceOptions& options = {}) {
  const std::size_t bins = static_cast<std::size_t>(pca.nominal.size());
  require(bins > 0, "template_workspace: the nominal template has no bins");
  require(options.signal.empty() || options.signal.size() == bins, "template_workspace: the signal has ",
          options.signal.size(), " bins, the template ", bins);
  require(options.observed.empty() || options.observed.size() == bins,
          "template_workspace: the observation has ", options.observed.size(), " bins, the template ", bins);
  require(
      !options.signal.empty() || !options.background_norm.empty(),
      "template_workspace: without a signal sample the background normalisation must float (it is the POI)");
  auto to_vector = [](const VectorD& v) { return std::vector<double>(v.data(), v.data() + v.size()); };
  auto normfactor = [](const std::string& name) {
    ModifierSpec m;
    m.name = name;
    m.type = "normfactor";
    return m;
  };

  SampleSpec background;
  background.name = options.background;
  background.data = to_vector(pca.nominal);
  for (std::size_t k = 0; k < pca.components.size(); ++k) {
    ModifierSpec m;
    m.name = options.modifier_prefix + std::to_string(k + 1);
    m.type = "histosys";
    m.hi_data = to_vector(pca.nominal + pca.components[k]);
    m.lo_data = to_vector(pca.nominal - pca.components[k]);
    background.modifiers.push_back(std::move(m));
  }
  if (!options.background_norm.empty()) background.modifiers.push_back(normfactor(options.background_norm));

  ChannelSpec channel;
  channel.name = options.channel;
  if (!options.signal.empty()) {
    SampleSpec signal;
    signal.name = options.signal_name;
    signal.data = options.signal;
    signal.modifiers.push_back(normfactor(options.poi));
    channel.samples.push_back(std::move(signal));
  }
  channel.samples.push_back(std::move(background));

  Workspace ws;
  ws.channels.push_back(std::move(channel));
  ObservationSpec observation;
  observation.name = options.channel;
  observation.data = options.observed.empty() ? to_vector(pca.nominal) : options.observed;
  ws.observations.push_back(std::move(observation));
  MeasurementSpec measurement;
  measurement.name = options.measurement;
  measurement.poi = options.signal.empty() ? options.background_norm : options.poi;
  ws.measurements.push_back(std::move(measurement));
  return ws;
}

// An ensemble of templates as `agnostic template` reads it (docs/sampling.md):
//   {"variable": "m", "edges": [e0, ..., eB], "members": [[B counts], [B counts], ...],
//    "observed": [B counts], "signal": [B counts]}
// "variable", "edges", "observed" and "signal" are optional.
struct TemplateEnsemble {
  std::string variable;
  std::vector<double> edges;
  MatrixD members;  // one row per member
  std::vector<double> observed, signal;
};

AGNOSTIC_COMPILED_WHEN_USED
inline TemplateEnsemble template_ensemble_from_json(const nlohmann::json& j, const std::string& source) {
  auto where = [&](const std::string& key) { return "ensemble '" + source + "': key '" + key + "'"; };
  require(j.is_object(), "ensemble '", source,
          "': expected a JSON object {\"members\": [[...], ...], ...}, got ", j.type_name());
  for (const auto& item : j.items()) {
    const std::string& k = item.key();
    require(k == "variable" || k == "edges" || k == "members" || k == "observed" || k == "signal", where(k),
            " is not a known key; allowed keys: variable, edges, members, observed, signal");
  }
  auto numbers = [&](const nlohmann::json& v, const std::string& key) {
    require(v.is_array(), where(key), " is ", v.dump(), "; expected a list of numbers");
    std::vector<double> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      require(v[i].is_number() && std::isfinite(v[i].get<double>()),
              where(key + "[" + std::to_string(i) + "]"), " is ", v[i].dump(), "; expected a finite number");
      out.push_back(v[i].get<double>());
    }
    return out;
  };
  TemplateEnsemble e;
  if (j.contains("variable")) {
    require(j["variable"].is_string(), where("variable"), " is ", j["variable"].dump(),
            "; expected a string");
    e.variable = j["variable"].get<std::string>();
  }
  require(j.contains("members") && j["members"].is_array() && j["members"].size() >= 2, where("members"),
          " is ", j.contains("members") ? j["members"].dump().substr(0, 80) : std::string("missing"),
          "; expected a list of at least 2 member histograms [[counts...], [counts...], ...]");
  const auto& members = j["members"];
  std::vector<std::vector<double>> rows;
  for (std::size_t m = 0; m < members.size(); ++m) {
    rows.push_back(numbers(members[m], "members[" + std::to_string(m) + "]"));
    require(!rows.back().empty() && rows.back().size() == rows.front().size(),
            where("members[" + std::to_string(m) + "]"), " has ", rows.back().size(), " bins; member 0 has ",
            rows.front().size(), " (every member needs the same, non-zero, number of bins)");
  }
  const std::size_t bins = rows.front().size();
  e.members.resize(static_cast<Index>(rows.size()), static_cast<Index>(bins));
  for (std::size_t m = 0; m < rows.size(); ++m)
    for (std::size_t b = 0; b < bins; ++b)
      e.members(static_cast<Index>(m), static_cast<Index>(b)) = rows[m][b];
  if (j.contains("edges")) {
    e.edges = numbers(j["edges"], "edges");
    require(e.edges.size() == bins + 1, where("edges"), " has ", e.edges.size(), " entries; ", bins,
            " bins need ", bins + 1, " edges");
    for (std::size_t k = 1; k < e.edges.size(); ++k)
      require(e.edges[k] > e.edges[k - 1], where("edges"), " is not strictly increasing at entry ", k);
  }
  for (const char* key : {"observed", "signal"}) {
    if (!j.contains(key)) continue;
    std::vector<double> v = numbers(j[key], key);
    require(v.size() == bins, where(key), " has ", v.size(), " bins; the members have ", bins);
    (std::string(key) == "observed" ? e.observed : e.signal) = std::move(v);
  }
  return e;
}

AGNOSTIC_COMPILED_WHEN_USED
inline TemplateEnsemble read_template_ensemble(const std::string& path) {
  return template_ensemble_from_json(read_json_file(path, "ensemble file"), path);
}

}  // namespace agnostic::stats
