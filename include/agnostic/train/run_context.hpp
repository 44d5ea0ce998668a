#pragma once
// RunContext: what every method's "run this config" (train/methods/*.hpp) shares — the output
// directory with its config copy and the resume check, the trainer's options as the config sets
// them, the provenance block stored in model files, and the list of files written.
//
// On a fresh run the config as used (data files resolved, --data and --out applied; the output
// section dropped) is written to DIR/config.json before anything else. With `resume`, a checkpoint
// must exist and DIR/config.json must equal the config given, so a resumed run cannot silently
// continue with other settings; the trainer's options carry the data fingerprint
// (io/fingerprint.hpp), so that it also cannot continue on other data.
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/threads.hpp"
#include "agnostic/io/fingerprint.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/data_parallel.hpp"
#include "agnostic/train/history.hpp"
#include "agnostic/train/trainer.hpp"

namespace agnostic::train {

struct RunOptions {
  bool resume = false;             // continue from DIR/checkpoint (bit for bit, same thread count)
  std::ostream* out = &std::cout;  // progress lines and the closing summary (silenced by output.progress)
  DataParallel data_parallel{};    // MPI ranks training together (docs/distributed.md): only rank 0 writes
};

// What a run wrote: the directory, every file in it, and the summary (also in summary.json).
struct RunResult {
  std::filesystem::path directory;
  std::vector<std::filesystem::path> files;
  nlohmann::json summary;
};

// "2026-11-30T01:02:03Z"
inline std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// The config as it is used (data files resolved, --data and --out applied), for the copy in the
// output directory and the resume check.
inline nlohmann::json effective_config(const TrainConfig& c) {
  nlohmann::json j = c.original;
  j["data"]["files"] = c.data.files;
  if (!c.model.start_from.empty()) j["model"]["start_from"] = c.model.start_from;
  j.erase("output");  // where the outputs go does not change the training
  return j;
}

class RunContext {
 public:
  RunContext(const TrainConfig& config, const RunOptions& options)
      : config_(&config),
        options_(options),
        directory_(config.output.directory),
        effective_(effective_config(config)) {
    namespace fs = std::filesystem;
    if (config.training.threads > 0) set_threads(config.training.threads);
    set_fixed_chunks(config.training.chunks);
    if (writes()) fs::create_directories(directory_);
    const fs::path checkpoint = file(config.output.checkpoint), copy = file("config.json");
    if (options.resume) {
      require(fs::exists(checkpoint), "--resume: there is no checkpoint '", checkpoint.string(),
              "'; run without --resume to start afresh");
      if (fs::exists(copy)) {
        const nlohmann::json before = nlohmann::json::parse(read_file(copy));
        require(before == effective_,
                "--resume: the config differs from the one the checkpoint was written with ('", copy.string(),
                "'); resume with the same config, or start afresh without --resume");
      }
    } else if (writes()) {
      write_file_atomically(copy, effective_.dump(1) + "\n");
    }
    wrote(copy);
  }

  const TrainConfig& config() const { return *config_; }
  bool resume() const { return options_.resume; }
  bool quiet() const { return config_->output.progress == "silent"; }
  // False on every MPI rank but 0: those train alongside and write nothing.
  bool writes() const { return options_.data_parallel.writes(); }
  std::ostream& out() const { return *options_.out; }
  const nlohmann::json& effective() const { return effective_; }
  std::filesystem::path file(const std::string& name) const { return directory_ / name; }

  // Stopping rules, NaN/Inf policy, seed, checkpoint and history paths and verbosity, as the
  // config's "training" and "output" sections say.
  TrainerOptions trainer_options() const {
    const TrainConfig& c = *config_;
    TrainerOptions options;
    const auto& es = c.training.early_stopping;
    options.stopping.max_epochs = c.training.epochs;
    if (es.enabled) {
      options.stopping.min_epochs = std::min(es.min_epochs, c.training.epochs);
      options.stopping.patience = PatienceRule{es.patience, es.min_delta};
      if (es.running_average_window)
        options.stopping.running_average =
            RunningAverageRule{*es.running_average_window, es.running_average_relative};
    }
    options.restore_best = es.enabled && es.restore_best;
    options.on_non_finite =
        c.training.rollback_on_non_finite ? NonFinitePolicy::rollback : NonFinitePolicy::stop;
    options.rollback_epochs = c.training.rollback_epochs;
    options.rollback_factor = c.training.rollback_learning_rate_factor;
    options.max_rollbacks = c.training.max_rollbacks;
    options.seed = c.training.seed;
    options.checkpoint = file(c.output.checkpoint);
    options.history = file(c.output.history);
    options.verbosity = quiet() ? Verbosity::silent : Verbosity::epochs;
    options.out = options_.out;
    options.data_parallel = options_.data_parallel;
    if (data_fingerprint_.empty()) data_fingerprint_ = io::data_fingerprint(c.data.files);
    options.data_fingerprint = data_fingerprint_;
    return options;
  }

  // Trains with `trainer`: from the checkpoint when resuming, else afresh; records the files.
  template <class T>
  const History& train(Trainer<T>& trainer) {
    const History& history =
        options_.resume ? trainer.resume(file(config_->output.checkpoint)) : trainer.fit();
    wrote(file(config_->output.checkpoint));
    wrote(file(config_->output.history));
    return history;
  }

  // The "training" block of a model file: when, with what config, how it ended.
  template <class T>
  nlohmann::json provenance(const Trainer<T>& trainer, const History& history, Index training_events,
                            Index validation_events) const {
    return {{"date", utc_now()},
            {"method", config_->method},
            {"config", effective_},
            {"seed", config_->training.seed},
            {"epochs", trainer.epoch()},
            {"best_epoch", history.best_epoch},
            {"stop_reason", history.stop_reason},
            {"training_events", training_events},
            {"validation_events", validation_events},
            {"threads", threads()},
            {"chunks", fixed_chunks()},
            {"resumed", options_.resume}};
  }

  void wrote(const std::filesystem::path& path) {
    for (const auto& f : files_)
      if (f == path) return;
    files_.push_back(path);
  }

  // Writes summary.json and returns what the run wrote.
  RunResult finish(nlohmann::json summary) {
    const std::filesystem::path path = file("summary.json");
    if (writes()) write_file_atomically(path, summary.dump(1) + "\n");
    wrote(path);
    if (!quiet()) out() << "wrote the outputs in " << directory_.string() << "\n";
    return {directory_, files_, std::move(summary)};
  }

 private:
  const TrainConfig* config_;
  RunOptions options_;
  std::filesystem::path directory_;
  nlohmann::json effective_;
  std::vector<std::filesystem::path> files_;
  mutable std::string data_fingerprint_;  // computed once, by the first trainer_options()
};

}  // namespace agnostic::train
