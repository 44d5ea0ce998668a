#pragma once
// Hyper-parameter search: `agnostic tune CONFIG --space SPACE.json --trials N` (docs/distributed.md,
// "Hyper-parameter search"). A search space names config keys and the values to try; each trial is
// the config with one choice per key, trained with train::run into its own directory; the trials'
// figures (validation accuracy and AUC, and the mean K-S of ADNN, the figures Camaiani et al.
// (arXiv:2207.09293) optimised) make a table, and the best trial's config is written out.
//
// SPACE.json:
//   {
//     "search": "random",                 // or "grid" (default "random")
//     "seed": 1,                          // random draws (default 1)
//     "objective": "validation_accuracy", // or "validation_auc" (both maximised), "mean_ks" (minimised)
//     "parameters": {
//       "optimiser.learning_rate": {"min": 1e-4, "max": 1e-1, "log": true},
//       "/model/hidden":          {"values": [[16], [32, 32]]},
//       "training.batch_size":    {"min": 32, "max": 256, "integer": true, "steps": 4}
//     }
//   }
// A key is a JSON pointer ("/a/b") or dotted ("a.b"); the keys are taken in alphabetical order
// (a JSON object has no order), which is the order of the table's columns. A dimension is either "values" (a
// list of any JSON values) or a range "min"/"max" with optional "log" (draw or space the logarithm) and
// "integer" (round). Random search draws every trial's values in trial order from the seed; grid
// search walks the Cartesian product (the alphabetically first key varies slowest) and a range needs "steps"
// (>= 2: evenly spaced points including both ends). N trials: the first N points of the grid
// (N larger than the grid: every point once).
//
// The trials are independent: under MPI the command shares them across the ranks (trial i on the
// rank whose share holds i), and each trial's training uses the threads of its process. On one
// node run_trials runs K trials at once, each on its own thread with its own OpenMP thread count
// (--parallel-trials K). Trial i's values do not depend on how many processes or threads run the
// search, and its result depends only on them and on the threads its training uses.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/communicator.hpp"
#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/json_file.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/core/threads.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/history.hpp"
#include "agnostic/train/run.hpp"

namespace agnostic::train {

struct SearchDimension {
  std::string key;                     // as written in SPACE.json
  nlohmann::json::json_pointer where;  // where it goes in the config
  std::vector<nlohmann::json> values;  // a "values" dimension
  double min = 0.0, max = 0.0;         // a range
  bool range = false, log = false, integer = false;
  int steps = 0;  // grid points of a range
};

struct SearchSpace {
  std::string source;
  std::string search = "random";
  std::uint64_t seed = 1;
  std::string objective = "validation_accuracy";
  std::vector<SearchDimension> dimensions;

