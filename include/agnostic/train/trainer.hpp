#pragma once
// Trainer<T>: the epoch loop shared by every training scheme (scheme.hpp).
//
// Each epoch: draw the batches with the trainer's Rng, step through them, evaluate, record the
// epoch in the History, keep the best epoch's weights, write the checkpoint (atomically) and the
// history, print one line; then ask the stopping rules (stopping.hpp) whether to go on.
//
// NaN/Inf guard: a non-finite batch loss, or a non-finite figure whose name ends in "loss" after
// the epoch, either
//   - stops training (policy stop): the weights and optimiser state of the end of the last good
//     epoch are put back, the history is written, and an Error says where and what happened; or
//   - rolls back (policy rollback, the default): the state of K epochs earlier (or the initial
//     state if fewer epochs have run) is restored, every optimiser's learning rate is multiplied
//     by `rollback_factor`, the epochs in between are dropped from the history (kept in the
//     rollback record) and training goes on. After `max_rollbacks` rollbacks the next non-finite
//     loss stops training as above. (Clavijo et al., arXiv:2005.00568 saw rare loss spikes that do not come
//     back when the weights of 10 epochs earlier are restored.) The Rng is not rolled back, so the retried
//     epochs draw new batches.
// Best epoch: the epoch with the lowest (or highest) `best_figure` seen so far, including epochs a
// later rollback discarded (their weights were good when measured). With restore_best its weights
// are put back when training ends.
//
// Resuming: resume(path) loads a checkpoint written by a run with the same scheme set-up and
// continues; the result is bit for bit that of a run never interrupted (same thread count).
//
// Data-parallel training (options.data_parallel, data_parallel.hpp; docs/distributed.md): every
// rank runs this loop on its share of each global batch; every optimiser step sums the gradients
// over the ranks (the optimisers' gradient hook), each step's loss and parts are summed too, so
// every rank sees the same figures and takes the same decisions. The parameters are made equal to
// rank 0's when fit() starts. Only rank 0 writes the checkpoint and the history and prints.
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/train/checkpoint.hpp"
#include "agnostic/train/data_parallel.hpp"
#include "agnostic/train/history.hpp"
#include "agnostic/train/progress.hpp"
#include "agnostic/train/scheme.hpp"
#include "agnostic/train/stopping.hpp"

namespace agnostic::train {

enum class NonFinitePolicy { stop, rollback };

struct TrainerOptions {
  StoppingRules stopping{};    // min/max epochs, patience, running average (Clavijo et al.)
  std::string monitor;         // figure the stopping rules watch; "" = validation_loss if
                               // the scheme reports it, else train_loss
  std::string best_figure;     // figure that picks the best epoch; "" = as monitor
  bool maximise_best = false;  // true for figures such as an AUC
  bool restore_best = true;    // put the best epoch's weights back at the end
  Index warmup_epochs = 0;     // the first epochs (a method's pre-training phases, e.g. ADNN's) are
                               // neither seen by the stopping rules nor eligible as the best epoch;
                               // max_epochs counts them, min_epochs and patience count the rest
  // Only epochs whose constraint loss is near the lowest so far may be the best (stopping.hpp);
  // e.g. ADNN's mean_ks as best_figure under the classifier's validation_loss.
  std::optional<LossConstraint> constraint = std::nullopt;
  NonFinitePolicy on_non_finite = NonFinitePolicy::rollback;
  Index rollback_epochs = 10;            // K: roll back to the state of K epochs earlier
  double rollback_factor = 0.5;          // learning rates are multiplied by this at each rollback
  Index max_rollbacks = 5;               // then the next non-finite loss stops training
  std::uint64_t seed = 1;                // the Rng of the batch shuffles
  std::filesystem::path checkpoint;      // written every epoch when not empty
  bool checkpoint_recent_states = true;  // include the K rollback states (resume keeps rollbacks exact)
  std::filesystem::path history;         // history JSON, written every epoch when not empty
  std::string data_fingerprint;          // io/fingerprint.hpp: into the checkpoint; resume checks it
  Verbosity verbosity = Verbosity::epochs;
  std::ostream* out = &std::cout;
  std::function<void(const EpochRecord&)> on_epoch_end;  // after the epoch is recorded and saved
  DataParallel data_parallel{};                          // the ranks training together (default: alone)

