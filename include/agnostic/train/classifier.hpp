#pragma once
// ClassifierScheme<T>: the common case for trainer.hpp — a Sequential that outputs LOGITS, one
// optimiser, weighted cross-entropy. One output column: binary cross-entropy (labels 0/1); C >= 2
// columns: categorical cross-entropy over C classes. Figures per epoch: loss, weighted accuracy
// and, for two classes, the weighted ROC AUC (stats/roc.hpp) on the validation set, and (if
// asked) accuracy and AUC on the training set after the epoch. With a DecorrelationTerm
// (set_decorrelation, train/decorrelation.hpp) the loss gains lambda * penalty(score, variable), the
// step reports "cross_entropy" and "decorrelation_penalty", and the epoch the term's figures.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/losses/binary_cross_entropy.hpp"
#include "agnostic/losses/categorical_cross_entropy.hpp"
#include "agnostic/nn/evaluate_in_chunks.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/optim/optimiser.hpp"
#include "agnostic/stats/roc.hpp"
#include "agnostic/train/batches.hpp"
#include "agnostic/train/dataset.hpp"
#include "agnostic/train/decorrelation.hpp"
#include "agnostic/train/scheme.hpp"

namespace agnostic::train {

struct ClassifierOptions {
  Index batch_size = 256;
  bool training_metrics = true;  // accuracy/AUC on the training set after each epoch (one forward pass)
  Index evaluation_chunk = kEvaluationChunk;  // events per forward pass when evaluating
};

// Weighted loss, accuracy and AUC of a classifier's logits on a data set.
struct ClassifierFigures {
  double loss = 0.0, accuracy = 0.0, auc = std::nan("");
};

template <class T>
class ClassifierScheme : public TrainingScheme<T> {
 public:
  // Keep model, optimiser and the data sets alive while the scheme is used; validation may be null.
  ClassifierScheme(Sequential<T>& model, Optimiser<T>& optimiser, const Dataset<T>& train,
                   const Dataset<T>* validation, ClassifierOptions options = {})
      : model_(&model),
        optimiser_(&optimiser),
        train_(&train),
        validation_(validation && validation->rows() > 0 ? validation : nullptr),
        options_(options),
        sampler_(train.rows(), options.batch_size) {
    const Index outputs = model.output_size();
    require(outputs >= 1, "ClassifierScheme: the model has no outputs");
    check_data(train, "training set");
    if (validation_) check_data(*validation_, "validation set");
    require(options.evaluation_chunk >= 1, "ClassifierScheme: evaluation_chunk is ", options.evaluation_chunk,
            "; must be >= 1");
  }

  // Adds `term`'s decorrelation penalty to every step's loss and its figures to every epoch's (null:
  // none). Keep the term alive while the scheme is used.
  void set_decorrelation(DecorrelationTerm<T>* term) { decorrelation_ = term; }

  ParameterGroup<T> parameters() override { return model_->parameters(); }
  std::vector<Optimiser<T>*> optimisers() override { return {optimiser_}; }
  void start_epoch(Index epoch, Rng& rng) override {
    sampler_.start_epoch(rng);
    if (decorrelation_) decorrelation_->start_epoch(epoch, sampler_.batches());
  }
  Index batches() const override { return sampler_.batches(); }

  StepResult step(Index b) override {
    gather(*train_, sampler_.batch(b), batch_);
    tape_.clear();
    const Var<T> logits = (*model_)(tape_, tape_.input(batch_.features));
    Var<T> loss = loss_of(logits, batch_.labels, batch_.weights, targets_);
    StepResult r;
    if (decorrelation_) {
      r.parts["cross_entropy"] = static_cast<double>(loss.item());
      loss = decorrelation_->add_penalty(loss, logits, batch_, b, r);
    }
    r.loss = static_cast<double>(loss.item());
    r.events = static_cast<double>(batch_.size());
    if (!std::isfinite(r.loss)) {  // the trainer's guard takes over; nothing was changed
      optimiser_->skip_step();
      return r;
    }
    tape_.backward(loss);
    if (!optimiser_->try_step()) r.loss = std::nan("");  // a non-finite gradient: the same way
    return r;
  }

  Figures evaluate() override {
    Figures f;
    if (validation_) {
      const ClassifierFigures v = figures(*validation_);
      f["validation_loss"] = v.loss;
      f["validation_accuracy"] = v.accuracy;
      if (!std::isnan(v.auc)) f["validation_auc"] = v.auc;
    }
    if (options_.training_metrics) {
      const ClassifierFigures t = figures(*train_);
      f["train_accuracy"] = t.accuracy;
      if (!std::isnan(t.auc)) f["train_auc"] = t.auc;
    }
    if (decorrelation_) decorrelation_->add_figures(f, *model_);
    return f;
  }

