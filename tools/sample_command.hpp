#pragma once
// `agnostic sample CONFIG.json [--events N] [--seed S] [--output OUT.csv] [--validation V.json]`:
// ancestral sampling from histogram templates filled from a control region (003 sec. 2;
// docs/sampling.md). Writes the pseudo-events as CSV (one column per variable, in the config's
// order) and the validation of the sampled distributions against the control region as JSON.
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"
#include "agnostic/stats/sample_validation.hpp"
#include "agnostic/stats/sampling_config.hpp"
#include "command_io.hpp"

namespace agnostic::tools {

inline constexpr const char* kSampleUsage =
    R"(usage: agnostic sample CONFIG.json [--events N] [--seed S] [--output OUT.csv] [--validation V.json]

Fills the generation templates of CONFIG from its control-region data, draws N pseudo-events in the
templates' conditional order (with or without replacement, as the config says), writes them as CSV,
and compares them with the control region (chi^2 and K-S per variable, correlations) in a JSON file.
Every key of CONFIG is documented in docs/sampling.md.

options (each overrides the config):
  --events N          number of pseudo-events (sampling.events)
  --seed S            random seed (sampling.seed); the same seed gives the same output
  --output OUT.csv    the pseudo-events (output.events)
  --validation V.json the validation table (output.validation)
)";

inline int run_sample(int argc, char** argv) {
  const ParsedArguments args =
      parse_arguments(argc, argv, {"--events", "--seed", "--output", "--validation"}, {});
  if (args.help) {
    std::cout << kSampleUsage;
    return 0;
  }
  require(args.positional.size() == 1, "expected one config file, got ", args.positional.size(),
          " arguments\n", kSampleUsage);
  stats::SamplingConfig config = stats::read_sampling_config(args.positional[0]);
  if (!args.value("--events").empty()) config.events = parse_integer("--events", args.value("--events"), 1);
  if (!args.value("--seed").empty())
    config.seed = static_cast<std::uint64_t>(parse_integer("--seed", args.value("--seed"), 0));
  if (!args.value("--output").empty()) config.output_events = args.value("--output");
  if (!args.value("--validation").empty()) config.output_validation = args.value("--validation");

  const io::Table table = read_tables(config.files);
  for (const auto& name : config.variables)
    require(table.has_column(name), "config '", config.source, "': variable '", name, "' is not a column of ",
            table.source(), "; its columns are: ", table.describe_columns());
  if (!config.weight.empty())
    require(table.has_column(config.weight), "config '", config.source, "': key 'data.weight' is \"",
            config.weight, "\", which is not a column of ", table.source(),
            "; its columns are: ", table.describe_columns());
  MatrixD control(table.n_rows(), static_cast<Index>(config.variables.size()));
  VectorD weights = VectorD::Ones(table.n_rows());
  for (std::size_t v = 0; v < config.variables.size(); ++v) {
    const auto column = table.column(config.variables[v]);
    for (Index r = 0; r < table.n_rows(); ++r) {
      const double x = column[static_cast<std::size_t>(r)];
      require(!std::isnan(x), table.locate(r, config.variables[v]),
              ": value is missing (NaN); the templates need every variable of every control event");
      control(r, static_cast<Index>(v)) = x;
    }
  }
  if (!config.weight.empty()) {
    const auto column = table.column(config.weight);
    for (Index r = 0; r < table.n_rows(); ++r) {
      weights(r) = column[static_cast<std::size_t>(r)];
      require(std::isfinite(weights(r)), table.locate(r, config.weight), ": weight is ", weights(r),
              "; weights must be finite");
    }
  }

  const MatrixD sampled = stats::sample_from_config(config, control, weights);
  CsvColumns csv;
  for (std::size_t v = 0; v < config.variables.size(); ++v)
    csv.add_numbers(config.variables[v], sampled.col(static_cast<Index>(v)));
  csv.write(config.output_events);

  const stats::SampleValidation validation = stats::compare_samples(
      control, weights, sampled, config.variables, config.axes, config.flow == stats::Flow::drop);
  if (!config.output_validation.empty()) {
    nlohmann::json j = stats::to_json(validation);
    j["config"] = config.source;
    j["seed"] = config.seed;
    j["replacement"] = config.replacement;
    const std::string temporary = config.output_validation + ".tmp";
    {
      std::ofstream out(temporary, std::ios::trunc);
      require(out.good(), "cannot open '", temporary, "' for writing");
      out << j.dump(2) << "\n";
      require(out.good(), "writing '", temporary, "' failed (disk full?)");
    }
    require(std::rename(temporary.c_str(), config.output_validation.c_str()) == 0, "cannot rename '",
            temporary, "' to '", config.output_validation, "'");
  }

  std::cout << "agnostic sample: " << sampled.rows() << " events -> " << config.output_events
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
