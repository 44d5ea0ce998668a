#pragma once
// TrainingScheme<T>: what the epoch loop of trainer.hpp drives. The loop owns epochs, stopping,
// best-epoch tracking, the NaN/Inf guard, checkpoints and progress; a scheme owns what one step
// means. The classifier (classifier.hpp) is one scheme; DANN and ADNN are others.
//
// CallbackScheme is the quick way to write a new one: give it the training data, the batch size,
// the parameters, the optimisers and two functions — one optimisation step on a batch, and the
// end-of-epoch figures — and the loop does the rest.
#include <array>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/autodiff/parameter_group.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/optim/optimiser.hpp"
#include "agnostic/train/batches.hpp"
#include "agnostic/train/dataset.hpp"

namespace agnostic::train {

// The named extra losses of one step (e.g. "label_loss", "domain_loss"), kept in a fixed array so
// that reporting them allocates nothing: a warm step of every scheme is allocation-free. The names
// are views: give string literals, or strings the scheme owns and keeps alive (built once, e.g. in
// its constructor), never a temporary.
class StepParts {
 public:
  static constexpr std::size_t capacity = 32;
  using Entry = std::pair<std::string_view, double>;

  StepParts() = default;
  StepParts(std::initializer_list<Entry> entries) {
    for (const Entry& e : entries) (*this)[e.first] = e.second;
  }

  // The value named `name`, added (as 0) when absent.
  double& operator[](std::string_view name) {
    for (std::size_t i = 0; i < size_; ++i)
      if (entries_[i].first == name) return entries_[i].second;
    require(size_ < capacity, "StepResult: more than ", capacity, " named parts (adding '", name, "')");
    entries_[size_] = Entry{name, 0.0};
    return entries_[size_++].second;
  }
  double at(std::string_view name) const {
    for (std::size_t i = 0; i < size_; ++i)
      if (entries_[i].first == name) return entries_[i].second;
    fail("StepResult: no part named '", name, "'");
  }
  bool contains(std::string_view name) const {
    for (std::size_t i = 0; i < size_; ++i)
      if (entries_[i].first == name) return true;
    return false;
  }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const Entry* begin() const { return entries_.data(); }
  const Entry* end() const { return entries_.data() + size_; }

 private:
  std::array<Entry, capacity> entries_{};
  std::size_t size_ = 0;
};

// What one step reports. `loss` is the quantity minimised (NaN or ±Inf trigger the guard); the
// epoch's "train_loss" is the mean of the batches' losses weighted by `events`. `parts` are extra
// losses, averaged the same way into "train_<name>".
struct StepResult {
  double loss = 0.0;
  double events = 1.0;
  StepParts parts;
};

using Figures = std::map<std::string, double>;

template <class T>
class TrainingScheme {
 public:
  virtual ~TrainingScheme() = default;
  // Every parameter the run trains (snapshots, checkpoints, restore-best); names must be unique.
  virtual ParameterGroup<T> parameters() = 0;
  // Every optimiser: their states go into checkpoints, their rates are reduced on a rollback.
  virtual std::vector<Optimiser<T>*> optimisers() = 0;
  // Prepares epoch `epoch` (1-based): draws its batches with `rng` (the trainer's, saved in
  // checkpoints), updates schedules such as DANN's lambda.
  virtual void start_epoch(Index epoch, Rng& rng) = 0;
  virtual Index batches() const = 0;
  // One optimisation step on batch b of the current epoch.
  virtual StepResult step(Index b) = 0;
  // End-of-epoch figures, e.g. "validation_loss", "validation_auc". Any figure whose name ends in
  // "loss" is checked by the NaN/Inf guard.
  virtual Figures evaluate() = 0;
  // The scheme's own state for checkpoints (null if none).
  virtual nlohmann::json state() const { return nullptr; }
  virtual void load_state(const nlohmann::json&) {}
};

template <class T>
class CallbackScheme : public TrainingScheme<T> {
 public:
  using StepFunction = std::function<StepResult(const Batch<T>&)>;
  using EvaluateFunction = std::function<Figures()>;

  // Shuffled batches of `batch_size` over all of `train` (keep `train` alive).
  CallbackScheme(const Dataset<T>& train, Index batch_size, ParameterGroup<T> parameters,
                 std::vector<Optimiser<T>*> optimisers, StepFunction step, EvaluateFunction evaluate)
      : train_(&train),
        sampler_(train.rows(), batch_size),
        parameters_(std::move(parameters)),
        optimisers_(std::move(optimisers)),
        step_(std::move(step)),
        evaluate_(std::move(evaluate)) {
    require(static_cast<bool>(step_), "CallbackScheme: the step function is empty");
    require(!optimisers_.empty(), "CallbackScheme: no optimiser given");
  }

  // Batches mixing two domains in a fixed proportion instead (Clavijo et al., arXiv:2005.00568: source and
  // target 1:1).
  void use_mixed_batches(MixedBatchSampler sampler) { mixed_ = std::move(sampler); }
  // Called at the start of every epoch (1-based), e.g. to set a gradient-reversal lambda.
  std::function<void(Index)> on_epoch_start;

  ParameterGroup<T> parameters() override { return parameters_; }
  std::vector<Optimiser<T>*> optimisers() override { return optimisers_; }
  void start_epoch(Index epoch, Rng& rng) override {
    if (mixed_)
      mixed_->start_epoch(rng);
    else
      sampler_.start_epoch(rng);
    if (on_epoch_start) on_epoch_start(epoch);
  }
  Index batches() const override { return mixed_ ? mixed_->batches() : sampler_.batches(); }
  StepResult step(Index b) override {
    gather(*train_, mixed_ ? mixed_->batch(b) : sampler_.batch(b), batch_);
    return step_(batch_);
  }
  Figures evaluate() override { return evaluate_ ? evaluate_() : Figures{}; }

 private:
  const Dataset<T>* train_;
  BatchSampler sampler_;
  std::optional<MixedBatchSampler> mixed_;
  ParameterGroup<T> parameters_;
  std::vector<Optimiser<T>*> optimisers_;
  StepFunction step_;
  EvaluateFunction evaluate_;
  Batch<T> batch_;
};

}  // namespace agnostic::train
