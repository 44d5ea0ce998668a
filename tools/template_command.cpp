// `agnostic template ENSEMBLE --pca K --output WS.json [...]`: the nominal template of an ensemble
// of histograms (its mean) and its K leading principal components as +-1 sigma histosys modifiers,
// written as a pyhf workspace that `agnostic fit` reads (Chisholm et al., arXiv:2112.00650 sec. 3.4;
// docs/sampling.md). ENSEMBLE is a JSON of the members' histograms (stats/template_pca.hpp) or a cGAN
// generator.json ensemble (train/cgan_templates.hpp builds its histograms).
#include <algorithm>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"
#include "agnostic/core/json_file.hpp"
#include "agnostic/stats/template_pca.hpp"
#include "agnostic/stats/workspace.hpp"
#include "agnostic/train/cgan_model.hpp"
#include "agnostic/train/cgan_templates.hpp"
#include "command_io.hpp"
#include "commands.hpp"

namespace agnostic::tools {
namespace {

const CommandSpec& template_spec() {
  static const adversarial::GeneratorTemplateRequest generator_defaults;
  static const stats::TemplateWorkspaceOptions workspace_defaults;
  static const CommandSpec spec{
      .name = "template",
      .usage = {"ENSEMBLE.json --pca K --output WS.json [options]",
                "GENERATOR.json --conditions FILE --column NAME --bins EDGES\n"
                "                         [--where COLUMN>VALUE]... --pca K --output WS.json [options]"},
      .description =
          "ENSEMBLE.json holds the members' histograms of one variable in the signal region "
          "(docs/sampling.md):\n"
          "  {\"variable\": \"m\", \"edges\": [...], \"members\": [[counts], [counts], ...], \"observed\": "
          "[...], "
          "\"signal\": [...]}\n"
          "GENERATOR.json is a cGAN ensemble that `agnostic train` wrote (generator.json, docs/cgan.md): "
          "each\n"
          "member generates --per-event events at every row of FILE (its condition columns), and the events "
          "that\n"
          "pass every --where cut (\"x>0.95\", \"m<130\"; strict, repeatable) are histogrammed in NAME, "
          "divided by\n"
          "--per-event. The nominal template is the members' mean; the K leading principal components of "
          "their\n"
          "deviations (covariance eigenvectors scaled by sqrt(eigenvalue)) become +-1 sigma histosys "
          "modifiers.\n"
          "The workspace has the background sample, the signal sample scaled by the POI (if a signal is "
          "given)\n"
          "and the observed counts (or the nominal template when none are given).",
      .options = {{.name = "--pca",
                   .value = "K",
                   .meaning = "number of principal components kept (0 to members - 1)",
                   .required = true},
                  {.name = "--output", .value = "WS.json", .meaning = "the pyhf workspace", .required = true},
                  {.name = "--channel",
                   .value = "NAME",
                   .meaning = "channel name",
                   .default_value = workspace_defaults.channel},
                  {.name = "--sample",
                   .value = "NAME",
                   .meaning = "background sample name",
                   .default_value = workspace_defaults.background},
                  {.name = "--poi",
                   .value = "NAME",
                   .meaning = "the signal's normfactor",
                   .default_value = workspace_defaults.poi},
                  {.name = "--background-norm",
                   .value = "NAME",
                   .meaning = "the background's free normfactor (\"none\": fixed)",
                   .default_value = workspace_defaults.background_norm},
                  {.name = "--conditions",
                   .value = "FILE",
                   .meaning = "generator: the condition rows to generate at (CSV or .npy)"},
                  {.name = "--column",
                   .value = "NAME",
                   .meaning = "generator: the histogrammed variable (a condition or a feature)"},
                  {.name = "--bins",
                   .value = "EDGES",
                   .meaning = "generator: \"e0,e1,...,eB\" or \"B:LO:HI\" (B equal bins)"},
                  {.name = "--where",
                   .value = "COLUMN>VALUE",
                   .meaning = "generator: a cut on a condition or feature (also COLUMN<VALUE)",
                   .repeatable = true},
                  {.name = "--per-event",
                   .value = "K",
                   .meaning = "generator: events per condition row and member",
                   .default_value = std::to_string(generator_defaults.per_event)},
                  {.name = "--seed",
                   .value = "S",
                   .meaning = "generator: random seed (member m uses S + m)",
                   .default_value = std::to_string(generator_defaults.seed)},
                  {.name = "--observed",
                   .value = "FILE",
                   .meaning =
                       "generator: events (CSV or .npy) histogrammed the same way: the observed counts"},
                  {.name = "--signal",
                   .value = "FILE",
                   .meaning = "generator: events histogrammed the same way: the signal sample"}},
      .positional_count = 1,
      .positional_what = "ensemble file",
  };
  return spec;
}

// The ensemble of histograms: read from a histogram JSON, or generated by a cGAN generator.json.
stats::TemplateEnsemble read_ensemble_argument(const ParsedArguments& args) {
  const std::string& path = args.positional[0];
  const nlohmann::json j = read_json_file(path, "ensemble file");
  if (!adversarial::is_cgan_generator(j)) {
    for (const char* option :
         {"--conditions", "--column", "--bins", "--where", "--per-event", "--seed", "--observed", "--signal"})
      require(!args.given(option), "option ", option, " needs a cGAN generator file; '", path,
              "' is a histogram ensemble");
    return stats::template_ensemble_from_json(j, path);
  }
  for (const char* option : {"--conditions", "--column", "--bins"})
    require(args.given(option), "missing option ", option, " (needed with the generator '", path,
            "'); run `agnostic template --help` for the options");
  adversarial::GeneratorTemplateRequest request{
      .conditions = args.value("--conditions"),
      .column = args.value("--column"),
      .bins = args.value("--bins"),
      .cuts = args.all("--where"),
      .per_event = parse_integer("--per-event", args.value("--per-event"), 1),
      .seed = static_cast<std::uint64_t>(parse_integer("--seed", args.value("--seed"), 0)),
      .observed = args.value("--observed"),
      .signal = args.value("--signal"),
  };
  return adversarial::generator_template_ensemble(adversarial::cgan_generator_from_json(j, path), request,
                                                  path);
}

}  // namespace

int template_main(int argc, char** argv) {
  const CommandSpec& spec = template_spec();
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  const long long k_given = parse_integer("--pca", args.value("--pca"), 0);
  require(k_given <= std::numeric_limits<int>::max(), "option --pca: ", k_given, " components is too many");
  const int k = static_cast<int>(k_given);
  const stats::TemplateEnsemble ensemble = read_ensemble_argument(args);
  const stats::TemplatePca pca = stats::template_pca(ensemble.members, k);
  stats::TemplateWorkspaceOptions options;
  options.channel = args.value("--channel");
  options.background = args.value("--sample");
  options.poi = args.value("--poi");
  options.background_norm = args.value("--background-norm") == "none" ? "" : args.value("--background-norm");
  options.signal = ensemble.signal;
  options.observed = ensemble.observed;
  const std::string output = args.value("--output");
  stats::write_workspace(output, stats::template_workspace(pca, options));

  std::cout << "agnostic template: " << ensemble.members.rows() << " members, " << ensemble.members.cols()
            << " bins; " << k << " components carry " << std::setprecision(4) << 100.0 * pca.explained()
            << " % of the ensemble's variance -> " << output << "\n";
  for (int c = 0; c < k; ++c)
    std::cout << "  " << options.modifier_prefix << c + 1 << ": variance " << pca.variances(c) << " ("
              << 100.0 * pca.variances(c) / std::max(1e-300, pca.variances.sum()) << " %)\n";
  return 0;
}

}  // namespace agnostic::tools
