#pragma once
// DannScheme<T>: domain-adversarial training (Clavijo et al., arXiv:2005.00568, sec. 2-4) as a TrainingScheme
// for trainer.hpp.
//
//   classifier = F + Y: a Sequential whose last hidden layer is the representation h (F is every
//                layer but the last, the label head Y is the output layer), outputting logits;
//   domain     = D: a Sequential reading h through a gradient-reversal node.
//
// Every step draws a batch that mixes source and target events in a set proportion
// (MixedBatchSampler; the source rows come first) and minimises
//   L = L_label(Y(F(x)), source events only) + L_domain(D(R_lambda(F(x))), all events)
// where R_lambda is the identity forward and multiplies the gradient by -lambda backward, so D
// learns to tell the domains apart while F is pushed to make them indistinguishable (Clavijo et al. eq. 4.2).
//
// The gate: the label loss is computed with the label 0 and weight 0 for every target event, so a
// target event's label is never read; scrambling the target labels leaves training bit-identical.
//
// Set-up A: D ends in two logits (0 = source, 1 = target) and L_domain is the softmax cross-entropy.
// Set-up B: D ends in one linear output y and L_domain = sum w (-y on source, +y on target) / sum w
// (Clavijo et al. eq. 4.4, losses/linear_domain_loss.hpp); its gradient does not depend on y.
//
// Domain weights (Clavijo et al. sec. 2): with a target signal fraction f, the source events are weighted in
// the domain loss so that their signal (class 1) fraction is f, the other classes sharing 1 - f in
// their own proportions, the source total unchanged (event_weights.hpp, match_class_fractions).
// Otherwise D could tell the domains apart by their composition alone. Target events keep their
// weights. Without f the domain loss uses the data set's weights as they are.
//
// lambda follows a StrengthSchedule over the planned epochs: epoch e of E trains with
// lambda(p = (e - 1) / E), constant within the epoch.
//
// Per-epoch figures (evaluate): validation_loss (label loss of the source validation events: what
// early stopping watches), validation_auc (source), lambda, domain_accuracy (D's weighted accuracy
// on the validation events of both domains; set-up B calls "source" an output above the midpoint
// of the two domains' mean outputs), ks_source_target (weighted K-S distance between the
// classifier's class-1 probability on source and on target validation events, with the domain
// weights, so a difference of composition alone does not count). Without validation events the
// last three are computed on the training events. The steps add train_label_loss and
// train_domain_loss; train_loss is their sum.
#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "agnostic/autodiff/arithmetic.hpp"
#include "agnostic/autodiff/gradient_reversal.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/losses/binary_cross_entropy.hpp"
#include "agnostic/losses/categorical_cross_entropy.hpp"
#include "agnostic/losses/linear_domain_loss.hpp"
#include "agnostic/nn/evaluate_in_chunks.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/optim/optimiser.hpp"
#include "agnostic/stats/ks.hpp"
#include "agnostic/stats/roc.hpp"
#include "agnostic/train/batches.hpp"
#include "agnostic/train/dataset.hpp"
#include "agnostic/train/event_weights.hpp"
#include "agnostic/train/scheme.hpp"
#include "agnostic/train/strength_schedule.hpp"