  void validate() const {
    stopping.validate();
    require(rollback_epochs >= 1, "trainer: rollback_epochs is ", rollback_epochs, "; must be >= 1");
    require(rollback_factor > 0.0 && rollback_factor <= 1.0, "trainer: rollback_factor is ", rollback_factor,
            "; must be in (0, 1]");
    require(max_rollbacks >= 0, "trainer: max_rollbacks is ", max_rollbacks, "; must be >= 0");
    require(warmup_epochs >= 0, "trainer: warmup_epochs is ", warmup_epochs, "; must be >= 0");
    data_parallel.validate();
  }
};

// The training run stopped on a non-finite loss (policy stop, or too many rollbacks).
class NonFiniteLoss : public Error {
 public:
  using Error::Error;
};

template <class T>
class Trainer {
 public:
  Trainer(TrainingScheme<T>& scheme, TrainerOptions options)
      : scheme_(&scheme), options_(std::move(options)), rng_(options_.seed) {
    options_.validate();
    const DataParallel& dp = options_.data_parallel;
    progress_ = Progress(options_.out, dp.writes() ? options_.verbosity : Verbosity::silent);
    if (dp.active())
      for (Optimiser<T>* o : scheme_->optimisers()) {
        o->set_gradient_hook(GradientSum<T>(dp));
        hooked_.push_back(o);
      }
  }
  // The optimisers outlive the trainer (declare them first): they step alone again afterwards.
  ~Trainer() {
    for (Optimiser<T>* o : hooked_) o->set_gradient_hook({});
  }
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Trains from the scheme's current weights.
  const History& fit() {
    epoch_ = 0;
    history_ = History{};
    best_.reset();
    rng_ = Rng(options_.seed);
    recent_.clear();
    if (options_.data_parallel.active()) share_rank0_parameters();
    recent_.push_back(capture_state(0, scheme_->parameters(), scheme_->optimisers()));
    return run();
  }

  // Continues from a checkpoint (the stopping rules of this trainer's options apply, so a run
  // may be resumed with a larger max_epochs).
  const History& resume(const std::filesystem::path& path) {
    load(path);
    return run();
  }

  // Puts a checkpoint's state into the scheme and the trainer without training.
  void load(const std::filesystem::path& path) {
    if (options_.data_parallel.active()) options_.data_parallel.barrier();  // rank 0 has written it
    Checkpoint<T> c = load_checkpoint<T>(path);
    const std::string where = "checkpoint " + path.string();
    require_same_data(c.data_fingerprint, options_.data_fingerprint, where);
    restore_state(c.state, scheme_->parameters(), scheme_->optimisers(), where);
    epoch_ = c.epoch;
    rng_.set_state(c.rng);
    history_ = std::move(c.history);
    history_.stop_reason.clear();
    best_ = std::move(c.best);
    recent_.assign(c.recent.begin(), c.recent.end());
    if (recent_.empty()) recent_.push_back(std::move(c.state));
    scheme_->load_state(c.scheme);
  }

  const History& history() const { return history_; }
  Index epoch() const { return epoch_; }
  const Rng& rng() const { return rng_; }

 private:
  struct Problem {
    std::string where;
    double value;
  };

