#pragma once
// `agnostic tune CONFIG.json --space SPACE.json --trials N [--out DIR]`: hyper-parameter search
// (random or grid) over config keys; the logic is train/tune.hpp. Writes DIR/trial-<i>/ (each
// trial's training outputs), DIR/tune.csv, DIR/tune.json and DIR/best_config.json.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "agnostic/core/json_file.hpp"
#include "agnostic/core/threads.hpp"
#include "agnostic/train/tune.hpp"
#include "command_io.hpp"
#ifdef AGNOSTIC_MPI
#include "agnostic/distributed/world.hpp"
#endif

namespace agnostic::tools {

inline constexpr const char* kTuneUsage =
    R"(usage: agnostic tune CONFIG.json --space SPACE.json --trials N [--out DIR]
                     [--parallel-trials K] [--threads T]

Hyper-parameter search: trains CONFIG.json N times, each trial with other values of the config keys
SPACE.json names (random or grid search; the format is in docs/distributed.md), and writes into DIR
(default: the config's output.directory + "/tune"):
  trial-<i>/         each trial's training outputs (model.json, history.json, summary.json, ...)
  tune.csv           one row per trial: its values, validation_accuracy, validation_auc, mean_ks
                     (ADNN), epochs
  tune.json          the same with the space, the objective and the best trial
  best_config.json   CONFIG.json with the best trial's values (by SPACE.json's "objective")

options:
  --parallel-trials K   train K trials at once on this node, each on its own thread with T / K
                        OpenMP threads (at least 1; a config's training.threads, if set, wins);
                        the table is in trial order and each trial's result is the one it gives
                        alone with that many threads (default 1: one trial after the other, each
                        with T threads)
  --threads T           threads in all (default: OMP_NUM_THREADS, else every core)

Built with -DAGNOSTIC_MPI=ON, `mpirun -n R agnostic tune ...` shares the trials across the ranks
(each rank runs its share K at a time with --parallel-trials K); rank 0 writes the table.
)";

inline int run_tune(int argc, char** argv) {
  const ParsedArguments args =
      parse_arguments(argc, argv, {"--space", "--trials", "--out", "--parallel-trials", "--threads"}, {});
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
  train::TrialParallelism parallel;
  if (!args.value("--parallel-trials").empty())
    parallel.trials =
        static_cast<int>(parse_integer("--parallel-trials", args.value("--parallel-trials"), 1));
  if (!args.value("--threads").empty())
    set_threads(static_cast<int>(parse_integer("--threads", args.value("--threads"), 1)));
  if (parallel.trials > 1) parallel.threads = std::max(1, threads() / parallel.trials);
  const std::filesystem::path out = args.value("--out").empty()
                                        ? std::filesystem::path(parsed.output.directory) / "tune"
                                        : std::filesystem::path(args.value("--out"));
  const std::vector<nlohmann::json> settings = train::trial_settings(space, trials);
  const std::filesystem::path base_dir = std::filesystem::path(config_path).parent_path();
  auto trial = [&](int i) {
    return train::run_trial(base, config_path, base_dir, space, i, settings[static_cast<std::size_t>(i)],
                            out / ("trial-" + std::to_string(i)));
  };
#ifdef AGNOSTIC_MPI
  // Rank r runs the trials of its share (K at a time); the figures are gathered in trial order.
  Communicator& world = distributed::world();
  const Share share = world.share(static_cast<long long>(settings.size()));
  std::vector<double> mine;
  run_collectively(world, [&] {
    const int count = static_cast<int>(share.end - share.begin);
    for (const train::TrialResult& r :
         train::run_trials(count, parallel, [&](int j) { return trial(static_cast<int>(share.begin) + j); }))
      mine.insert(mine.end(), {r.validation_accuracy, r.validation_auc, r.mean_ks, r.epochs});
  });
  const std::vector<double> all = world.all_gather(mine);
  require(all.size() == 4 * settings.size(), "tune: gathered ", all.size(), " figures, expected ",
          4 * settings.size());
  std::vector<train::TrialResult> results(settings.size());
  for (std::size_t i = 0; i < settings.size(); ++i) {
    train::TrialResult& r = results[i];
    r.trial = static_cast<int>(i);
    r.settings = settings[i];
    r.validation_accuracy = all[4 * i];
    r.validation_auc = all[4 * i + 1];
    r.mean_ks = all[4 * i + 2];
    r.epochs = all[4 * i + 3];
  }
  if (world.rank() != 0) return 0;
#else
  const std::vector<train::TrialResult> results =
      train::run_trials(static_cast<int>(settings.size()), parallel, trial);
#endif
  std::cout << train::write_tune_outputs(out, base, space, results);
  return 0;
}

}  // namespace agnostic::tools