  bool maximise() const { return objective != "mean_ks"; }
};

namespace tune_detail {

AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json::json_pointer pointer_of(const std::string& key, const std::string& where) {
  require(!key.empty(), where, ": an empty key");
  std::string pointer = key;
  if (key.front() != '/') {
    pointer = "/";
    for (char ch : key) pointer += ch == '.' ? '/' : ch;
  }
  try {
    return nlohmann::json::json_pointer(pointer);
  } catch (const nlohmann::json::exception& e) {
    fail(where, ": key \"", key, "\" is not a JSON pointer or dotted key (", e.what(), ")");
  }
}

AGNOSTIC_COMPILED_WHEN_USED
inline double number(const nlohmann::json& j, const char* name, const std::string& where) {
  require(j.contains(name), where, ": \"", name, "\" is missing");
  require(j.at(name).is_number(), where, ": \"", name, "\" is ", j.at(name).dump(), "; expected a number");
  const double x = j.at(name).get<double>();
  require(std::isfinite(x), where, ": \"", name, "\" is ", x, "; expected a finite number");
  return x;
}

AGNOSTIC_COMPILED_WHEN_USED
inline bool flag(const nlohmann::json& j, const char* name, const std::string& where) {
  if (!j.contains(name)) return false;
  require(j.at(name).is_boolean(), where, ": \"", name, "\" is ", j.at(name).dump(),
          "; expected true or false");
  return j.at(name).get<bool>();
}

// The value of a range at fraction u in [0, 1].
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json range_value(const SearchDimension& d, double u) {
  double x = d.log ? std::exp(std::log(d.min) + u * (std::log(d.max) - std::log(d.min)))
                   : d.min + u * (d.max - d.min);
  if (d.integer) return static_cast<long long>(std::llround(x));
  return x;
}

}  // namespace tune_detail

AGNOSTIC_COMPILED_WHEN_USED
inline SearchSpace search_space_from_json(const nlohmann::json& j, const std::string& source) {
  using namespace tune_detail;
  require(j.is_object(), source, ": a search space is a JSON object");
  for (const auto& [key, value] : j.items()) {
    (void)value;
    require(key == "search" || key == "seed" || key == "objective" || key == "parameters", source,
            ": unknown key \"", key, "\" (allowed: search, seed, objective, parameters)");
  }
  SearchSpace s;
  s.source = source;
  if (j.contains("search")) {
    require(j["search"].is_string() && (j["search"] == "random" || j["search"] == "grid"), source,
            ": \"search\" is ", j["search"].dump(), "; allowed: \"random\", \"grid\"");
    s.search = j["search"].get<std::string>();
  }
  if (j.contains("seed")) {
    require(j["seed"].is_number_unsigned(), source, ": \"seed\" is ", j["seed"].dump(),
            "; expected an integer >= 0");
    s.seed = j["seed"].get<std::uint64_t>();
  }
  if (j.contains("objective")) {
    const nlohmann::json& o = j["objective"];
    require(o.is_string() && (o == "validation_accuracy" || o == "validation_auc" || o == "mean_ks"), source,
            ": \"objective\" is ", o.dump(),
            "; allowed: \"validation_accuracy\", \"validation_auc\", \"mean_ks\"");
    s.objective = o.get<std::string>();
  }
  require(j.contains("parameters") && j["parameters"].is_object() && !j["parameters"].empty(), source,
          ": \"parameters\" must be a non-empty object of config keys");
  for (const auto& [key, spec] : j["parameters"].items()) {
    const std::string where = source + ": parameter \"" + key + "\"";
    SearchDimension d;
    d.key = key;
    d.where = pointer_of(key, where);
    require(spec.is_object(), where, ": expected {\"values\": [...]} or {\"min\": a, \"max\": b}, got ",
            spec.dump());
    for (const auto& [name, v] : spec.items()) {
      (void)v;
      require(name == "values" || name == "min" || name == "max" || name == "log" || name == "integer" ||
                  name == "steps",
              where, ": unknown key \"", name, "\" (allowed: values, min, max, log, integer, steps)");
    }
    if (spec.contains("values")) {
      require(!spec.contains("min") && !spec.contains("max"), where,
              ": give \"values\" or \"min\"/\"max\", not both");
      require(spec["values"].is_array() && !spec["values"].empty(), where,
              ": \"values\" must be a non-empty list, got ", spec["values"].dump());
      for (const auto& v : spec["values"]) d.values.push_back(v);
    } else {
      d.range = true;
      d.min = number(spec, "min", where);
      d.max = number(spec, "max", where);
      require(d.min <= d.max, where, ": min ", d.min, " > max ", d.max);
      d.log = flag(spec, "log", where);
      d.integer = flag(spec, "integer", where);
      require(!d.log || d.min > 0.0, where, ": \"log\" needs min > 0, got ", d.min);
    }
    if (spec.contains("steps")) {
      require(d.range, where, ": \"steps\" belongs to a min/max range");
      // `.template`: GCC takes a structured binding (`spec`) inside a template for a dependent name.
      require(spec["steps"].is_number_integer() && spec["steps"].template get<long long>() >= 2, where,
              ": \"steps\" is ", spec["steps"].dump(), "; expected an integer >= 2");
      d.steps = spec["steps"].template get<int>();
    }
    require(s.search != "grid" || !d.range || d.steps >= 2, where,
            ": a grid search needs \"steps\" (>= 2) for a min/max range, or a \"values\" list");
    s.dimensions.push_back(std::move(d));
  }
  return s;
}

AGNOSTIC_COMPILED_WHEN_USED
inline SearchSpace read_search_space(const std::string& path) {
  return search_space_from_json(read_json_file(path, "search space"), path);
}

// The values of trials 0..n-1: one JSON object per trial, key (as in SPACE.json) -> value. A grid
// gives min(n, grid size) trials.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<nlohmann::json> trial_settings(const SearchSpace& s, int n) {
  require(n >= 1, "tune: the number of trials must be >= 1, got ", n);
  std::vector<nlohmann::json> out;
  if (s.search == "random") {
    Rng rng(s.seed);
    for (int t = 0; t < n; ++t) {
      nlohmann::json one = nlohmann::json::object();
      for (const SearchDimension& d : s.dimensions) {
        if (d.range) {
          one[d.key] = tune_detail::range_value(d, rng.uniform());
        } else {
          auto k = static_cast<std::size_t>(rng.uniform() * static_cast<double>(d.values.size()));
          one[d.key] = d.values[std::min(k, d.values.size() - 1)];
        }
      }
      out.push_back(std::move(one));
    }
    return out;
  }
  std::vector<std::size_t> sizes;
  std::size_t total = 1;
  for (const SearchDimension& d : s.dimensions) {
    sizes.push_back(d.range ? static_cast<std::size_t>(d.steps) : d.values.size());
    total *= sizes.back();
  }
  for (std::size_t t = 0; t < std::min<std::size_t>(total, static_cast<std::size_t>(n)); ++t) {
    nlohmann::json one = nlohmann::json::object();
    std::size_t rest = t;
    for (std::size_t i = s.dimensions.size(); i-- > 0;) {  // the last key varies fastest
      const std::size_t k = rest % sizes[i];
      rest /= sizes[i];
      const SearchDimension& d = s.dimensions[i];
      one[d.key] =
          d.range ? tune_detail::range_value(d, static_cast<double>(k) / (d.steps - 1)) : d.values[k];
    }
    out.push_back(std::move(one));
  }
  return out;
}