  const History& run() {
    while (true) {
      const Index done = static_cast<Index>(history_.epochs.size()), warmup = options_.warmup_epochs;
      if (done >= options_.stopping.max_epochs) {
        history_.stop_reason = "reached max_epochs = " + std::to_string(options_.stopping.max_epochs);
        break;
      }
      if (done > warmup) {
        // The rules see the epochs after the warm-up only.
        std::vector<double> watched = history_.series(monitor());
        watched.erase(watched.begin(), watched.begin() + warmup);
        StoppingRules rules = options_.stopping;
        rules.max_epochs -= warmup;
        rules.min_epochs = std::min(rules.min_epochs, rules.max_epochs);
        const StopDecision d = should_stop(watched, rules, eligible_after_warmup(), warmup + 1);
        if (d.stop) {
          history_.stop_reason = d.reason;
          break;
        }
      }
      run_epoch();
    }
    if (options_.restore_best && best_) {
      load_parameter_values(scheme_->parameters(), best_->parameters, "restore best epoch");
      progress_.message("restored the weights of epoch " + std::to_string(history_.best_epoch) + " (" +
                        history_.best_figure + " " + format(history_.best_value) + "); " +
                        history_.stop_reason);
    } else {
      progress_.message("stopped: " + history_.stop_reason);
    }
    write_history();
    return history_;
  }

  void run_epoch() {
    const Index e = epoch_ + 1;
    const auto start = std::chrono::steady_clock::now();
    const double lr = scheme_->optimisers().front()->learning_rate();
    scheme_->start_epoch(e, rng_);
    const Index nb = scheme_->batches();
    double loss_sum = 0.0, events = 0.0;
    std::map<std::string, double, std::less<>> part_sums;  // keyed by view: no string per step
    std::optional<Problem> problem;
    for (Index b = 0; b < nb; ++b) {
      const StepResult r = shared_step(b);
      if (!std::isfinite(r.loss)) {
        problem = Problem{"training batch " + std::to_string(b + 1) + " of " + std::to_string(nb), r.loss};
        break;
      }
      loss_sum += r.loss * r.events;
      events += r.events;
      for (const auto& [name, value] : r.parts) {
        auto it = part_sums.find(name);
        if (it == part_sums.end()) it = part_sums.emplace(std::string(name), 0.0).first;
        it->second += value * r.events;
      }
      progress_.batch(e, b + 1, nb, loss_sum / events);
    }
    EpochRecord record;
    if (!problem) {
      record.figures = scheme_->evaluate();
      for (const auto& [name, value] : record.figures)
        if (name.size() >= 4 && name.compare(name.size() - 4, 4, "loss") == 0 && !std::isfinite(value)) {
          problem = Problem{"evaluation (" + name + ")", value};
          break;
        }
    }
    if (problem) {
      handle_non_finite(e, *problem);
      return;
    }
    record.epoch = e;
    record.learning_rate = lr;
    record.figures["train_loss"] = events > 0.0 ? loss_sum / events : 0.0;
    for (const auto& [name, sum] : part_sums) record.figures["train_" + name] = sum / events;
    record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    history_.epochs.push_back(record);
    epoch_ = e;

    const bool improved = update_best(record);
    recent_.push_back(capture_state(e, scheme_->parameters(), scheme_->optimisers()));
    while (static_cast<Index>(recent_.size()) > options_.rollback_epochs) recent_.pop_front();
    write_checkpoint();
    write_history();
    progress_.epoch(record, options_.stopping.max_epochs, improved);
    if (options_.on_epoch_end) options_.on_epoch_end(record);
  }

  // One step on this rank's share of batch b; under data-parallel training the loss, the events
  // and the parts are the sums over the ranks, so every rank sees the same.
  StepResult shared_step(Index b) {
    const DataParallel& dp = options_.data_parallel;
    const BatchShardScope shard(dp.rank, dp.ranks, &dp.sum);
    StepResult r = scheme_->step(b);
    if (!dp.active()) return r;
    step_sums_.assign({r.loss * r.events, r.events});
    for (const auto& part : r.parts) step_sums_.push_back(part.second * r.events);
    dp.sum(std::span<double>(step_sums_));
    r.events = step_sums_[1];
    r.loss = step_sums_[0] / r.events;
    std::size_t k = 2;
    for (const auto& part : r.parts) r.parts[part.first] = step_sums_[k++] / r.events;
    return r;
  }

