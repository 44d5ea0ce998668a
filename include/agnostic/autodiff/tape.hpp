#pragma once
// The reverse-mode autodiff tape.
//
// A Tape records operations on whole matrices (one batch of events per node; events are rows).
// Each node keeps its value, its gradient and a plain function pointer that pushes the gradient
// back to its inputs. Nodes are stored by value in a vector that is cleared, never shrunk: on the
// second and later steps of the same graph every matrix already has its size and nothing is
// allocated. Operations live in the other headers of autodiff/ and losses/; each one is a free
// function that pushes a node and names its backward function.
//
// Gradients: a node's gradient is "dead" (implicitly zero) until the first consumer writes it,
// so no pass is spent zeroing. Parameters are read in place and their gradient is accumulated
// directly into Parameter::grad (the optimiser zeroes it after its step).
#include <array>
#include <vector>

#include "agnostic/autodiff/parameter.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/explicit_instances.hpp"
#include "agnostic/core/matrix.hpp"

namespace agnostic {

template <class T>
class Tape;

// A handle to a node of a tape: cheap to copy, valid until the tape is cleared.
template <class T>
class Var {
 public:
  Var() = default;
  Var(Tape<T>* tape, int id) : tape_(tape), id_(id) {}

  Tape<T>& tape() const { return *tape_; }
  int id() const { return id_; }
  bool valid() const { return tape_ != nullptr; }
  const Matrix<T>& value() const { return tape_->value(id_); }
  // The gradient after Tape::backward; a zero matrix if nothing reached this node.
  const Matrix<T>& grad() const { return tape_->grad(id_); }
  Index rows() const { return value().rows(); }
  Index cols() const { return value().cols(); }
  // The value of a 1 x 1 node, e.g. a loss.
  T item() const {
    require(value().size() == 1, "item() needs a 1 x 1 node, this one is ", rows(), " x ", cols());
    return value()(0, 0);
  }

 private:
  Tape<T>* tape_ = nullptr;
  int id_ = -1;
};

template <class T>
struct Node {
  using Backward = void (*)(Tape<T>&, int self);
  Matrix<T> value;
  Matrix<T> grad;
  std::array<Matrix<T>, 3> buffer;      // storage an operation keeps between steps (scratch, saved values)
  std::vector<Index> indices;           // integers an operation keeps (labels, row indices)
  const Matrix<T>* external = nullptr;  // an input or parameter read in place
  Parameter<T>* parameter = nullptr;    // where a parameter node's gradient goes
  std::array<int, 3> input{-1, -1, -1};
  std::array<T, 3> scalar{};
  int code = 0;  // an operation's own small integer (activation kind, axis, ...)
  Backward backward = nullptr;
  const char* op = "";
  bool needs_grad = false;
  bool grad_live = false;
};

template <class T>
class Tape {
 public:
  Tape() = default;
  Tape(const Tape&) = delete;  // nodes point into the tape; a copy would be a trap
  Tape& operator=(const Tape&) = delete;

  // A batch read in place: keep `x` alive and unchanged until clear().
  Var<T> input(const Matrix<T>& x) { return leaf(&x, false, "input"); }
  Var<T> input(Matrix<T>&&) = delete;  // a temporary would dangle
  // Like input(), but the gradient with respect to it is computed (gradient checks, saliency).
  Var<T> variable(const Matrix<T>& x) { return leaf(&x, true, "variable"); }
  Var<T> variable(Matrix<T>&&) = delete;
  // A copy kept by the tape (for small constants built on the fly).
  Var<T> constant(const Matrix<T>& x) {
    const int id = push("constant", nullptr, false);
    nodes_[id].value = x;
    return {this, id};
  }

  Var<T> parameter(Parameter<T>& p) {
    const int id = leaf(&p.value, !p.frozen, "parameter").id();
    nodes_[id].parameter = &p;
    return {this, id};
  }

