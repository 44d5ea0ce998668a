#pragma once
// run(config): "run this config" — what `agnostic train` does, callable from C++:
//
//   agnostic::train::TrainConfig config = agnostic::train::read_config("config.json");
//   agnostic::train::RunResult result = agnostic::train::run(config);   // or {.resume = true}
//   std::cout << result.summary.dump(1);
//
// Each "method" is one file in train/methods/ with its own config section; this file only
// chooses among them. Every run writes into config.output.directory: config.json, model.json,
// history.json, checkpoint.json, predictions.csv and summary.json (docs/config.md, "Outputs").
#include "agnostic/core/error.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/methods/adnn.hpp"
#include "agnostic/train/methods/cgan.hpp"
#include "agnostic/train/methods/classifier.hpp"
#include "agnostic/train/methods/dann.hpp"
#include "agnostic/train/run_context.hpp"

namespace agnostic::train {

inline RunResult run(const TrainConfig& config, const RunOptions& options = {}) {
  if (config.method == "classifier") return run_classifier(config, options);
  if (config.method == "dann") return run_dann(config, options);
  if (config.method == "adnn") return run_adnn(config, options);
  if (config.method == "cgan") return run_cgan(config, options);
  fail("config '", config.source, "': method \"", config.method, "\" is not available in this build");
}

}  // namespace agnostic::train
