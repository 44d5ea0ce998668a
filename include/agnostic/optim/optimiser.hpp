#pragma once
// Optimiser<T>: what every optimiser shares.
//
// An optimiser owns one ParameterGroup and its own learning rate (use one optimiser per group to
// train groups at different rates). step() does, for the group's parameters that are not frozen:
//   0. calls the gradient hook, if one is set: data-parallel training (train/data_parallel.hpp)
//      replaces each process's gradients by the sum over the processes there, so every scheme's
//      step passes through it without knowing;
//   1. checks every gradient is finite (else an Error naming the parameter, or for try_step() a
//      false; the gradients are zeroed and nothing else is changed);
//   2. clipping by value: g <- clamp(g, -c, c)                                (if clip.value > 0);
//   3. clipping by global norm: n = ||(all gradients of the group)||_2, and if n > N then
//      g <- g * N / (n + 1e-6)    (PyTorch's clip_grad_norm_, applied after value clipping);
//   4. the L2 penalty: g <- g + l2 * theta (the gradient of (l2/2)||theta||^2; PyTorch's
//      weight_decay of SGD, RMSprop and Adam);
//   5. the optimiser's own update with the scheduled rate lr(t), t = steps taken so far;
//   6. zeroes the gradient.
// Frozen parameters are left alone: no update, their buffers and step counts do not move.
// Clipping and the L2 term are applied to Parameter::grad in place, which step() zeroes anyway.
//
// State: state() gives every moment buffer as a named matrix ("<buffer>:<parameter name>") and the
// counters ("steps", and "steps:<parameter name>" for per-parameter step counts, which bias
// corrections use); load_state() puts them back after checking kind, names and shapes.
// optim/state_json.hpp converts an OptimiserState to and from JSON.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "agnostic/autodiff/parameter_group.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/explicit_instances.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/optim/schedule.hpp"

namespace agnostic {

// 0 switches a clipping off.
struct Clipping {
  double norm = 0.0;   // maximum global L2 norm of the group's gradient
  double value = 0.0;  // maximum |component| of each gradient
};

template <class T>
struct OptimiserState {
  std::string kind;                              // "sgd", "rmsprop", "adam", "adamw"
  std::map<std::string, std::int64_t> counters;  // "steps", "steps:<parameter>"
  std::map<std::string, double> scalars;         // "learning_rate" (the base rate)
  std::map<std::string, Matrix<T>> buffers;      // "<buffer>:<parameter>"
};

// The settings every optimiser takes; each optimiser's options struct carries them.
struct OptimiserSettings {
  double lr = 1e-3;
  double l2 = 0.0;
  Clipping clip{};
  Schedule schedule{};
};

template <class T>
class Optimiser {
 public:
  virtual ~Optimiser() = default;

  void step() {
    if (!try_step())
      fail(kind_, " '", group_.name(), "', step ", steps_ + 1, ": the gradient of '", non_finite_,
           "' contains NaN or Inf; no parameter was changed");
  }

  // The step a training scheme takes: as step(), but a NaN or Inf gradient (after the hook) is not
  // an error: the gradients are zeroed, nothing else changes, and it returns false so that the
  // scheme reports a non-finite loss to the trainer's guard. Under data-parallel training the hook
  // sums the gradients over the processes first, so one process's NaN makes every process skip
  // the same step (none is left waiting in the next sum).
  bool try_step() {
    const auto& params = group_.pointers();
    // 0. The gradient hook (data-parallel training).
    if (gradient_hook_) gradient_hook_(params);
    // 1. Finite gradients, and the global norm (summed in parameter order: deterministic).
    double squares = 0.0;
    for (const Parameter<T>* p : params) {
      if (p->frozen) continue;
      require(p->grad.rows() == p->value.rows() && p->grad.cols() == p->value.cols(), kind_, " '",
              group_.name(), "': gradient of '", p->name, "' is ", p->grad.rows(), " x ", p->grad.cols(),
              " but the parameter is ", p->value.rows(), " x ", p->value.cols());
      if (!p->grad.allFinite()) {
        non_finite_ = p->name;
        zero_grad();
        return false;
      }
    }
    // 2. Clipping by value.
    if (settings_.clip.value > 0.0) {
      const T c = static_cast<T>(settings_.clip.value);
      for (Parameter<T>* p : params)
        if (!p->frozen) p->grad = p->grad.cwiseMax(-c).cwiseMin(c);
    }
    for (const Parameter<T>* p : params)
      if (!p->frozen) squares += static_cast<double>(p->grad.squaredNorm());
    gradient_norm_ = std::sqrt(squares);
    // 3. Clipping by global norm.
    if (settings_.clip.norm > 0.0) {
      const double coefficient = settings_.clip.norm / (gradient_norm_ + 1e-6);
      if (coefficient < 1.0)
        for (Parameter<T>* p : params)
          if (!p->frozen) p->grad *= static_cast<T>(coefficient);
    }
    const double lr = learning_rate();
    for (std::size_t i = 0; i < params.size(); ++i) {
      Parameter<T>& p = *params[i];
      if (p.frozen) continue;
      // 4. L2 penalty.
      if (settings_.l2 != 0.0) p.grad += static_cast<T>(settings_.l2) * p.value;
      // 5. The update.
      ++parameter_steps_[i];
      update(i, p, lr, parameter_steps_[i]);
      // 6.
      p.grad.setZero();
    }
    ++steps_;
    return true;
  }

