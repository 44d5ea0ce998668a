#pragma once
// The interface every layer of a Sequential implements.
//
// A layer maps one batch (events as rows) to another on a tape, owns its parameters (so their
// addresses stay fixed while the layer lives) and can be copied through clone(), which copies
// the parameter values and leaves the copy's gradients zero.
#include <memory>
#include <string>
#include <vector>

#include "agnostic/autodiff/parameter.hpp"
#include "agnostic/autodiff/tape.hpp"

namespace agnostic {

template <class T>
class Layer {
 public:
  virtual ~Layer() = default;

  // Records the layer on the tape: x is events x input_size(), the result events x output_size().
  virtual Var<T> operator()(Tape<T>& tape, Var<T> x) = 0;
  // The layer's parameters, in a fixed order (weight before bias).
  virtual std::vector<Parameter<T>*> parameters() = 0;
  // Number of input and output columns; 0 means "any" (an activation layer takes what it gets).
  virtual Index input_size() const = 0;
  virtual Index output_size() const = 0;
  // A one-line description for summaries and error messages, e.g. "dense 20 -> 16, elu".
  virtual std::string describe() const = 0;
  virtual std::unique_ptr<Layer<T>> clone() const = 0;
  // Gives the parameters names starting with `prefix` (e.g. "classifier.2").
  virtual void set_name(const std::string& prefix) = 0;
  // Sets Parameter::frozen on every parameter (layers override it to avoid building a vector).
  virtual void set_frozen(bool frozen) {
    for (Parameter<T>* p : parameters()) p->frozen = frozen;
  }
};

}  // namespace agnostic