namespace agnostic::adversarial {

using train::Batch;
using train::Dataset;
using train::Figures;
using train::StepResult;

enum class DannSetup { A, B };

struct DannOptions {
  Index source_domain = 0;
  Index target_domain = 1;
  StrengthSchedule lambda{StrengthShape::ganin, 1.0};
  Index epochs = 1;  // the planned number of epochs: lambda's p = steps done / (epochs x batches)
  DannSetup setup = DannSetup::A;
  Index batch_size = 256;                        // events of both domains per batch
  double target_fraction_in_batch = 0.5;         // share of target events in each batch
  std::optional<double> target_signal_fraction;  // set: "match_target" domain weights; unset: "none"
  Index evaluation_chunk = kEvaluationChunk;     // events per forward pass when evaluating
};

// The domain-loss weight of every event of `data`: the source domain's classes rescaled so that
// class 1 has the fraction `target_signal_fraction` (the other classes share the rest in their
// source proportions; the source total is kept), other events keep their weights. Without a
// fraction the weights are returned as they are. Only the source events' labels are read.
template <class T>
Vector<T> dann_domain_weights(const Dataset<T>& data, Index source_domain,
                              std::optional<double> target_signal_fraction) {
  if (!target_signal_fraction) return data.weights;
  const double f = *target_signal_fraction;
  require(f > 0.0 && f < 1.0, "dann_domain_weights: the target signal fraction is ", f,
          "; expected a number in (0, 1)");
  require(data.has_domains(), "dann_domain_weights: the data set has no domain column");
  require(data.classes >= 2, "dann_domain_weights: the data set has ", data.classes,
          " class(es); the signal is class 1, so two or more are needed");
  const std::vector<double> sums =
      train::class_weight_sums(data.labels, data.weights, data.classes, &data.domains, source_domain);
  double background = 0.0;
  for (std::size_t c = 0; c < sums.size(); ++c)
    if (c != 1) background += sums[c];
  require(sums[1] > 0.0 && background > 0.0, "dann_domain_weights: the source domain (", source_domain,
          ") has signal weight ", sums[1], " and background weight ", background,
          "; both must be positive to match the target's signal fraction");
  std::vector<double> fractions(sums.size());
  for (std::size_t c = 0; c < sums.size(); ++c) fractions[c] = c == 1 ? f : (1.0 - f) * sums[c] / background;
  return train::match_class_fractions(data.labels, data.weights, data.domains, source_domain, fractions);
}

// What one step did, before the trainer's bookkeeping (StepResult).
struct DannStepLosses {
  double label_loss = 0.0, domain_loss = 0.0, events = 0.0;
  double total() const { return label_loss + domain_loss; }
};

template <class T>
class DannScheme : public train::TrainingScheme<T> {
 public:
  // Keep the networks, the optimiser (over the parameters of both networks) and the data sets
  // alive while the scheme is used. `train` (and `validation`, which may be null or empty) must
  // have domains; a target event's label is never read.
  DannScheme(Sequential<T>& classifier, Sequential<T>& domain, Optimiser<T>& optimiser,
             const Dataset<T>& train, const Dataset<T>* validation, DannOptions options = {})
      : classifier_(&classifier),
        domain_(&domain),
        optimiser_(&optimiser),
        train_(&train),
        validation_(validation && validation->rows() > 0 ? validation : nullptr),
        options_(options) {
    require(classifier.size() >= 2, "DannScheme: the classifier has ", classifier.size(),
            " layer(s); it needs at least one hidden layer (the representation both heads read) before "
            "its output layer");
    tap_ = classifier.size() - 2;
    const Index width = classifier.layer(tap_).output_size();
    require(domain.input_size() == width, "DannScheme: the domain head takes ", domain.input_size(),
            " inputs but the classifier's last hidden layer gives ", width);
    const Index domain_outputs = options.setup == DannSetup::A ? 2 : 1;
    require(domain.output_size() == domain_outputs, "DannScheme: the domain head has ", domain.output_size(),
            " output(s); set-up ",
            options.setup == DannSetup::A ? "A needs 2 logits" : "B needs 1 linear output");
    require(options.source_domain != options.target_domain, "DannScheme: source and target domain are both ",
            options.source_domain);
    require(options.target_fraction_in_batch > 0.0 && options.target_fraction_in_batch < 1.0,
            "DannScheme: target_fraction_in_batch is ", options.target_fraction_in_batch,
            "; expected a number in (0, 1)");
    require(options.epochs >= 1, "DannScheme: epochs is ", options.epochs, "; must be >= 1");
    require(options.evaluation_chunk >= 1, "DannScheme: evaluation_chunk must be >= 1");
    check_data(train, "training set");
    if (validation_) check_data(*validation_, "validation set");
    sampler_ = train::MixedBatchSampler::by_domain(train, options.source_domain, options.target_domain,
                                                   options.batch_size, 1.0 - options.target_fraction_in_batch,
                                                   options.target_fraction_in_batch);
    Index sources = 0;
    for (Index d : train.domains) sources += d == options.source_domain ? 1 : 0;
    batches_ = (sources + sampler_.first_per_batch() - 1) / sampler_.first_per_batch();
    domain_weights_ = dann_domain_weights(train, options.source_domain, options.target_signal_fraction);
    if (validation_)
      validation_domain_weights_ =
          dann_domain_weights(*validation_, options.source_domain, options.target_signal_fraction);
    lambda_ = options.lambda.at(0.0);
  }

