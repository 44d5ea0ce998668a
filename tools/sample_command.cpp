// `agnostic sample CONFIG.json [--events N] [--seed S] [--output OUT.csv] [--validation V.json]`:
// ancestral sampling from histogram templates filled from a control region (Chisholm et al., arXiv:2112.00650
// sec. 2; docs/sampling.md). The run is stats/sampling_run.hpp's; this command applies the options to the
// config and prints the validation table.
#include <cstdint>
#include <iomanip>
#include <iostream>

#include "agnostic/stats/sampling_config.hpp"
#include "agnostic/stats/sampling_run.hpp"
#include "command_io.hpp"
#include "commands.hpp"

namespace agnostic::tools {
namespace {

const CommandSpec& sample_spec() {
  static const CommandSpec spec{
      .name = "sample",
      .usage = {"CONFIG.json [--events N] [--seed S] [--output OUT.csv] [--validation V.json]"},
      .description =
          "Fills the generation templates of CONFIG from its control-region data, draws N pseudo-events in "
          "the\n"
          "templates' conditional order (with or without replacement, as the config says), writes them as "
          "CSV,\n"
          "and compares them with the control region (chi^2 and K-S per variable, correlations) in a JSON "
          "file.\n"
          "Every key of CONFIG is documented in docs/sampling.md. Each option overrides the config.",
      .options = {{.name = "--events", .value = "N", .meaning = "number of pseudo-events (sampling.events)"},
                  {.name = "--seed",
                   .value = "S",
                   .meaning = "random seed (sampling.seed); the same seed gives the same output"},
                  {.name = "--output", .value = "OUT.csv", .meaning = "the pseudo-events (output.events)"},
                  {.name = "--validation",
                   .value = "V.json",
                   .meaning = "the validation table (output.validation; \"\" writes none)"}},
      .positional_count = 1,
      .positional_what = "config file",
  };
  return spec;
}

}  // namespace

int sample_main(int argc, char** argv) {
  const CommandSpec& spec = sample_spec();
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  stats::SamplingConfig config = stats::read_sampling_config(args.positional[0]);
  if (args.given("--events")) config.events = parse_integer("--events", args.value("--events"), 1);
  if (args.given("--seed"))
    config.seed = static_cast<std::uint64_t>(parse_integer("--seed", args.value("--seed"), 0));
  if (!args.value("--output").empty()) config.output_events = args.value("--output");
  if (args.given("--validation")) config.output_validation = args.value("--validation");  // "": none

  const stats::SamplingRun run = stats::run_sampling(config);
  stats::write_sampling_outputs(config, run);

  const stats::SampleValidation& validation = run.validation;
  std::cout << "agnostic sample: " << run.sampled.rows() << " events -> " << config.output_events
            << " (templates from " << validation.control_events << " control events, "
            << (config.replacement ? "resampled with replacement" : "each used once") << ", seed "
            << config.seed << ")\n";
  std::cout << std::left << std::setw(16) << "variable" << std::right << std::setw(12) << "chi2/ndf"
            << std::setw(12) << "p(chi2)" << std::setw(12) << "K-S D"
            << "\n";
  for (const auto& c : validation.variables)
    std::cout << std::left << std::setw(16) << c.name << std::right << std::setw(12) << std::setprecision(4)
              << c.chi2 / c.ndf << std::setw(12) << c.chi2_p_value << std::setw(12) << c.ks_distance << "\n";
  std::cout << "largest |correlation difference|: " << validation.max_correlation_difference << "\n";
  if (!config.output_validation.empty()) std::cout << "validation -> " << config.output_validation << "\n";
  return 0;
}

}  // namespace agnostic::tools
