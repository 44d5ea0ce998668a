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
// run() writes into that directory whatever it holds; the commands first ask
// require_fresh_output_directory(), so that a finished run is not overwritten by accident.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/methods/adnn.hpp"
#include "agnostic/train/methods/cgan.hpp"
#include "agnostic/train/methods/classifier.hpp"
#include "agnostic/train/methods/dann.hpp"
#include "agnostic/train/run_context.hpp"

namespace agnostic::train {

// The output directory of a command that writes one (`agnostic train`, `agnostic tune`): missing or
// empty, unless `resume` (train --resume: the run in it continues; RunContext checks its checkpoint)
// or `force` (--force: write into it anyway; files of the same name are replaced, others stay).
// `resumable` says whether the command has --resume, for the message.
AGNOSTIC_COMPILED_WHEN_USED
inline void require_fresh_output_directory(const std::filesystem::path& directory, bool resume, bool force,
                                           bool resumable = true) {
  namespace fs = std::filesystem;
  require(!(resume && force), "--resume and --force together: --resume continues the run in '",
          directory.string(), "', --force starts a new one over it; give one of them");
  if (resume || force || !fs::exists(directory)) return;
  require(fs::is_directory(directory), "the output directory '", directory.string(),
          "' is a file; give another --output");
  std::vector<std::string> names;  // sorted, so that the message is the same on every file system
  for (const auto& entry : fs::directory_iterator(directory))
    names.push_back(entry.path().filename().string());
  if (names.empty()) return;
  std::sort(names.begin(), names.end());
  std::string held;
  for (std::size_t k = 0; k < names.size() && k < 3; ++k) held += (k == 0 ? "" : ", ") + names[k];
  fail("the output directory '", directory.string(), "' is not empty (it holds ", held,
       names.size() > 3 ? ", ..." : "", "); ", resumable ? "give --resume to continue the run in it, " : "",
       "--force to write into it anyway (files of the same name are replaced), or another --output");
}

// Not `inline`: a build can then compile it once for several programs (tools/train_run.hpp declares it
// `extern template`; compilers instantiate an inline function declared so anyway, to inline it). As a
// template it may still be defined in every translation unit that includes this header.
AGNOSTIC_COMPILED_WHEN_USED
RunResult run(const TrainConfig& config, const RunOptions& options = {}) {
  if (config.method == "classifier") return run_classifier(config, options);
  if (config.method == "dann") return run_dann(config, options);
  if (config.method == "adnn") return run_adnn(config, options);
  if (config.method == "cgan") return run_cgan(config, options);
  fail("config '", config.source, "': method \"", config.method, "\" is not available in this build");
}

}  // namespace agnostic::train