  ParameterGroup<T> parameters() override {
    ParameterGroup<T> group("dann");
    group.add(classifier_->parameters());
    group.add(domain_->parameters());
    return group;
  }
  std::vector<Optimiser<T>*> optimisers() override { return {optimiser_}; }
  void start_epoch(Index epoch, Rng& rng) override {
    sampler_.start_epoch(rng);
    epoch_ = epoch;
  }
  // One pass over the source events (the target events are cycled).
  Index batches() const override { return batches_; }

  StepResult step(Index b) override {
    const DannStepLosses s = train_step(b);
    StepResult r;
    r.loss = s.total();
    r.events = s.events;
    r.parts["label_loss"] = s.label_loss;
    r.parts["domain_loss"] = s.domain_loss;
    return r;
  }

  // The step itself (what step() runs): allocates nothing once warm. A non-finite loss or
  // gradient changes nothing and returns NaN for the trainer's guard.
  DannStepLosses train_step(Index b) {
    lambda_ = options_.lambda.at_step(epoch_, b, batches_, options_.epochs);
    train::gather(*train_, sampler_.batch(b), batch_);
    const Index n = batch_.size();
    const auto un = static_cast<std::size_t>(n);
    label_index_.resize(un);
    label_value_.resize(n);
    label_weight_.resize(n);
    is_source_.resize(un);
    domain_class_.resize(un);
    domain_weight_.resize(n);
    for (std::size_t k = 0; k < un; ++k) {
      const Index i = static_cast<Index>(k);
      const bool source = batch_.domains[k] == options_.source_domain;
      const Index label = source ? batch_.labels[k] : 0;  // the gate: a target label is never read
      label_index_[k] = static_cast<int>(label);
      label_value_(i) = static_cast<T>(label);
      label_weight_(i) = source ? batch_.weights(i) : T(0);
      is_source_[k] = source ? 1 : 0;
      domain_class_[k] = source ? 0 : 1;
      domain_weight_(i) = domain_weights_(batch_.rows[k]);
    }
    tape_.clear();
    auto [logits, representation] = classifier_->forward_tapped(tape_, tape_.input(batch_.features), tap_);
    const Var<T> label_loss = logits.cols() == 1
                                  ? binary_cross_entropy(logits, label_value_, label_weight_)
                                  : categorical_cross_entropy(logits, label_index_, label_weight_);
    const Var<T> d = (*domain_)(tape_, reverse_gradient(representation, lambda_));
    const Var<T> domain_loss = options_.setup == DannSetup::A
                                   ? categorical_cross_entropy(d, domain_class_, domain_weight_)
                                   : linear_domain_loss(d, is_source_, domain_weight_);
    const Var<T> total = label_loss + domain_loss;
    DannStepLosses s;
    s.label_loss = static_cast<double>(label_loss.item());
    s.domain_loss = static_cast<double>(domain_loss.item());
    s.events = static_cast<double>(n);
    if (!std::isfinite(s.total())) {  // the trainer's guard takes over; nothing was changed
      optimiser_->skip_step();
      return s;
    }
    tape_.backward(total);
    if (!optimiser_->try_step()) s.label_loss = std::nan("");
    return s;
  }

  Figures evaluate() override {
    Figures f;
    f["lambda"] = lambda_;
    const Dataset<T>& data = validation_ ? *validation_ : *train_;
    const Vector<T>& dw = validation_ ? validation_domain_weights_ : domain_weights_;
    const Evaluation e = evaluation(data, dw);
    if (validation_) {
      f["validation_loss"] = e.label_loss;
      if (!std::isnan(e.auc)) f["validation_auc"] = e.auc;
    }
    f["domain_accuracy"] = e.domain_accuracy;
    if (!std::isnan(e.ks)) f["ks_source_target"] = e.ks;
    return f;
  }