  // Loss, accuracy and (two classes) AUC of the model on `data`, in chunks of evaluation_chunk.
  ClassifierFigures figures(const Dataset<T>& data) {
    const Index n = data.rows(), outputs = model_->output_size();
    ClassifierFigures out;
    if (n == 0) return out;
    Vector<double> score(n);
    double loss_sum = 0.0, weight_sum = 0.0, correct = 0.0;
    std::vector<Index> rows;
    auto input = [&](Index begin, Index end) -> const Matrix<T>& {
      rows.resize(static_cast<std::size_t>(end - begin));
      for (Index i = begin; i < end; ++i) rows[static_cast<std::size_t>(i - begin)] = i;
      gather(data, rows, eval_batch_);
      return eval_batch_.features;
    };
    auto network = [&](Tape<T>& tape, Var<T> x) { return (*model_)(tape, x); };
    evaluate_in_chunks(
        eval_tape_, n, options_.evaluation_chunk, input, network, [&](Index begin, Var<T> logits) {
          const Var<T> loss = loss_of(logits, eval_batch_.labels, eval_batch_.weights, eval_targets_);
          // Each chunk's loss is a weighted mean: recombine with the chunk's weight sum.
          const double w_chunk = eval_batch_.weights.template cast<double>().sum();
          loss_sum += static_cast<double>(loss.item()) * w_chunk;
          weight_sum += w_chunk;
          const Matrix<T>& z = logits.value();
          for (Index k = 0; k < z.rows(); ++k) {
            Index predicted = 0;
            if (outputs == 1) {
              predicted = z(k, 0) > T(0) ? 1 : 0;
              score(begin + k) = static_cast<double>(z(k, 0));
            } else {
              z.row(k).maxCoeff(&predicted);
              score(begin + k) =
                  static_cast<double>(z(k, std::min<Index>(1, outputs - 1))) - static_cast<double>(z(k, 0));
            }
            if (predicted == eval_batch_.labels[static_cast<std::size_t>(k)])
              correct += static_cast<double>(eval_batch_.weights(k));
          }
        });
    out.loss = weight_sum != 0.0 ? loss_sum / weight_sum : 0.0;
    out.accuracy = weight_sum != 0.0 ? correct / weight_sum : 0.0;
    if (data.classes == 2) {
      double signal = 0.0, background = 0.0;
      Vector<double> labels(n);
      for (Index i = 0; i < n; ++i) {
        labels(i) = static_cast<double>(data.labels[static_cast<std::size_t>(i)]);
        (labels(i) == 1.0 ? signal : background) += static_cast<double>(data.weights(i));
      }
      if (signal > 0.0 && background > 0.0 && score.allFinite())
        out.auc = stats::roc_auc(score, labels, data.weights.template cast<double>());
    }
    return out;
  }

 private:
  void check_data(const Dataset<T>& data, const char* what) const {
    const Index outputs = model_->output_size();
    require(model_->input_size() == 0 || data.cols() == model_->input_size(), "ClassifierScheme: the ", what,
            " has ", data.cols(), " features but the model takes ", model_->input_size());
    const Index max_classes = outputs == 1 ? 2 : outputs;
    require(data.classes <= max_classes, "ClassifierScheme: the ", what, " has ", data.classes,
            " classes but the model has ", outputs, " output",
            outputs == 1 ? " (binary: labels 0 and 1)" : "s",
            "; one logit per class (or a single logit for two classes) expected");
  }

  Var<T> loss_of(Var<T> logits, const std::vector<Index>& labels, const Vector<T>& weights,
                 Vector<T>& targets) {
    if (logits.cols() == 1) {
      targets.resize(static_cast<Index>(labels.size()));
      for (std::size_t i = 0; i < labels.size(); ++i)
        targets(static_cast<Index>(i)) = static_cast<T>(labels[i]);
      return binary_cross_entropy(logits, targets, weights);
    }
    return categorical_cross_entropy(logits, labels, weights);
  }

  Sequential<T>* model_;
  Optimiser<T>* optimiser_;
  const Dataset<T>* train_;
  const Dataset<T>* validation_;
  ClassifierOptions options_;
  BatchSampler sampler_;
  Tape<T> tape_, eval_tape_;
  Batch<T> batch_, eval_batch_;
  Vector<T> targets_, eval_targets_;
  DecorrelationTerm<T>* decorrelation_ = nullptr;
};

}  // namespace agnostic::train