// The config JSON with a trial's values put in.
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json apply_settings(nlohmann::json config, const SearchSpace& s,
                                     const nlohmann::json& settings) {
  for (const SearchDimension& d : s.dimensions) {
    try {
      config[d.where] = settings.at(d.key);
    } catch (const nlohmann::json::exception& e) {
      fail(s.source, ": cannot set \"", d.key, "\" in the config: ", e.what());
    }
  }
  return config;
}

// What one trial gave; NaN where the method does not report a figure.
struct TrialResult {
  int trial = 0;
  nlohmann::json settings;
  double validation_accuracy = std::nan(""), validation_auc = std::nan(""), mean_ks = std::nan("");
  double epochs = 0.0;

  double figure(const std::string& name) const {
    return name == "validation_auc" ? validation_auc : name == "mean_ks" ? mean_ks : validation_accuracy;
  }
};

// What trains a trial's config: train::run, or a function that calls it. A program that compiles
// train::run in another translation unit passes that function, so that the training stack is
// compiled once (the `agnostic` command does).
using TrainingRun = RunResult (*)(const TrainConfig&, const RunOptions&);

// Trains trial `trial` (its config: `base_json` with `settings`, output into `directory`, silent).
// `base_dir` is where the config's relative data paths start from.
AGNOSTIC_COMPILED_WHEN_USED
inline TrialResult run_trial(const nlohmann::json& base_json, const std::string& source,
                             const std::filesystem::path& base_dir, const SearchSpace& s, int trial,
                             const nlohmann::json& settings, const std::filesystem::path& directory,
                             TrainingRun train_config = &run) {
  nlohmann::json j = apply_settings(base_json, s, settings);
  j["output"]["directory"] = directory.string();
  j["output"]["progress"] = "silent";
  const std::string where = source + " (tune trial " + std::to_string(trial) + ": " + settings.dump() + ")";
  TrainConfig c;
  RunResult r;
  std::ostream discarded(nullptr);  // a trial prints nothing (its outputs are in its directory)
  try {
    c = config_from_json(j, where, base_dir);
    r = train_config(c, {.out = &discarded});
  } catch (const std::exception& e) {
    fail("tune trial ", trial, " (", settings.dump(), "): ", e.what());
  }
  TrialResult t;
  t.trial = trial;
  t.settings = settings;
  const History h = history_from_json(read_json_file((directory / c.output.history).string(), "history"));
  const auto& es = c.training.early_stopping;
  const Index held = es.enabled && es.restore_best && h.best_epoch > 0
                         ? h.best_epoch
                         : (h.epochs.empty() ? 0 : h.epochs.back().epoch);
  for (const EpochRecord& e : h.epochs)
    if (e.epoch == held && e.figures.count("validation_accuracy"))
      t.validation_accuracy = e.figures.at("validation_accuracy");
  if (r.summary.contains("validation_auc")) t.validation_auc = r.summary["validation_auc"].get<double>();
  if (r.summary.contains("model_mean_ks")) t.mean_ks = r.summary["model_mean_ks"].get<double>();
  t.epochs = static_cast<double>(h.epochs.size());
  return t;
}

