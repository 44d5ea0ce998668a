#pragma once
// ParameterGroup<T>: a named list of parameters that are trained (or frozen) together.
//
// A group only points at parameters owned elsewhere (by layers): keep the owners alive while the
// group is used. Groups are what optimisers see, so the classifier and the adversary of an ADNN can
// have their own optimiser and learning rate, and one of them can be frozen while the other trains.
#include <string>
#include <utility>
#include <vector>

#include "agnostic/autodiff/parameter.hpp"
#include "agnostic/core/error.hpp"

namespace agnostic {

template <class T>
class ParameterGroup {
 public:
  ParameterGroup() = default;
  explicit ParameterGroup(std::string name, std::vector<Parameter<T>*> parameters = {})
      : name_(std::move(name)) {
    for (Parameter<T>* p : parameters) add(p);
  }

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // Appends one parameter; a parameter may appear only once in a group (else it would be updated twice).
  ParameterGroup& add(Parameter<T>* p) {
    require(p != nullptr, "parameter group '", name_, "': cannot add a null parameter");
    for (const Parameter<T>* q : parameters_)
      require(q != p, "parameter group '", name_, "': parameter '", p->name, "' is already in the group");
    parameters_.push_back(p);
    return *this;
  }
  ParameterGroup& add(Parameter<T>& p) { return add(&p); }
  ParameterGroup& add(const ParameterGroup& other) {
    for (Parameter<T>* p : other.parameters_) add(p);
    return *this;
  }

  // Concatenation: the parameters of a, then those of b, in a group named "a+b".
  friend ParameterGroup operator+(const ParameterGroup& a, const ParameterGroup& b) {
    ParameterGroup sum(a.name_ + "+" + b.name_, a.parameters_);
    sum.add(b);
    return sum;
  }

  std::size_t size() const { return parameters_.size(); }
  bool empty() const { return parameters_.empty(); }
  Parameter<T>& operator[](std::size_t i) const { return *parameters_[i]; }
  auto begin() const { return parameters_.begin(); }
  auto end() const { return parameters_.end(); }
  const std::vector<Parameter<T>*>& pointers() const { return parameters_; }

  // Number of scalars in all parameters.
  Index parameter_count() const {
    Index n = 0;
    for (const Parameter<T>* p : parameters_) n += p->size();
    return n;
  }

  // A frozen parameter gets no gradient from the tape (Tape::parameter reads the flag when the
  // graph is recorded) and is skipped by optimisers: freeze before recording the step's graph.
  void freeze() const {
    for (Parameter<T>* p : parameters_) p->frozen = true;
  }
  void unfreeze() const {
    for (Parameter<T>* p : parameters_) p->frozen = false;
  }
  // True if every parameter is frozen (and the group is not empty).
  bool frozen() const {
    if (parameters_.empty()) return false;
    for (const Parameter<T>* p : parameters_)
      if (!p->frozen) return false;
    return true;
  }

  void zero_grad() const {
    for (Parameter<T>* p : parameters_) p->zero_grad();
  }

  // The parameter called `name`; an Error listing the names if there is none.
  Parameter<T>& find(const std::string& name) const {
    for (Parameter<T>* p : parameters_)
      if (p->name == name) return *p;
    std::string names;
    for (const Parameter<T>* p : parameters_) names += (names.empty() ? "" : ", ") + p->name;
    fail("parameter group '", name_, "' has no parameter '", name, "' (it has: ", names, ")");
  }

 private:
  std::string name_;
  std::vector<Parameter<T>*> parameters_;
};

}  // namespace agnostic