  // The per-event figures of a data set (with its domain weights).
  struct Evaluation {
    double label_loss = 0.0, auc = std::nan(""), domain_accuracy = 0.0, ks = std::nan("");
    std::vector<double> probability;  // the classifier's class-1 probability per event
  };
  Evaluation evaluation(const Dataset<T>& data, const Vector<T>& domain_weights) {
    const Index n = data.rows(), outputs = classifier_->output_size();
    Evaluation e;
    e.probability.assign(static_cast<std::size_t>(n), 0.0);
    std::vector<double> domain_output(static_cast<std::size_t>(n), 0.0);
    std::vector<Index> rows;
    double loss_sum = 0.0, loss_weight = 0.0;
    auto input = [&](Index begin, Index end) -> const Matrix<T>& {
      rows.resize(static_cast<std::size_t>(end - begin));
      for (Index i = begin; i < end; ++i) rows[static_cast<std::size_t>(i - begin)] = i;
      train::gather(data, rows, eval_batch_);
      return eval_batch_.features;
    };
    // The label head's logits and the domain head's outputs.
    auto network = [&](Tape<T>& tape, Var<T> x) {
      auto [logits, representation] = classifier_->forward_tapped(tape, x, tap_);
      return std::pair<Var<T>, Var<T>>(logits, (*domain_)(tape, representation));
    };
    evaluate_in_chunks(
        eval_tape_, n, options_.evaluation_chunk, input, network, [&](Index begin, auto heads) {
          const Matrix<T>& z = heads.first.value();
          const Matrix<T>& dz = heads.second.value();
          for (Index k = 0; k < z.rows(); ++k) {
            const Index i = begin + k;
            const auto ui = static_cast<std::size_t>(i);
            // Label loss and class-1 probability in double, from the logits.
            double loss = 0.0, p1 = 0.0;
            if (outputs == 1) {
              const double x = static_cast<double>(z(k, 0));
              const double y = static_cast<double>(data.labels[ui]);
              loss = std::max(x, 0.0) - x * y + std::log1p(std::exp(-std::abs(x)));
              p1 = 1.0 / (1.0 + std::exp(-x));
            } else {
              const double m = static_cast<double>(z.row(k).maxCoeff());
              double total = 0.0;
              for (Index c = 0; c < outputs; ++c) total += std::exp(static_cast<double>(z(k, c)) - m);
              loss = m + std::log(total) - static_cast<double>(z(k, data.labels[ui]));
              p1 = std::exp(static_cast<double>(z(k, 1)) - m) / total;
            }
            e.probability[ui] = p1;
            if (data.domains[ui] == options_.source_domain) {
              loss_sum += static_cast<double>(data.weights(i)) * loss;
              loss_weight += static_cast<double>(data.weights(i));
            }
            domain_output[ui] = options_.setup == DannSetup::A
                                    ? static_cast<double>(dz(k, 1)) - static_cast<double>(dz(k, 0))
                                    : -static_cast<double>(dz(k, 0));  // both: larger = more target-like
          }
        });
    e.label_loss = loss_weight != 0.0 ? loss_sum / loss_weight : 0.0;

    // Source AUC; domain accuracy; K-S between the domains' class-1 probabilities.
    std::vector<double> ps, ys, ws, src_p, src_w, tgt_p, tgt_w;
    double src_out = 0.0, src_wsum = 0.0, tgt_out = 0.0, tgt_wsum = 0.0;
    for (Index i = 0; i < n; ++i) {
      const auto ui = static_cast<std::size_t>(i);
      const double w = static_cast<double>(domain_weights(i));
      if (data.domains[ui] == options_.source_domain) {
        ps.push_back(e.probability[ui]);
        ys.push_back(data.labels[ui] == 1 ? 1.0 : 0.0);
        ws.push_back(static_cast<double>(data.weights(i)));
        src_p.push_back(e.probability[ui]);
        src_w.push_back(w);
        src_out += w * domain_output[ui];
        src_wsum += w;
      } else if (data.domains[ui] == options_.target_domain) {
        tgt_p.push_back(e.probability[ui]);
        tgt_w.push_back(w);
        tgt_out += w * domain_output[ui];
        tgt_wsum += w;
      }
    }
    double signal = 0.0, background = 0.0;
    for (std::size_t k = 0; k < ys.size(); ++k) (ys[k] == 1.0 ? signal : background) += ws[k];
    if (signal > 0.0 && background > 0.0)
      e.auc = stats::roc_auc(Eigen::Map<const Vector<double>>(ps.data(), static_cast<Index>(ps.size())),
                             Eigen::Map<const Vector<double>>(ys.data(), static_cast<Index>(ys.size())),
                             Eigen::Map<const Vector<double>>(ws.data(), static_cast<Index>(ws.size())));
    // Set-up A: the logit difference decides (> 0: target); set-up B: the midpoint of the means.
    const double threshold = options_.setup == DannSetup::A || src_wsum == 0.0 || tgt_wsum == 0.0
                                 ? 0.0
                                 : 0.5 * (src_out / src_wsum + tgt_out / tgt_wsum);
    double correct = 0.0, total = 0.0;
    for (Index i = 0; i < n; ++i) {
      const auto ui = static_cast<std::size_t>(i);
      const bool source = data.domains[ui] == options_.source_domain;
      if (!source && data.domains[ui] != options_.target_domain) continue;
      const double w = static_cast<double>(domain_weights(i));
      total += w;
      if ((domain_output[ui] > threshold) != source) correct += w;
    }
    e.domain_accuracy = total != 0.0 ? correct / total : 0.0;
    if (src_wsum > 0.0 && tgt_wsum > 0.0)
      e.ks = stats::ks_test(Eigen::Map<const Vector<double>>(src_p.data(), static_cast<Index>(src_p.size())),
                            Eigen::Map<const Vector<double>>(tgt_p.data(), static_cast<Index>(tgt_p.size())),
                            Eigen::Map<const Vector<double>>(src_w.data(), static_cast<Index>(src_w.size())),
                            Eigen::Map<const Vector<double>>(tgt_w.data(), static_cast<Index>(tgt_w.size())),
                            stats::KsMethod::asymptotic)
                 .statistic;
    return e;
  }