// Trials side by side on one node: `trials` at once, each training with `threads` OpenMP threads.
struct TrialParallelism {
  int trials = 1;   // 1: one after the other, in the calling thread, with its threads
  int threads = 0;  // per trial; 0: max(1, the caller's agnostic::threads() / trials)
};

// K trials at once (`agnostic tune --parallel-trials K`), each with threads() / K threads (at least
// 1) however many trials a process gets, so that a trial's result does not depend on how many run
// beside it; K = 1: one after the other, each with the caller's threads.
AGNOSTIC_COMPILED_WHEN_USED
inline TrialParallelism trials_at_once(int k) {
  require(k >= 1, "tune: trials run at once must be >= 1, got ", k);
  TrialParallelism p;
  p.trials = k;
  if (k > 1) p.threads = std::max(1, threads() / k);
  return p;
}

// Where a tune writes when not told: the config's output directory + "/tune".
AGNOSTIC_COMPILED_WHEN_USED
inline std::filesystem::path default_tune_directory(const TrainConfig& config) {
  return std::filesystem::path(config.output.directory) / "tune";
}

// Runs trial(i) for i in [0, n) and returns the results in trial order. With p.trials = K > 1, K
// std::threads each take the next trial not yet started (so trials start in index order) and train
// it with p.threads OpenMP threads (agnostic::set_threads holds per thread; a config's
// training.threads still sets its own trial's). A trial's result depends only on its settings and
// its thread count, so the table is the one K = 1 gives with that many threads, whatever order the
// trials finish in. When trials fail, no further trial starts and the error of the failed trial with
// the smallest index is rethrown (the one a serial run stops at).
template <class Trial>
std::vector<TrialResult> run_trials(int n, const TrialParallelism& p, Trial&& trial) {
  require(n >= 0, "tune: the number of trials must be >= 0, got ", n);
  require(p.trials >= 1, "tune: trials run at once must be >= 1, got ", p.trials);
  require(p.threads >= 0, "tune: threads per trial must be >= 0, got ", p.threads);
  std::vector<TrialResult> results(static_cast<std::size_t>(n));
  const int workers = std::min(p.trials, std::max(n, 1));
  if (workers == 1 && p.threads == 0) {
    for (int i = 0; i < n; ++i) results[static_cast<std::size_t>(i)] = trial(i);
    return results;
  }
  const int per_trial = p.threads > 0 ? p.threads : std::max(1, threads() / p.trials);
  Eigen::initParallel();  // Eigen's lazily set statics, before threads use Eigen
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(n));
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    set_threads(per_trial);
    for (int i = next++; i < n && !failed; i = next++) {
      try {
        results[static_cast<std::size_t>(i)] = trial(i);
      } catch (...) {
        errors[static_cast<std::size_t>(i)] = std::current_exception();
        failed = true;
      }
    }
  };
  if (workers == 1) {
    const int before = threads();
    work();
    set_threads(before);
  } else {
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) pool.emplace_back(work);
    for (std::thread& t : pool) t.join();
  }
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  return results;
}

// The trials shared among the processes of `comm` (a one-rank communicator, or the ranks of an
// mpirun): rank r runs its contiguous share of the settings.size() trials, K at a time as `p` says,
// and every rank returns every trial's result in trial order (the figures gathered, the settings from
// `settings`). With one rank this is run_trials(settings.size(), p, trial). An error on any rank is
// rethrown on every rank, with the message of the first rank that failed.
template <class Trial>
std::vector<TrialResult> run_trials(Communicator& comm, const std::vector<nlohmann::json>& settings,
                                    const TrialParallelism& p, Trial&& trial) {
  const Share share = comm.share(static_cast<long long>(settings.size()));
  std::vector<double> mine;
  run_collectively(comm, [&] {
    const int count = static_cast<int>(share.end - share.begin);
    for (const TrialResult& r :
         run_trials(count, p, [&](int j) { return trial(static_cast<int>(share.begin) + j); }))
      mine.insert(mine.end(), {r.validation_accuracy, r.validation_auc, r.mean_ks, r.epochs});
  });
  const std::vector<double> all = comm.all_gather(mine);
  require(all.size() == 4 * settings.size(), "tune: gathered ", all.size(), " figures, expected ",
          4 * settings.size());
  std::vector<TrialResult> results(settings.size());
  for (std::size_t i = 0; i < settings.size(); ++i) {
    TrialResult& r = results[i];
    r.trial = static_cast<int>(i);
    r.settings = settings[i];
    r.validation_accuracy = all[4 * i];
    r.validation_auc = all[4 * i + 1];
    r.mean_ks = all[4 * i + 2];
    r.epochs = all[4 * i + 3];
  }
  return results;
}

