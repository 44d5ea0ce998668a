// `agnostic tune CONFIG.json --space SPACE.json --trials N [--output DIR] [--force]`: hyper-parameter
// search (random or grid) over config keys; the search, the trials and the outputs are train/tune.hpp's.
// Writes DIR/trial-<i>/ (each trial's training outputs), DIR/tune.csv, DIR/tune.json and
// DIR/best_config.json; a DIR that already holds files is written into only with --force.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/json_file.hpp"
#include "agnostic/core/threads.hpp"
#include "agnostic/distributed/world.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/tune.hpp"
#include "command_io.hpp"
#include "commands.hpp"

namespace agnostic::tools {
namespace {

const CommandSpec& tune_spec() {
  static const CommandSpec spec{
      .name = "tune",
      .usage = {"CONFIG.json --space SPACE.json --trials N [--output DIR] [--force] [--parallel-trials K] "
                "[--threads T]"},
      .description =
          "Hyper-parameter search: trains CONFIG.json N times, each trial with other values of the config "
          "keys\n"
          "SPACE.json names (random or grid search; the format is in docs/distributed.md), and writes into "
          "DIR:\n"
          "  trial-<i>/         each trial's training outputs (model.json, history.json, summary.json, ...)\n"
          "  tune.csv           one row per trial: its values, validation_accuracy, validation_auc, mean_ks\n"
          "                     (ADNN), epochs\n"
          "  tune.json          the same with the space, the objective and the best trial\n"
          "  best_config.json   CONFIG.json with the best trial's values (by SPACE.json's \"objective\")",
      .options = {{.name = "--space", .value = "SPACE.json", .meaning = "the search space", .required = true},
                  {.name = "--trials", .value = "N", .meaning = "number of trials", .required = true},
                  {.name = "--output",
                   .value = "DIR",
                   .meaning = "where to write (default: the config's output.directory + \"/tune\")",
                   .aliases = {"--out"}},
                  {.name = "--force",
                   .meaning = "write into a DIR that already holds files (without it such a DIR is refused)"},
                  {.name = "--parallel-trials",
                   .value = "K",
                   .meaning =
                       "train K trials at once on this node, each on its own thread with T / K\n"
                       "OpenMP threads (at least 1; a config's training.threads, if set, wins);\n"
                       "the table is in trial order and each trial's result is the one it gives\n"
                       "alone with that many threads (1: one trial after the other, each with T threads)",
                   .default_value = "1"},
                  {.name = "--threads",
                   .value = "T",
                   .meaning = "threads in all (default: OMP_NUM_THREADS, else every core)"}},
      .positional_count = 1,
      .positional_what = "config file",
      .notes =
          "Built with -DAGNOSTIC_MPI=ON, `mpirun -n R agnostic tune ...` shares the trials across the ranks\n"
          "(each rank runs its share K at a time with --parallel-trials K); rank 0 writes the table.",
  };
  return spec;
}

}  // namespace

int tune_main(int argc, char** argv) {
  const CommandSpec& spec = tune_spec();
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  const std::string config_path = args.positional[0];
  const nlohmann::json base = read_json_file(config_path, "config file", /*comments=*/true);
  const train::TrainConfig parsed = train::read_config(config_path);  // the config itself must be valid
  const train::SearchSpace space = train::read_search_space(args.value("--space"));
  const int trials = static_cast<int>(parse_integer("--trials", args.value("--trials"), 1));
  const int at_once =
      static_cast<int>(parse_integer("--parallel-trials", args.value("--parallel-trials"), 1));
  if (args.given("--threads"))
    set_threads(static_cast<int>(parse_integer("--threads", args.value("--threads"), 1)));
  const train::TrialParallelism parallel = train::trials_at_once(at_once);
  const std::filesystem::path out = args.given("--output") ? std::filesystem::path(args.value("--output"))
                                                           : train::default_tune_directory(parsed);
  const std::vector<nlohmann::json> settings = train::trial_settings(space, trials);
  // Every rank looks before any writes (an error on one rank stops them all).
  Communicator& world = distributed::world();
  train::require_fresh_output_directory(out, false, args.flag("--force"), /*resumable=*/false);
  world.barrier();
  const std::filesystem::path base_dir = std::filesystem::path(config_path).parent_path();
  auto trial = [&](int i) {
    return train::run_trial(base, config_path, base_dir, space, i, settings[static_cast<std::size_t>(i)],
                            out / ("trial-" + std::to_string(i)), &run_training);
  };
  // Alone or under mpirun: each rank runs its share of the trials; rank 0 writes the table.
  const std::vector<train::TrialResult> results = train::run_trials(world, settings, parallel, trial);
  if (world.rank() != 0) return 0;
  std::cout << train::write_tune_outputs(out, base, space, results);
  return 0;
}

}  // namespace agnostic::tools