  // The step of a process whose loss was not finite (no backward pass was run): changes nothing,
  // but still takes part in the gradient hook, with NaN gradients, so that under data-parallel
  // training every other process skips this step too (their try_step() returns false).
  void skip_step() {
    if (gradient_hook_) {
      for (Parameter<T>* p : group_.pointers())
        if (!p->frozen) p->grad.setConstant(std::numeric_limits<T>::quiet_NaN());
      gradient_hook_(group_.pointers());
    }
    zero_grad();
  }

  // A function step() calls first, before it reads a gradient; it may rewrite the non-frozen
  // parameters' gradients (e.g. sum them over MPI ranks). An empty function removes it.
  using GradientHook = std::function<void(const std::vector<Parameter<T>*>&)>;
  void set_gradient_hook(GradientHook hook) { gradient_hook_ = std::move(hook); }
  bool has_gradient_hook() const { return static_cast<bool>(gradient_hook_); }

  // Zeroes the gradients of the whole group (frozen parameters included).
  void zero_grad() { group_.zero_grad(); }

  // The rate the next step() will use, lr0 * schedule(steps()).
  double learning_rate() const { return settings_.lr * settings_.schedule.factor(steps_); }
  double base_learning_rate() const { return settings_.lr; }
  void set_learning_rate(double lr) {
    check_rate(lr);
    settings_.lr = lr;
  }
  const Schedule& schedule() const { return settings_.schedule; }
  void set_schedule(Schedule s) { settings_.schedule = s; }

  // Number of step() calls so far.
  std::int64_t steps() const { return steps_; }
  // Global L2 norm of the gradients seen by the last step (after value clipping, before norm
  // clipping and the L2 term); 0 before the first step.
  double gradient_norm() const { return gradient_norm_; }
  const ParameterGroup<T>& group() const { return group_; }
  const std::string& kind() const { return kind_; }

  OptimiserState<T> state() const {
    check_unique_names();
    OptimiserState<T> s;
    s.kind = kind_;
    s.counters["steps"] = steps_;
    s.scalars["learning_rate"] = settings_.lr;
    for (std::size_t i = 0; i < group_.size(); ++i) {
      const std::string& name = group_[i].name;
      s.counters["steps:" + name] = parameter_steps_[i];
      for (std::size_t b = 0; b < buffer_names_.size(); ++b)
        s.buffers[buffer_names_[b] + ":" + name] = buffers_[b][i];
    }
    return s;
  }