// The best trial by the objective (NaN figures never win); -1 when no trial has the figure.
AGNOSTIC_COMPILED_WHEN_USED
inline int best_trial(const std::vector<TrialResult>& results, const SearchSpace& s) {
  int best = -1;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const double x = results[i].figure(s.objective);
    if (std::isnan(x)) continue;
    const double b = best < 0 ? 0.0 : results[static_cast<std::size_t>(best)].figure(s.objective);
    if (best < 0 || (s.maximise() ? x > b : x < b)) best = static_cast<int>(i);
  }
  return best;
}

// tune.csv (one row per trial: trial, each key, the figures), tune.json (space, trials, best) and,
// if a trial has the objective, best_config.json (the config with the best trial's values).
// Returns the table as text for the terminal.
AGNOSTIC_COMPILED_WHEN_USED
inline std::string write_tune_outputs(const std::filesystem::path& dir, const nlohmann::json& base_json,
                                      const SearchSpace& s, const std::vector<TrialResult>& results) {
  auto cell = [](double x) {
    if (std::isnan(x)) return std::string();
    std::ostringstream out;
    out.precision(6);
    out << x;
    return out.str();
  };
  std::ostringstream csv;
  csv << "trial";
  for (const SearchDimension& d : s.dimensions) csv << "," << d.key;
  csv << ",validation_accuracy,validation_auc,mean_ks,epochs\n";
  nlohmann::json trials = nlohmann::json::array();
  for (const TrialResult& r : results) {
    csv << r.trial;
    for (const SearchDimension& d : s.dimensions) {
      std::string v = r.settings.at(d.key).dump();
      if (v.find(',') != std::string::npos || v.find('"') != std::string::npos) {
        std::string quoted = "\"";
        for (char ch : v) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        v = quoted + "\"";
      }
      csv << "," << v;
    }
    csv << "," << cell(r.validation_accuracy) << "," << cell(r.validation_auc) << "," << cell(r.mean_ks)
        << "," << cell(r.epochs) << "\n";
    auto number = [](double x) { return std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x); };
    trials.push_back({{"trial", r.trial},
                      {"settings", r.settings},
                      {"validation_accuracy", number(r.validation_accuracy)},
                      {"validation_auc", number(r.validation_auc)},
                      {"mean_ks", number(r.mean_ks)},
                      {"epochs", r.epochs}});
  }
  std::filesystem::create_directories(dir);
  write_file_atomically(dir / "tune.csv", csv.str());
  const int best = best_trial(results, s);
  nlohmann::json summary = {
      {"space", s.source},
      {"search", s.search},
      {"seed", s.seed},
      {"objective", s.objective},
      {"trials", trials},
      {"best_trial", best < 0 ? nlohmann::json(nullptr) : nlohmann::json(results[best].trial)}};
  write_file_atomically(dir / "tune.json", summary.dump(1) + "\n");
  std::string text = csv.str();
  if (best >= 0) {
    nlohmann::json config = apply_settings(base_json, s, results[static_cast<std::size_t>(best)].settings);
    write_file_atomically(dir / "best_config.json", config.dump(1) + "\n");
    text += "best: trial " + std::to_string(results[static_cast<std::size_t>(best)].trial) + " (" +
            s.objective + " " + cell(results[static_cast<std::size_t>(best)].figure(s.objective)) +
            "), config in " + (dir / "best_config.json").string() + "\n";
  } else {
    text += "no trial reported " + s.objective + "; no best_config.json written\n";
  }
  return text;
}

}  // namespace agnostic::train