  // Every rank's parameters become rank 0's (a sum where the other ranks give zeros is exact).
  void share_rank0_parameters() {
    std::vector<double> values;
    for (const Parameter<T>* p : scheme_->parameters())
      for (Index i = 0; i < p->value.size(); ++i)
        values.push_back(options_.data_parallel.rank == 0 ? static_cast<double>(p->value.data()[i]) : 0.0);
    options_.data_parallel.sum(std::span<double>(values));
    std::size_t k = 0;
    for (Parameter<T>* p : scheme_->parameters())
      for (Index i = 0; i < p->value.size(); ++i) p->value.data()[i] = static_cast<T>(values[k++]);
  }

  bool update_best(const EpochRecord& r) {
    if (r.epoch <= options_.warmup_epochs) return false;
    const std::string name = best_figure();
    const auto it = r.figures.find(name);
    require(it != r.figures.end(), "trainer: best_figure '", name, "' is not among the epoch's figures (",
            history_.figure_names(), ")");
    const double v = it->second;
    bool better = !best_ || (options_.maximise_best ? v > history_.best_value : v < history_.best_value);
    if (options_.constraint) {
      // Eligible now: this epoch, and the best so far unless a lower loss has pushed it out (then
      // this epoch, which set the new lowest loss, replaces it: older weights are not kept).
      const std::vector<bool> eligible = eligible_after_warmup();
      const bool best_eligible =
          best_ && constraint_value(history_.best_epoch) <=
                       constraint_limit(lowest_constraint(), options_.constraint->relative_tolerance);
      better = eligible.back() && (better || !best_eligible);
    }
    if (!better) return false;
    history_.best_epoch = r.epoch;
    history_.best_figure = name;
    history_.best_value = v;
    TrainingState<T> s;
    s.epoch = r.epoch;
    s.parameters = parameter_values(scheme_->parameters());
    best_ = std::move(s);
    return true;
  }

  void handle_non_finite(Index e, const Problem& p) {
    const auto optimisers = scheme_->optimisers();
    const double lr_before = optimisers.front()->base_learning_rate();
    std::ostringstream what;
    what << "the loss is " << p.value << " in " << p.where << " of epoch " << e << " (learning rate "
         << optimisers.front()->learning_rate() << ")";
    const bool stop = options_.on_non_finite == NonFinitePolicy::stop ||
                      static_cast<Index>(history_.rollbacks.size()) >= options_.max_rollbacks;
    if (stop) {
      // The end of the last good epoch is the newest saved state.
      restore_state(recent_.back(), scheme_->parameters(), optimisers, "non-finite loss guard");
      std::ostringstream message;
      message << "training stopped: " << what.str() << "; the model holds the weights of the end of epoch "
              << recent_.back().epoch
              << (options_.on_non_finite == NonFinitePolicy::stop
                      ? ". Lower the learning rate, or choose the rollback policy"
                      : ". " + std::to_string(history_.rollbacks.size()) +
                            " rollbacks already made (max_rollbacks); lower the learning rate");
      history_.stop_reason = message.str();
      write_history();
      progress_.message(message.str());
      throw NonFiniteLoss(message.str());
    }
    // Current base rates, before restoring states that may hold older (higher) ones.
    std::vector<double> rates;
    for (const Optimiser<T>* o : optimisers) rates.push_back(o->base_learning_rate());
    const TrainingState<T> target = recent_.front();
    restore_state(target, scheme_->parameters(), optimisers, "rollback");
    for (std::size_t i = 0; i < optimisers.size(); ++i)
      optimisers[i]->set_learning_rate(rates[i] * options_.rollback_factor);
    RollbackRecord r;
    r.at_epoch = e;
    r.where = p.where;
    r.loss = p.value;
    r.to_epoch = target.epoch;
    r.learning_rate_before = lr_before;
    r.learning_rate_after = optimisers.front()->base_learning_rate();
    while (!history_.epochs.empty() && history_.epochs.back().epoch > target.epoch) {
      r.discarded.insert(r.discarded.begin(), history_.epochs.back());
      history_.epochs.pop_back();
    }
    history_.rollbacks.push_back(std::move(r));
    epoch_ = target.epoch;
    recent_.clear();
    // The restored state with its reduced rates is the new starting point.
    recent_.push_back(capture_state(epoch_, scheme_->parameters(), optimisers));
    progress_.message(what.str() + "; rolled back to the end of epoch " + std::to_string(target.epoch) +
                      ", learning rate " + format(lr_before) + " -> " +
                      format(optimisers.front()->base_learning_rate()));
    write_checkpoint();
    write_history();
  }