  double lambda() const { return lambda_; }
  const Vector<T>& domain_weights() const { return domain_weights_; }
  const train::MixedBatchSampler& sampler() const { return sampler_; }
  std::size_t representation_layer() const { return tap_; }

 private:
  void check_data(const Dataset<T>& data, const char* what) const {
    require(data.has_domains(), "DannScheme: the ", what, " has no domains; DANN needs each event's domain");
    require(data.cols() == classifier_->input_size(), "DannScheme: the ", what, " has ", data.cols(),
            " features but the classifier takes ", classifier_->input_size());
    const Index outputs = classifier_->output_size();
    require(outputs == 1 ? data.classes <= 2 : data.classes <= outputs, "DannScheme: the ", what, " has ",
            data.classes, " classes but the classifier has ", outputs, " output(s)");
  }

  Sequential<T>* classifier_;
  Sequential<T>* domain_;
  Optimiser<T>* optimiser_;
  const Dataset<T>* train_;
  const Dataset<T>* validation_;
  DannOptions options_;
  std::size_t tap_ = 0;
  train::MixedBatchSampler sampler_;
  Index batches_ = 0;
  double lambda_ = 0.0;  // of the latest step (per step: StrengthSchedule::at_step)
  Index epoch_ = 1;
  Vector<T> domain_weights_, validation_domain_weights_;
  Tape<T> tape_, eval_tape_;
  Batch<T> batch_, eval_batch_;
  std::vector<int> label_index_, is_source_, domain_class_;
  Vector<T> label_value_, label_weight_, domain_weight_;
};

}  // namespace agnostic::adversarial
