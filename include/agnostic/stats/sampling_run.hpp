#pragma once
// A sampling config run end to end, as `agnostic sample` runs it (docs/sampling.md): the control
// region read from the config's files, the pseudo-events drawn (stats/sampling_config.hpp), their
// validation against the control region (stats/sample_validation.hpp), and the two output files.
// A program that calls run_sampling and write_sampling_outputs gets the command's bytes.
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/io/csv_writer.hpp"
#include "agnostic/io/data_file.hpp"
#include "agnostic/io/table.hpp"
#include "agnostic/stats/sample_validation.hpp"
#include "agnostic/stats/sampling_config.hpp"

namespace agnostic::stats {

// The control-region events: one row per event, columns in the config's variable order, and their
// weights (all one without data.weight).
struct ControlRegion {
  MatrixD events;
  VectorD weights;
};

// Reads the config's data files; every variable (and the weight column) must be there, every value
// present and every weight finite, or the error names the file, row and column.
AGNOSTIC_COMPILED_WHEN_USED
inline ControlRegion read_control_region(const SamplingConfig& config) {
  const io::Table table = io::read_tables(config.files);
  for (const auto& name : config.variables)
    require(table.has_column(name), "config '", config.source, "': variable '", name, "' is not a column of ",
            table.source(), "; its columns are: ", table.describe_columns());
  if (!config.weight.empty())
    require(table.has_column(config.weight), "config '", config.source, "': key 'data.weight' is \"",
            config.weight, "\", which is not a column of ", table.source(),
            "; its columns are: ", table.describe_columns());
  ControlRegion control{MatrixD(table.n_rows(), static_cast<Index>(config.variables.size())),
                        VectorD::Ones(table.n_rows())};
  for (std::size_t v = 0; v < config.variables.size(); ++v) {
    const auto column = table.column(config.variables[v]);
    for (Index r = 0; r < table.n_rows(); ++r) {
      const double x = column[static_cast<std::size_t>(r)];
      require(!std::isnan(x), table.locate(r, config.variables[v]),
              ": value is missing (NaN); the templates need every variable of every control event");
      control.events(r, static_cast<Index>(v)) = x;
    }
  }
  if (!config.weight.empty()) {
    const auto column = table.column(config.weight);
    for (Index r = 0; r < table.n_rows(); ++r) {
      control.weights(r) = column[static_cast<std::size_t>(r)];
      require(std::isfinite(control.weights(r)), table.locate(r, config.weight), ": weight is ",
              control.weights(r), "; weights must be finite");
    }
  }
  return control;
}

struct SamplingRun {
  ControlRegion control;
  MatrixD sampled;  // config.events x variables
  SampleValidation validation;
};

// Reads the control region, draws the pseudo-events and compares them with the control region.
AGNOSTIC_COMPILED_WHEN_USED
inline SamplingRun run_sampling(const SamplingConfig& config) {
  SamplingRun run{read_control_region(config), {}, {}};
  run.sampled = sample_from_config(config, run.control.events, run.control.weights);
  run.validation = compare_samples(run.control.events, run.control.weights, run.sampled, config.variables,
                                   config.axes, config.flow == Flow::drop);
  return run;
}

// The validation file: the comparison (to_json) with the provenance (config, seed, replacement).
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json sampling_validation_json(const SamplingConfig& config, const SamplingRun& run) {
  nlohmann::json j = to_json(run.validation);
  j["config"] = config.source;
  j["seed"] = config.seed;
  j["replacement"] = config.replacement;
  return j;
}

// Writes config.output_events (CSV, one column per variable in the config's order) and, unless it
// is "", config.output_validation (JSON); each file appears whole or not at all (core/atomic_file.hpp).
AGNOSTIC_COMPILED_WHEN_USED
inline void write_sampling_outputs(const SamplingConfig& config, const SamplingRun& run) {
  io::CsvColumns csv;
  for (std::size_t v = 0; v < config.variables.size(); ++v)
    csv.add_numbers(config.variables[v], run.sampled.col(static_cast<Index>(v)));
  csv.write(config.output_events);
  if (!config.output_validation.empty())
    write_file_atomically(config.output_validation, sampling_validation_json(config, run).dump(2) + "\n");
}

}  // namespace agnostic::stats