  std::string monitor() const {
    if (!options_.monitor.empty()) return options_.monitor;
    if (!history_.epochs.empty() && history_.epochs.back().figures.count("validation_loss"))
      return "validation_loss";
    return "train_loss";
  }
  std::string best_figure() const { return options_.best_figure.empty() ? monitor() : options_.best_figure; }

  // The constraint's eligibility flags of the epochs after the warm-up (empty without a constraint).
  std::vector<bool> eligible_after_warmup() const {
    if (!options_.constraint) return {};
    std::vector<double> c = history_.series(options_.constraint->figure);
    c.erase(c.begin(), c.begin() + std::min<std::ptrdiff_t>(options_.warmup_epochs, std::ssize(c)));
    return eligible_epochs(c, options_.constraint->relative_tolerance);
  }
  double lowest_constraint() const {
    double lowest = std::numeric_limits<double>::infinity();
    for (const EpochRecord& e : history_.epochs)
      if (e.epoch > options_.warmup_epochs)
        lowest = std::min(lowest, e.figures.at(options_.constraint->figure));
    return lowest;
  }
  // The constraint loss of epoch `epoch`, also when a rollback has discarded it.
  double constraint_value(Index epoch) const {
    const std::string& name = options_.constraint->figure;
    for (const EpochRecord& e : history_.epochs)
      if (e.epoch == epoch) return e.figures.at(name);
    for (const RollbackRecord& r : history_.rollbacks)
      for (const EpochRecord& e : r.discarded)
        if (e.epoch == epoch) return e.figures.at(name);
    return std::numeric_limits<double>::infinity();
  }

  void write_checkpoint() {
    if (options_.checkpoint.empty() || !options_.data_parallel.writes()) return;
    Checkpoint<T> c;
    c.epoch = epoch_;
    c.state = capture_state(epoch_, scheme_->parameters(), scheme_->optimisers());
    c.rng = rng_.state();
    c.history = history_;
    c.best = best_;
    if (options_.checkpoint_recent_states) c.recent.assign(recent_.begin(), recent_.end());
    c.scheme = scheme_->state();
    c.data_fingerprint = options_.data_fingerprint;
    save_checkpoint(options_.checkpoint, c);
  }

  void write_history() {
    if (options_.history.empty() || !options_.data_parallel.writes()) return;
    write_file_atomically(options_.history, to_json(history_).dump(1) + "\n");
  }

  static std::string format(double x) {
    std::ostringstream out;
    out << x;
    return out.str();
  }

  TrainingScheme<T>* scheme_;
  TrainerOptions options_;
  Rng rng_;
  Progress progress_;
  Index epoch_ = 0;
  History history_;
  std::optional<TrainingState<T>> best_;
  std::deque<TrainingState<T>> recent_;  // end-of-epoch states, oldest first, at most K
  std::vector<double> step_sums_;        // a step's loss, events and parts (data-parallel)
  std::vector<Optimiser<T>*> hooked_;    // optimisers whose gradient hook this trainer set
};

}  // namespace agnostic::train
