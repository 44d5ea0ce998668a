#pragma once
// `agnostic tune CONFIG.json --space SPACE.json --trials N [--out DIR]`: hyper-parameter search
// (random or grid) over config keys; the logic is train/tune.hpp. Writes DIR/trial-<i>/ (each
// trial's training outputs), DIR/tune.csv, DIR/tune.json and DIR/best_config.json.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "agnostic/core/json_file.hpp"
#include "agnostic/train/tune.hpp"
#include "command_io.hpp"
#ifdef AGNOSTIC_MPI
#include "agnostic/distributed/statistics.hpp"
#endif

namespace agnostic::tools {

inline constexpr const char* kTuneUsage =
    R"(usage: agnostic tune CONFIG.json --space SPACE.json --trials N [--out DIR]

Hyper-parameter search: trains CONFIG.json N times, each trial with other values of the config keys
SPACE.json names (random or grid search; the format is in docs/distributed.md), and writes into DIR
(default: the config's output.directory + "/tune"):
  trial-<i>/         each trial's training outputs (model.json, history.json, summary.json, ...)
  tune.csv           one row per trial: its values, validation_accuracy, validation_auc, mean_ks
                     (ADNN), epochs
  tune.json          the same with the space, the objective and the best trial
  best_config.json   CONFIG.json with the best trial's values (by SPACE.json's "objective")

Built with -DAGNOSTIC_MPI=ON, `mpirun -n K agnostic tune ...` shares the trials across the ranks;
rank 0 writes the table.
)";

inline int run_tune(int argc, char** argv) {
  const ParsedArguments args = parse_arguments(argc, argv, {"--space", "--trials", "--out"}, {});
  if (args.help) {
    std::cout << kTuneUsage;
    return 0;
  }
  require(args.positional.size() == 1, "expected one config file, got ", args.positional.size(),
          " arguments\n", kTuneUsage);
  require(!args.value("--space").empty(), "--space SPACE.json is required\n", kTuneUsage);
  require(!args.value("--trials").empty(), "--trials N is required\n", kTuneUsage);
  const std::string config_path = args.positional[0];
  const nlohmann::json base = read_json_file(config_path, "config file", /*comments=*/true);
  const train::TrainConfig parsed = train::read_config(config_path);  // the config itself must be valid
  const train::SearchSpace space = train::read_search_space(args.value("--space"));
  const int trials = static_cast<int>(parse_integer("--trials", args.value("--trials"), 1));
  const std::filesystem::path out = args.value("--out").empty()
                                        ? std::filesystem::path(parsed.output.directory) / "tune"
                                        : std::filesystem::path(args.value("--out"));
  const std::vector<nlohmann::json> settings = train::trial_settings(space, trials);
  const std::filesystem::path base_dir = std::filesystem::path(config_path).parent_path();
  auto trial = [&](int i) {
    return train::run_trial(base, config_path, base_dir, space, i, settings[static_cast<std::size_t>(i)],
                            out / ("trial-" + std::to_string(i)));
  };
  std::vector<train::TrialResult> results;
#ifdef AGNOSTIC_MPI
  // Trial i runs on the rank whose share holds i; the figures are gathered in trial order.
  distributed::Communicator& world = distributed::world();
  const auto rows = distributed::map_points(world, static_cast<int>(settings.size()), 4, [&](int i) {
    const train::TrialResult r = trial(i);
    return std::vector<double>{r.validation_accuracy, r.validation_auc, r.mean_ks, r.epochs};
  });
  for (std::size_t i = 0; i < rows.size(); ++i) {
    train::TrialResult r;
    r.trial = static_cast<int>(i);
    r.settings = settings[i];
    r.validation_accuracy = rows[i][0];
    r.validation_auc = rows[i][1];
    r.mean_ks = rows[i][2];
    r.epochs = rows[i][3];
    results.push_back(r);
  }
  if (world.rank() != 0) return 0;
#else
  for (std::size_t i = 0; i < settings.size(); ++i) results.push_back(trial(static_cast<int>(i)));
#endif
  std::cout << train::write_tune_outputs(out, base, space, results);
  return 0;
}

}  // namespace agnostic::tools
