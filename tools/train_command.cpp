// `agnostic train CONFIG.json [--output DIR] [--resume | --force] [--data FILE]...`: reads the config,
// applies the options, and hands it to train::run (train/run.hpp), which trains by the config's method
// and writes the outputs (docs/config.md lists them per method). A directory that already holds files
// is written into only with --resume or --force.
#include <iostream>
#include <string>

#include "agnostic/train/config.hpp"
#include "command_io.hpp"
#include "commands.hpp"
#include "train_run.hpp"  // train::run, compiled once (train_run.cpp)
#ifdef AGNOSTIC_MPI
#include "agnostic/distributed/communicator.hpp"
#endif

namespace agnostic::tools {
namespace {

// "classifier, dann, adnn or cgan": the methods the config reader accepts.
std::string method_list() {
  const auto& methods = train::training_methods();
  std::string out;
  for (std::size_t i = 0; i < methods.size(); ++i)
    out += (i == 0 ? "" : i + 1 == methods.size() ? " or " : ", ") + methods[i];
  return out;
}

const CommandSpec& train_spec() {
  static const CommandSpec spec{
      .name = "train",
      .usage = {"CONFIG.json [--output DIR] [--resume | --force] [--data FILE]..."},
      .description =
          "Trains the network CONFIG.json describes (\"method\": " + method_list() +
          "; docs/config.md) and writes\n"
          "into the output directory what that method gives: model.json, history.json, checkpoint.json,\n"
          "predictions.csv (held-out events), summary.json and config.json (the config as used); a cGAN "
          "writes\n"
          "generator.json and discriminator.json instead of model.json and predictions.csv.",
      .options = {{.name = "--output",
                   .value = "DIR",
                   .meaning = "output directory (overrides output.directory of the config)",
                   .aliases = {"--out"}},
                  {.name = "--resume",
                   .meaning =
                       "continue from DIR/checkpoint.json (same config; the result is bit for bit that\n"
                       "of an uninterrupted run with the same thread count)"},
                  {.name = "--force",
                   .meaning = "write into an output directory that already holds files (files of the same\n"
                              "name are replaced; without --resume or --force such a directory is refused)"},
                  {.name = "--data",
                   .value = "FILE",
                   .meaning = "read FILE instead of the config's data.files",
                   .repeatable = true}},
      .positional_count = 1,
      .positional_what = "config file",
      .notes =
          "Built with -DAGNOSTIC_MPI=ON, `mpirun -n K agnostic train CONFIG.json` trains data-parallel on K\n"
          "ranks: training.batch_size is the global batch; rank 0 alone prints and writes "
          "(docs/distributed.md).",
  };
  return spec;
}

}  // namespace

train::RunResult run_training(const train::TrainConfig& config, const train::RunOptions& options) {
  return train::run(config, options);
}

int train_main(int argc, char** argv) {
  const CommandSpec& spec = train_spec();
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  train::TrainConfig config = train::read_config(args.positional[0]);
  if (args.given("--data")) config.data.files = args.all("--data");
  if (args.given("--output")) config.output.directory = args.value("--output");
  train::RunOptions options{.resume = args.flag("--resume")};
  const bool force = args.flag("--force");
#ifdef AGNOSTIC_MPI
  // Under mpirun: data-parallel training (docs/distributed.md); rank 0 alone prints and writes.
  std::ostream discarded(nullptr);  // a stream without a buffer drops what it is given
  distributed::MpiCommunicator& world = distributed::world();
  if (world.size() > 1) {
    options.data_parallel = world.data_parallel();
    if (world.rank() != 0) options.out = &discarded;
  }
#endif
  if (options.data_parallel.writes())  // the rank that writes (an error there stops every rank)
    train::require_fresh_output_directory(config.output.directory, options.resume, force);
  run_training(config, options);
  return 0;
}

}  // namespace agnostic::tools
