#pragma once
// `agnostic template ENSEMBLE.json --pca K --output WS.json [...]`: the nominal template of an ensemble
// of histograms (its mean) and its K leading principal components as +-1 sigma histosys modifiers,
// written as a pyhf workspace that `agnostic fit` reads (003 sec. 3.4; docs/sampling.md).
#include <fstream>
#include <iomanip>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"
#include "agnostic/stats/template_pca.hpp"
#include "agnostic/stats/workspace.hpp"
#include "command_io.hpp"

namespace agnostic::tools {

inline constexpr const char* kTemplateUsage =
    R"(usage: agnostic template ENSEMBLE.json --pca K --output WS.json [--channel NAME] [--sample NAME]
                         [--poi NAME] [--background-norm NAME]

ENSEMBLE.json holds the members' histograms of one variable in the signal region (docs/sampling.md):
  {"variable": "m", "edges": [...], "members": [[counts], [counts], ...], "observed": [...], "signal": [...]}
The nominal template is the members' mean; the K leading principal components of their deviations
(covariance eigenvectors scaled by sqrt(eigenvalue)) become +-1 sigma histosys modifiers. The workspace
has the background sample, the signal sample scaled by the POI (if "signal" is given) and the observed
counts ("observed", or the nominal template when absent).

options:
  --pca K                  number of principal components kept (0 to members - 1)
  --output WS.json         the pyhf workspace
  --channel NAME           channel name (default signal_region)
  --sample NAME            background sample name (default background)
  --poi NAME               the signal's normfactor (default mu)
  --background-norm NAME   the background's free normfactor (default background_norm; "none" = fixed)
)";

inline int run_template(int argc, char** argv) {
  const ParsedArguments args = parse_arguments(
      argc, argv, {"--pca", "--output", "--channel", "--sample", "--poi", "--background-norm"}, {});
  if (args.help) {
    std::cout << kTemplateUsage;
    return 0;
  }
  require(args.positional.size() == 1, "expected one ensemble file, got ", args.positional.size(),
          " arguments\n", kTemplateUsage);
  for (const char* option : {"--pca", "--output"})
    require(!args.value(option).empty(), "missing option ", option, "\n", kTemplateUsage);
  const std::string k_text = args.value("--pca");
  std::size_t used = 0;
  int k = -1;
  try {
    k = std::stoi(k_text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require(used == k_text.size() && k >= 0, "option --pca is '", k_text, "'; expected a whole number >= 0");

  const stats::TemplateEnsemble ensemble = stats::read_template_ensemble(args.positional[0]);
  const stats::TemplatePca pca = stats::template_pca(ensemble.members, k);
  stats::TemplateWorkspaceOptions options;
  if (!args.value("--channel").empty()) options.channel = args.value("--channel");
  if (!args.value("--sample").empty()) options.background = args.value("--sample");
  if (!args.value("--poi").empty()) options.poi = args.value("--poi");
  if (!args.value("--background-norm").empty())
    options.background_norm =
        args.value("--background-norm") == "none" ? "" : args.value("--background-norm");
  options.signal = ensemble.signal;
  options.observed = ensemble.observed;
  const stats::Workspace ws = stats::template_workspace(pca, options);
  // Read back before writing, so that a workspace this command writes is one `agnostic fit` accepts.
  const nlohmann::json j = stats::to_json(ws);
  (void)stats::parse_workspace(j, args.value("--output"));
  const std::string output = args.value("--output");
  {
    std::ofstream out(output + ".tmp", std::ios::trunc);
    require(out.good(), "cannot open '", output, ".tmp' for writing");
    out << j.dump(1) << "\n";
    require(out.good(), "writing '", output, ".tmp' failed (disk full?)");
  }
  require(std::rename((output + ".tmp").c_str(), output.c_str()) == 0, "cannot rename '", output,
          ".tmp' to '", output, "'");

  std::cout << "agnostic template: " << ensemble.members.rows() << " members, " << ensemble.members.cols()
            << " bins; " << k << " components carry " << std::setprecision(4) << 100.0 * pca.explained()
            << " % of the ensemble's variance -> " << output << "\n";
  for (int c = 0; c < k; ++c)
    std::cout << "  " << options.modifier_prefix << c + 1 << ": variance " << pca.variances(c) << " ("
              << 100.0 * pca.variances(c) / std::max(1e-300, pca.variances.sum()) << " %)\n";
  return 0;
}

}  // namespace agnostic::tools