  // Restores a state taken from an optimiser of the same kind over parameters with the same names
  // and shapes. Nothing is changed if the state does not fit.
  void load_state(const OptimiserState<T>& s) {
    check_unique_names();
    const std::string where = kind_ + " '" + group_.name() + "': load_state: ";
    require(s.kind == kind_, where, "the state is of a '", s.kind, "' optimiser, expected '", kind_, "'");
    auto counter = [&](const std::string& key) {
      auto it = s.counters.find(key);
      require(it != s.counters.end(), where, "counter '", key, "' is missing");
      require(it->second >= 0, where, "counter '", key, "' is negative (", it->second, ")");
      return it->second;
    };
    const std::size_t expected_buffers = buffer_names_.size() * group_.size();
    require(s.buffers.size() == expected_buffers, where, "the state has ", s.buffers.size(),
            " buffers, this optimiser has ", expected_buffers);
    require(s.counters.size() == group_.size() + 1, where, "the state has ", s.counters.size(),
            " counters, this optimiser has ", group_.size() + 1);
    for (std::size_t i = 0; i < group_.size(); ++i) {
      counter("steps:" + group_[i].name);
      for (const std::string& b : buffer_names_) {
        const std::string key = b + ":" + group_[i].name;
        auto it = s.buffers.find(key);
        require(it != s.buffers.end(), where, "buffer '", key, "' is missing");
        require(it->second.rows() == group_[i].value.rows() && it->second.cols() == group_[i].value.cols(),
                where, "buffer '", key, "' is ", it->second.rows(), " x ", it->second.cols(),
                ", the parameter is ", group_[i].value.rows(), " x ", group_[i].value.cols());
      }
    }
    double lr = settings_.lr;
    if (auto it = s.scalars.find("learning_rate"); it != s.scalars.end()) {
      check_rate(it->second);
      lr = it->second;
    }
    // Everything checked: now copy.
    steps_ = counter("steps");
    settings_.lr = lr;
    for (std::size_t i = 0; i < group_.size(); ++i) {
      parameter_steps_[i] = counter("steps:" + group_[i].name);
      for (std::size_t b = 0; b < buffer_names_.size(); ++b)
        buffers_[b][i] = s.buffers.at(buffer_names_[b] + ":" + group_[i].name);
    }
  }

 protected:
  Optimiser(ParameterGroup<T> group, OptimiserSettings settings, std::string kind,
            std::vector<std::string> buffer_names)
      : group_(std::move(group)),
        settings_(settings),
        kind_(std::move(kind)),
        buffer_names_(std::move(buffer_names)) {
    require(!group_.empty(), kind_, " '", group_.name(), "': the parameter group is empty");
    check_rate(settings_.lr);
    require(std::isfinite(settings_.l2) && settings_.l2 >= 0.0, kind_, " '", group_.name(),
            "': l2 must be >= 0, got ", settings_.l2);
    require(std::isfinite(settings_.clip.norm) && settings_.clip.norm >= 0.0, kind_, " '", group_.name(),
            "': clip.norm must be >= 0 (0 = off), got ", settings_.clip.norm);
    require(std::isfinite(settings_.clip.value) && settings_.clip.value >= 0.0, kind_, " '", group_.name(),
            "': clip.value must be >= 0 (0 = off), got ", settings_.clip.value);
    parameter_steps_.assign(group_.size(), 0);
    buffers_.resize(buffer_names_.size());
    for (auto& per_parameter : buffers_)
      for (const Parameter<T>* p : group_)
        per_parameter.push_back(Matrix<T>::Zero(p->value.rows(), p->value.cols()));
  }

  // Updates p.value from p.grad (already clipped and with the L2 term) at rate lr; t is this
  // parameter's own step number, 1 on its first update.
  virtual void update(std::size_t index, Parameter<T>& p, double lr, std::int64_t t) = 0;

  // Buffer b (in the order of the names given to the constructor) of parameter i.
  Matrix<T>& buffer(std::size_t b, std::size_t i) { return buffers_[b][i]; }

  // Throws unless `condition`, with "<kind> '<group>': " in front of the message.
  template <class... Parts>
  void check(bool condition, Parts&&... parts) const {
    require(condition, kind_, " '", group_.name(), "': ", std::forward<Parts>(parts)...);
  }

 private:
  void check_rate(double lr) const {
    require(std::isfinite(lr) && lr >= 0.0, kind_, " '", group_.name(),
            "': the learning rate must be finite and >= 0, got ", lr);
  }
  void check_unique_names() const {
    for (std::size_t i = 0; i < group_.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        require(group_[i].name != group_[j].name, kind_, " '", group_.name(),
                "': two parameters are called '", group_[i].name,
                "'; the state is keyed by name, so give the networks different names (Sequential::set_name)");
  }

  ParameterGroup<T> group_;
  OptimiserSettings settings_;
  std::string kind_;
  std::vector<std::string> buffer_names_;
  std::vector<std::vector<Matrix<T>>> buffers_;  // [buffer][parameter]
  std::vector<std::int64_t> parameter_steps_;
  std::int64_t steps_ = 0;
  double gradient_norm_ = 0.0;
  GradientHook gradient_hook_;
  std::string non_finite_;  // the parameter whose gradient stopped the latest try_step()
};

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE class Optimiser<float>;
AGNOSTIC_INSTANCE class Optimiser<double>;
#endif

}  // namespace agnostic
