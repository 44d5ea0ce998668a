#pragma once
// `agnostic train CONFIG.json [--out DIR] [--resume] [--data FILE]...`: reads the config, applies
// the options, and hands it to train::run (include/agnostic/train/run.hpp), which writes into the
// output directory:
//   model.json        the network with its standardisation and missing-value rules (docs/model-format.md)
//   history.json      every epoch's figures, rollbacks, the best epoch and why training stopped
//   checkpoint.json   everything needed to continue with --resume (written atomically every epoch)
//   predictions.csv   the held-out (validation) events: label, weight, score
//   summary.json      validation AUC and the AMS at the best cut
//   config.json       the config as used (a resumed run must use the same)
#include <iostream>

#include "agnostic/train/config.hpp"
#include "agnostic/train/run.hpp"
#include "command_io.hpp"
#ifdef AGNOSTIC_MPI
#include "agnostic/distributed/communicator.hpp"
#endif

namespace agnostic::tools {

inline constexpr const char* kTrainUsage =
    R"(usage: agnostic train CONFIG.json [--out DIR] [--resume] [--data FILE]...

Trains the network CONFIG.json describes ("method": classifier, dann or adnn; docs/config.md) and
writes model.json, history.json, checkpoint.json, predictions.csv (held-out events) and
summary.json into the output directory.

options:
  --out DIR      output directory (overrides output.directory of the config)
  --resume       continue from DIR/checkpoint.json (same config; the result is bit for bit that
                 of an uninterrupted run with the same thread count)
  --data FILE    read FILE instead of the config's data.files (repeat for several files)

Built with -DAGNOSTIC_MPI=ON, `mpirun -n K agnostic train CONFIG.json` trains data-parallel on K
ranks: training.batch_size is the global batch; rank 0 alone prints and writes (docs/distributed.md).
)";

inline int run_train(int argc, char** argv) {
  const ParsedArguments args = parse_arguments(argc, argv, {"--out", "--data"}, {"--resume"});
  if (args.help) {
    std::cout << kTrainUsage;
    return 0;
  }
  require(args.positional.size() == 1, "expected one config file, got ", args.positional.size(),
          " arguments\n", kTrainUsage);
  train::TrainConfig config = train::read_config(args.positional[0]);
  if (!args.all("--data").empty()) config.data.files = args.all("--data");
  if (!args.value("--out").empty()) config.output.directory = args.value("--out");
  train::RunOptions options{.resume = args.flag("--resume")};
#ifdef AGNOSTIC_MPI
  // Under mpirun: data-parallel training (docs/distributed.md); rank 0 alone prints and writes.
  std::ostream discarded(nullptr);  // a stream without a buffer drops what it is given
  distributed::MpiCommunicator& world = distributed::world();
  if (world.size() > 1) {
    options.data_parallel = world.data_parallel();
    if (world.rank() != 0) options.out = &discarded;
  }
#endif
  train::run(config, options);
  return 0;
}

}  // namespace agnostic::tools