  // Computes the gradient of a 1 x 1 node with respect to every node that needs one.
  void backward(Var<T> loss) {
    require(loss.valid() && &loss.tape() == this, "backward: the loss belongs to another tape");
    require(value(loss.id()).size() == 1, "backward: the loss must be 1 x 1, it is ", loss.rows(), " x ",
            loss.cols());
    for (int i = 0; i < used_; ++i) nodes_[i].grad_live = false;
    Node<T>& top = nodes_[loss.id()];
    if (!top.needs_grad) return;
    bool add = false;
    Matrix<T>& g = grad_target(loss.id(), add);
    if (add)
      g.array() += T(1);
    else
      g.setOnes();
    for (int i = loss.id(); i >= 0; --i) {
      Node<T>& n = nodes_[i];
      if (n.needs_grad && n.grad_live && n.backward) n.backward(*this, i);
    }
  }

  // Forgets the recorded graph but keeps every buffer for the next step.
  void clear() { used_ = 0; }
  int size() const { return used_; }

  // ---- for operation implementers ----

  // Appends a node; needs_grad is usually "any input needs a gradient". push() may move the nodes
  // (the vector grows on the first step): take references to values only after pushing.
  int push(const char* op, typename Node<T>::Backward backward, bool needs_grad) {
    if (used_ == static_cast<int>(nodes_.size())) nodes_.emplace_back();
    Node<T>& n = nodes_[used_];
    n.external = nullptr;
    n.parameter = nullptr;
    n.input = {-1, -1, -1};
    n.scalar = {};
    n.code = 0;
    n.backward = backward;
    n.op = op;
    n.needs_grad = needs_grad;
    n.grad_live = false;
    return used_++;
  }

  Node<T>& node(int id) { return nodes_[id]; }
  const Node<T>& node(int id) const { return nodes_[id]; }
  const Matrix<T>& value(int id) const {
    const Node<T>& n = nodes_[id];
    return n.external ? *n.external : n.value;
  }
  bool needs_grad(int id) const { return nodes_[id].needs_grad; }

  const Matrix<T>& grad(int id) {
    Node<T>& n = nodes_[id];
    if (n.parameter) return n.parameter->grad;
    if (!n.grad_live) {
      const Matrix<T>& v = value(id);
      n.grad.setZero(v.rows(), v.cols());
      n.grad_live = true;
    }
    return n.grad;
  }

  // The matrix a backward function writes node `id`'s gradient into. `add` tells whether it
  // already holds a gradient (then add to it) or not (then assign; it has the right size).
  Matrix<T>& grad_target(int id, bool& add) {
    Node<T>& n = nodes_[id];
    if (n.parameter) {
      add = true;
      return n.parameter->grad;
    }
    add = n.grad_live;
    if (!add) {
      const Matrix<T>& v = value(id);
      n.grad.resize(v.rows(), v.cols());
      n.grad_live = true;
    }
    return n.grad;
  }

  // Adds an Eigen expression to node `id`'s gradient (assigns on the first write).
  template <class Expr>
  void add_grad(int id, const Expr& e) {
    if (!needs_grad(id)) return;
    bool add = false;
    Matrix<T>& g = grad_target(id, add);
    if (add)
      g.noalias() += e;
    else
      g.noalias() = e;
  }

 private:
  Var<T> leaf(const Matrix<T>* x, bool needs_grad, const char* op) {
    const int id = push(op, nullptr, needs_grad);
    nodes_[id].external = x;
    return {this, id};
  }

  std::vector<Node<T>> nodes_;
  int used_ = 0;
};

// Checks that two handles live on the same tape and returns it.
template <class T>
Tape<T>& same_tape(const Var<T>& a, const Var<T>& b, const char* op) {
  require(a.valid() && b.valid(), op, ": an operand is an empty Var");
  require(&a.tape() == &b.tape(), op, ": operands belong to different tapes");
  return a.tape();
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE class Tape<float>;
AGNOSTIC_INSTANCE class Tape<double>;
#endif

}  // namespace agnostic
