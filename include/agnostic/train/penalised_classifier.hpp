#pragma once
// PenalisedClassifierScheme<T>: a classifier trained on Wunsch et al.'s (arXiv:1907.11674) loss
//   L = L' + sum_l lambda_l (Lambda_l,up + Lambda_l,down),
// with Lambda (Wunsch et al. eq. 2, losses/soft_histogram_penalty.hpp) comparing soft histograms
// (autodiff/soft_histogram.hpp) of one score per event in the "soft_histogram" bins:
//   - binary (one logit): L' the weighted binary cross-entropy, the score s = sigmoid(logit);
//   - C classes (one logit per class, softmax): L' the weighted categorical cross-entropy, the
//     score s = softmax(logits)_K, the probability of the score class K (options.score_class;
//     "soft_histogram.score_class", default the last class C - 1). The histograms of every class
//     the systematic applies to are of that same score, exactly as in the binary case.
//
// Which events enter which histogram, within one batch:
//   - for each class c that systematic l applies to ("classes", default all), the NOMINAL histogram
//     N_c holds the batch's events of class c, each with its training weight w_i (data.weight,
//     balance_classes) at its nominal score s_i;
//   - the VARIED histogram V_c,up holds the same events: with weight w_i * f_i,up at the nominal
//     score s_i (a "weights" systematic), or with weight w_i at the score of its shifted inputs
//     s_i,up (a "shift" systematic); likewise for down;
//   - Lambda_l,up = sum over those classes c of Lambda(N_c, V_c,up).
// Events of other classes do not enter (they are given weight 0 in the class's histograms).
//
// Which bins enter Lambda: those whose nominal soft count N_k holds at least min_count events
// ("soft_histogram.min_count", default 1; counted in units of the class's mean training weight in
// the batch). Wunsch et al. eq. 2 divides by N_k in every bin; taken literally, the nearly empty bins far
// from every event, filled only by Gaussian tails of ~exp(-40), dominate Lambda: their relative
// change under a variation is (s - c_k) delta / h_k^2 for a score change delta, hundreds of times
// that of a populated bin, so the penalty's cheapest way down is to squeeze every score into one
// bin, and on Wunsch et al.'s toy the network ends anti-correlated (validation AUC 0.35-0.45 at lambda 5, in
// agnostic and in the PyTorch reference examples/systematics/toy_reference.py alike). With
// min_count 1 both give AUC 0.77 (docs/systematics.md). min_count 0 is the literal eq. 2 (bins
// with |N_k| <= 1e-6 are still skipped).
//
// Per epoch, into history.json and the progress line (besides ClassifierScheme's figures; for a
// softmax network "validation_auc" is the weighted one-vs-rest ROC AUC of the score: class K
// against every other class, so the checks below read it as for a binary classifier):
//   train_cross_entropy                L' averaged over the epoch's batches
//   train_penalty_<name>_up / _down    Lambda per systematic, averaged the same way
//   train_noise_floor_<name>_up/_down  what Lambda is from the batch's sampling noise alone: the
//                                      variance of the batch's estimates of (N_k - V_k) / N_k over
//                                      the bins that enter Lambda (noise_floor() below). For a
//                                      weights systematic: (1/K) sum_k sum_i (w_i G_k(s_i))^2
//                                      (f_i - fbar_k)^2 / N_k^2; for a shift, the same with each
//                                      event's own change of its bin contribution.
//   shape_difference_<name>_up/_down   on the validation part: the total-variation distance
//                                      (1/2) sum_k |p_k - q_k| between the normalised HARD histograms of
//                                      the score, nominal vs varied (largest over the classes)
//   low_count_batches                  batches with a nominal soft bin count below 1 event (then a
//                                      warning; such bins are left out of Lambda when min_count >= 1)
//   noise_floor_failure                1 when the validation AUC is below 0.5 while the penalty of a
//                                      systematic with lambda > 0 (either kind) is within twice its
//                                      noise floor (both 0 included): the penalty has nothing left
//                                      but noise to remove and the network has turned its output
//                                      around (a warning says what to do: larger batches or a
//                                      smaller lambda, docs/systematics.md).
//   anti_correlated                    1 when the validation AUC is below 0.5, whatever the cause (a
//                                      warning; with noise_floor_failure 0 it is the collapse of the
//                                      scores into one bin, not the noise floor).
// With a DecorrelationTerm (set_decorrelation) the loss also gains lambda * penalty(score, variable)
// and the epoch the term's figures (train/decorrelation.hpp).
#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "agnostic/autodiff/dense.hpp"
#include "agnostic/autodiff/elementwise.hpp"
#include "agnostic/autodiff/soft_histogram.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/batch_shard.hpp"
#include "agnostic/losses/binary_cross_entropy.hpp"
#include "agnostic/losses/categorical_cross_entropy.hpp"
#include "agnostic/losses/soft_histogram_penalty.hpp"
#include "agnostic/nn/evaluate_in_chunks.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/optim/optimiser.hpp"
#include "agnostic/stats/roc.hpp"
#include "agnostic/train/batches.hpp"
#include "agnostic/train/classifier.hpp"
#include "agnostic/train/dataset.hpp"
#include "agnostic/train/run_workspace.hpp"
#include "agnostic/train/scheme.hpp"
#include "agnostic/train/systematics.hpp"

namespace agnostic::train {

// The sigmoid scores of a one-logit network on standardised `features`, in chunks.
template <class T>
Vector<double> sigmoid_scores(Sequential<T>& net, const Matrix<T>& features, Index chunk = kEvaluationChunk) {
  Vector<double> out(features.rows());
  evaluate_in_chunks(net, features, chunk, [&](Index begin, const Matrix<T>& z) {
    for (Index k = 0; k < z.rows(); ++k)
      out(begin + k) = 1.0 / (1.0 + std::exp(-static_cast<double>(z(k, 0))));
  });
  return out;
}

// The histogrammed score of a classifier on standardised `features`: the sigmoid of a one-logit
// network (sigmoid_scores), or the softmax probability of class `score_class` of a network with one
// logit per class, computed in double from the logits.
template <class T>
Vector<double> class_scores(Sequential<T>& net, const Matrix<T>& features, Index score_class,
                            Index chunk = kEvaluationChunk) {
  if (net.output_size() == 1) return sigmoid_scores(net, features, chunk);
  require(score_class >= 0 && score_class < net.output_size(), "class_scores: class ", score_class,
          " of a network with ", net.output_size(), " outputs");
  Vector<double> out(features.rows());
  evaluate_in_chunks(net, features, chunk, [&](Index begin, const Matrix<T>& logits) {
    const Matrix<double> z = logits.template cast<double>();
    for (Index k = 0; k < z.rows(); ++k) {
      const double top = z.row(k).maxCoeff();
      const double total = (z.row(k).array() - top).exp().sum();
      out(begin + k) = std::exp(z(k, score_class) - top) / total;
    }
  });
  return out;
}

// Total-variation distance between the normalised histograms of two weightings / binnings.
inline double total_variation(const std::vector<double>& a, const std::vector<double>& b) {
  double ta = 0.0, tb = 0.0, d = 0.0;
  for (double x : a) ta += x;
  for (double x : b) tb += x;
  if (!(ta > 0.0) || !(tb > 0.0)) return 0.0;
  for (std::size_t k = 0; k < a.size(); ++k) d += std::abs(a[k] / ta - b[k] / tb);
  return 0.5 * d;
}

struct PenalisedOptions {
  Index batch_size = 256;
  double min_count =
      1.0;  // a nominal bin enters Lambda with >= min_count x mean weight (soft_histogram.min_count)
  std::ostream* out = nullptr;  // warnings (null: none)
  // A network with one logit per class: the class whose softmax probability is histogrammed (-1:
  // the last). A one-logit network histograms the probability of class 1: -1 or 1 only.
  Index score_class = -1;
};

template <class T>
class PenalisedClassifierScheme : public TrainingScheme<T> {
 public:
  // Keep everything alive while the scheme is used. `variations` must be built on the same
  // PreparedData as `train` and `validation` (validation may be null).
  PenalisedClassifierScheme(Sequential<T>& model, Optimiser<T>& optimiser, const Dataset<T>& train,
                            const Dataset<T>* validation, const SystematicVariations<T>& variations,
                            SoftHistogram histogram, PenalisedOptions options = {})
      : model_(&model),
        optimiser_(&optimiser),
        train_(&train),
        validation_(validation && validation->rows() > 0 ? validation : nullptr),
        variations_(&variations),
        histogram_(std::move(histogram)),
        options_(options),
        sampler_(train.rows(), options.batch_size),
        figures_(model, optimiser, train, validation_, {.batch_size = options.batch_size}) {
    for (const Systematic& sys : variations.systematics())
      for (const char* direction : {"_up", "_down"}) {
        const std::string variation = sys.name + direction;
        part_names_.push_back({variation, "penalty_" + variation, "noise_floor_" + variation});
      }
    const Index outputs = model.output_size();
    if (outputs == 1) {
      require(options.score_class == -1 || options.score_class == 1,
              "the systematics penalty of a binary classifier (one sigmoid output) histograms the "
              "probability of class 1; score class ",
              options.score_class, " asked for");
      score_class_ = 1;
    } else {
      score_class_ = options.score_class < 0 ? outputs - 1 : options.score_class;
      require(score_class_ < outputs, "the systematics penalty's score class is ", score_class_,
              ", but the network has ", outputs, " softmax outputs (classes 0 to ", outputs - 1, ")");
      pick_.setZero(1, outputs);
      pick_(0, score_class_) = T(1);
    }
  }

  // The class whose probability is histogrammed (1 for a one-logit network).
  Index score_class() const { return score_class_; }
  // Class `cls`'s nominal soft histogram of the last step (1 x bins; empty where no systematic
  // applies to the class or the batch held none of its events). Valid until the next step.
  Matrix<T> nominal_histogram(Index cls) const {
    const auto c = static_cast<std::size_t>(cls);
    return c < nominal_.size() && nominal_[c].valid() ? nominal_[c].value() : Matrix<T>();
  }

  // Adds `term`'s decorrelation penalty (train/decorrelation.hpp) to every step's loss, after the
  // systematics' penalties, and its figures to every epoch's (null: none). Keep the term alive.
  void set_decorrelation(DecorrelationTerm<T>* term) {
    decorrelation_ = term;
    figures_.set_decorrelation(term);  // its evaluate() adds the term's figures; its step is never used
  }

  ParameterGroup<T> parameters() override { return model_->parameters(); }
  std::vector<Optimiser<T>*> optimisers() override { return {optimiser_}; }
  void start_epoch(Index epoch, Rng& rng) override {
    sampler_.start_epoch(rng);
    if (decorrelation_) decorrelation_->start_epoch(epoch, sampler_.batches());
    penalty_sum_.clear();
    floor_sum_.clear();
    low_count_batches_ = 0;
    events_ = 0.0;
  }
  Index batches() const override { return sampler_.batches(); }

  StepResult step(Index b) override {
    const auto rows = sampler_.batch(b);
    gather(*train_, rows, batch_);
    variations_->vary(Part::train, rows, batch_.features, varied_);
    const Index n = batch_.size();
    tape_.clear();
    const Var<T> logits = (*model_)(tape_, tape_.input(batch_.features));
    Var<T> cross_entropy;
    if (pick_.size() == 0) {
      targets_.resize(n);
      for (Index i = 0; i < n; ++i) targets_(i) = static_cast<T>(batch_.labels[static_cast<std::size_t>(i)]);
      cross_entropy = binary_cross_entropy(logits, targets_, batch_.weights);
    } else {
      cross_entropy = categorical_cross_entropy(logits, batch_.labels, batch_.weights);
    }
    const Var<T> score = score_of(logits);
    StepResult r;
    r.events = static_cast<double>(n);
    r.parts["cross_entropy"] = static_cast<double>(cross_entropy.item());
    Var<T> loss = cross_entropy;

    // Class masks (training weight for the class's events, 0 otherwise), nominal histograms, and
    // the count a nominal bin needs to enter Lambda: min_count times the class's mean weight.
    const Index classes = std::max<Index>(2, train_->classes);
    masks_.resize(static_cast<std::size_t>(classes));
    nominal_.assign(static_cast<std::size_t>(classes), Var<T>());
    threshold_.assign(static_cast<std::size_t>(classes), kSoftHistogramPenaltyEpsilon);
    // The class's weight and events are the whole batch's (summed over the processes that share it
    // under data-parallel training), so every process takes the same branches as one process.
    class_totals_.assign(static_cast<std::size_t>(2 * classes), 0.0);
    for (Index c = 0; c < classes; ++c) {
      Vector<T>& m = masks_[static_cast<std::size_t>(c)];
      m.resize(n);
      for (Index i = 0; i < n; ++i) {
        const bool in = batch_.labels[static_cast<std::size_t>(i)] == c;
        m(i) = in ? batch_.weights(i) : T(0);
        class_totals_[static_cast<std::size_t>(2 * c)] += static_cast<double>(m(i));
        class_totals_[static_cast<std::size_t>(2 * c + 1)] += in ? 1.0 : 0.0;
      }
    }
    batch_totals(std::span<double>(class_totals_));
    bool low = false;
    for (Index c = 0; c < classes; ++c) {
      const Vector<T>& m = masks_[static_cast<std::size_t>(c)];
      const double weight = class_totals_[static_cast<std::size_t>(2 * c)];
      const double events = class_totals_[static_cast<std::size_t>(2 * c + 1)];
      bool used = false;
      for (const auto& sys : variations_->systematics()) used = used || sys.applies_to(c);
      if (!used || events == 0.0) continue;
      const double mean_weight = weight / events;
      threshold_[static_cast<std::size_t>(c)] =
          std::max(kSoftHistogramPenaltyEpsilon, options_.min_count * mean_weight);
      nominal_[static_cast<std::size_t>(c)] = histogram_(score, m);
      const Matrix<T>& counts = nominal_[static_cast<std::size_t>(c)].value();
      for (Index k = 0; k < counts.cols(); ++k) low = low || static_cast<double>(counts(0, k)) < mean_weight;
    }
    if (low) ++low_count_batches_;

    for (std::size_t s = 0; s < variations_->size(); ++s) {
      const Systematic& sys = variations_->systematics()[s];
      for (int d = 0; d < 2; ++d) {
        const Variation<T>& v = varied_.variations[s][static_cast<std::size_t>(d)];
        Var<T> varied_score = score;
        if (!v.reweights) varied_score = score_of((*model_)(tape_, tape_.input(v.features)));
        Var<T> lambda;
        double floor = 0.0;
        for (Index c = 0; c < classes; ++c) {
          const Var<T>& nominal = nominal_[static_cast<std::size_t>(c)];
          if (!sys.applies_to(c) || !nominal.valid()) continue;
          const Vector<T>& m = masks_[static_cast<std::size_t>(c)];
          const double threshold = threshold_[static_cast<std::size_t>(c)];
          Var<T> varied;
          if (v.reweights) {
            weighted_.resize(n);
            weighted_ = m.cwiseProduct(v.weight_factor);
            varied = histogram_(score, weighted_);
            floor +=
                noise_floor(score.value(), score.value(), m, &v.weight_factor, nominal.value(), threshold);
          } else {
            varied = histogram_(varied_score, m);
            floor += noise_floor(score.value(), varied_score.value(), m, nullptr, nominal.value(), threshold);
          }
          const Var<T> term = soft_histogram_penalty(nominal, varied, threshold);
          lambda = lambda.valid() ? lambda + term : term;
        }
        // (No event of the systematic's classes in this batch: Lambda is 0, and every step still
        // reports the same parts.)
        const double value = lambda.valid() ? static_cast<double>(lambda.item()) : 0.0;
        const PartNames& names = part_names_[2 * s + static_cast<std::size_t>(d)];
        const std::string& name = names.variation;
        r.parts[names.penalty] = value;
        r.parts[names.noise_floor] = floor;
        penalty_sum_[name] += value * r.events;
        if (sys.penalty > 0.0) floor_sum_[name] += floor * r.events;
        if (sys.penalty > 0.0 && lambda.valid()) loss = loss + lambda * static_cast<T>(sys.penalty);
      }
    }
    if (decorrelation_) loss = decorrelation_->add_penalty(loss, logits, batch_, b, r);
    events_ += r.events;
    r.loss = static_cast<double>(loss.item());
    if (!std::isfinite(r.loss)) {
      optimiser_->skip_step();
      return r;
    }
    tape_.backward(loss);
    if (!optimiser_->try_step()) r.loss = std::nan("");
    return r;
  }

  Figures evaluate() override {
    Figures f = figures_.evaluate();
    f["low_count_batches"] = static_cast<double>(low_count_batches_);
    if (low_count_batches_ > 0 && options_.out)
      *options_.out
          << "warning: in " << low_count_batches_ << " of " << sampler_.batches()
          << " batches a bin of a nominal soft histogram held less than 1 event ("
          << (options_.min_count >= 1.0 ? "left out of the penalty: soft_histogram.min_count is "
                                        : "in the penalty, where it is noisy: soft_histogram.min_count is ")
          << options_.min_count
          << "); if that is a bin you care about, use larger batches (training.batch_size) or fewer "
             "soft_histogram bins\n";
    if (validation_) {
      const Vector<double> nominal = class_scores(*model_, validation_->features, score_class_);
      if (pick_.size() != 0) {
        // One class against the rest; replaces ClassifierScheme's figure (which, for two softmax
        // classes, is class 1's).
        Vector<double> is_class(validation_->rows());
        for (Index i = 0; i < validation_->rows(); ++i)
          is_class(i) = validation_->labels[static_cast<std::size_t>(i)] == score_class_ ? 1.0 : 0.0;
        double inside = 0.0, outside = 0.0;
        for (Index i = 0; i < validation_->rows(); ++i)
          (is_class(i) == 1.0 ? inside : outside) += static_cast<double>(validation_->weights(i));
        if (inside > 0.0 && outside > 0.0 && nominal.allFinite())
          f["validation_auc"] =
              stats::roc_auc(nominal, is_class, validation_->weights.template cast<double>());
        else
          f.erase("validation_auc");
      }
      const VariedBatch<T> varied = variations_->vary_all(Part::validation, validation_->features);
      for (std::size_t s = 0; s < variations_->size(); ++s) {
        const Systematic& sys = variations_->systematics()[s];
        for (int d = 0; d < 2; ++d) {
          const Variation<T>& v = varied.variations[s][static_cast<std::size_t>(d)];
          const Vector<double> shifted =
              v.reweights ? nominal : class_scores(*model_, v.features, score_class_);
          double distance = 0.0;
          for (Index c = 0; c < validation_->classes; ++c) {
            if (!sys.applies_to(c)) continue;
            std::vector<double> a(static_cast<std::size_t>(histogram_.bins()), 0.0), b = a;
            for (Index i = 0; i < validation_->rows(); ++i) {
              if (validation_->labels[static_cast<std::size_t>(i)] != c) continue;
              const double w = static_cast<double>(validation_->weights(i));
              a[static_cast<std::size_t>(bin_of(nominal(i), histogram_.edges()))] += w;
              b[static_cast<std::size_t>(bin_of(shifted(i), histogram_.edges()))] +=
                  v.reweights ? w * static_cast<double>(v.weight_factor(i)) : w;
            }
            distance = std::max(distance, total_variation(a, b));
          }
          f["shape_difference_" + sys.name + (d == 0 ? "_up" : "_down")] = distance;
        }
      }
      // The noise-floor failure: an anti-correlated network while a penalty sits at its noise floor.
      const auto auc = f.find("validation_auc");
      bool failure = false;
      std::string which, floor_of;
      if (auc != f.end() && auc->second < 0.5)
        for (const auto& [name, sum] : floor_sum_) {
          const double floor = sum / events_, penalty = penalty_sum_[name] / events_;
          if (penalty <= 2.0 * floor) {
            failure = true;
            which = name;
            floor_of = "Lambda " + std::to_string(penalty) + ", floor " + std::to_string(floor);
          }
        }
      f["noise_floor_failure"] = failure ? 1.0 : 0.0;
      const bool anti = auc != f.end() && auc->second < 0.5;
      f["anti_correlated"] = anti ? 1.0 : 0.0;
      if (anti && !failure && options_.out)
        *options_.out << "warning: validation AUC " << auc->second
                      << " < 0.5: the penalised network's output is anti-correlated with the label, while no "
                         "penalty is at its noise floor: the penalty has squeezed the scores together (a "
                         "score at a bin centre barely moves the soft histogram); try a smaller penalty, a "
                         "larger network, or a run started from the unpenalised classifier "
                         "(docs/systematics.md)\n";
      if (failure && options_.out)
        *options_.out << "warning: validation AUC " << auc->second << " < 0.5 while the penalty of '" << which
                      << "' is at its noise floor (" << floor_of
                      << "): the penalty has nothing left but "
                         "the batch's sampling noise to remove, and the network's output is anti-correlated "
                         "with the label. Use larger batches (the floor falls as 1 / batch events) or a "
                         "smaller penalty (docs/systematics.md)\n";
    }
    return f;
  }

 private:
  // The score on the tape: sigmoid(logit), or the score class's softmax probability: a dense node
  // softmax(logits) pick_^T with the constant row pick_ (1 at the score class), events x 1.
  Var<T> score_of(const Var<T>& logits) {
    if (pick_.size() == 0) return sigmoid(logits);
    return dense(softmax(logits), tape_.constant(pick_), Var<T>());
  }

  // The noise floor of one class's Lambda (see the top of the file): the batch's sampling variance
  // of the ratio estimates R_k = (N_k - V_k) / N_k, summed over the bins that enter Lambda,
  //   (1/K) sum_k sum_i (d_ik - R_k a_ik)^2 / N_k^2,
  // with a_ik = m_i G_k(s_i) the event's nominal contribution and d_ik = a_ik - (its varied
  // contribution): m_i f_i G_k(s_i) for a weights systematic (`factor`), m_i G_k(s'_i) for a shift
  // (`varied` the shifted scores s'). For weights this is sum_i a_ik^2 (f_i - fbar_k)^2 / N_k^2.
  // Under data-parallel training both passes' sums are the whole batch's (core/batch_shard.hpp).
  double noise_floor(const Matrix<T>& score, const Matrix<T>& varied, const Vector<T>& mask,
                     const Vector<T>* factor, const Matrix<T>& counts, double threshold) {
    const int K = histogram_.bins();
    // The contributions of event i to bin k: a (nominal) and d (nominal minus varied).
    auto contributions = [&](int k, Index i) {
      const double c = histogram_.centre(k), h = histogram_.half_width(k);
      auto gauss = [&](double value) {
        const double u = (value - c) / h;
        return std::exp(-0.5 * u * u);
      };
      const double m = static_cast<double>(mask(i)), a = m * gauss(static_cast<double>(score(i, 0)));
      const double d = factor ? a * (1.0 - static_cast<double>((*factor)(i)))
                              : a - m * gauss(static_cast<double>(varied(i, 0)));
      return std::pair{a, d};
    };
    auto enters = [&](int k) { return std::abs(static_cast<double>(counts(0, k))) > threshold; };
    // First pass: R_k = sum_i d_ik / N_k; second: the variance around it.
    bin_sums_.assign(static_cast<std::size_t>(K), 0.0);
    for (int k = 0; k < K; ++k)
      if (enters(k))
        for (Index i = 0; i < mask.size(); ++i)
          if (mask(i) != T(0)) bin_sums_[static_cast<std::size_t>(k)] += contributions(k, i).second;
    batch_totals(std::span<double>(bin_sums_));
    for (int k = 0; k < K; ++k) {
      const std::size_t kk = static_cast<std::size_t>(k);
      if (!enters(k)) continue;
      const double ratio = bin_sums_[kk] / static_cast<double>(counts(0, k));
      double var = 0.0;
      for (Index i = 0; i < mask.size(); ++i) {
        if (mask(i) == T(0)) continue;
        const auto [a, d] = contributions(k, i);
        var += (d - ratio * a) * (d - ratio * a);
      }
      bin_sums_[kk] = var;
    }
    batch_totals(std::span<double>(bin_sums_));
    double total = 0.0;
    for (int k = 0; k < K; ++k)
      if (enters(k)) {
        const double nk = static_cast<double>(counts(0, k));
        total += bin_sums_[static_cast<std::size_t>(k)] / (nk * nk);
      }
    return total / K;
  }

  Sequential<T>* model_;
  Optimiser<T>* optimiser_;
  const Dataset<T>* train_;
  const Dataset<T>* validation_;
  const SystematicVariations<T>* variations_;
  SoftHistogram histogram_;
  PenalisedOptions options_;
  BatchSampler sampler_;
  ClassifierScheme<T> figures_;  // loss, accuracy and AUC of the epoch (its own step is never used)
  Tape<T> tape_;
  Batch<T> batch_;
  VariedBatch<T> varied_;
  Vector<T> targets_, weighted_;
  Index score_class_ = 1;
  Matrix<T> pick_;  // 1 x C, 1 at the score class (a softmax network); empty for one logit
  std::vector<Vector<T>> masks_;
  std::vector<Var<T>> nominal_;       // each class's nominal soft histogram of the step (invalid: unused)
  std::vector<double> threshold_;     // each class's count a nominal bin needs to enter Lambda
  std::vector<double> class_totals_;  // each class's weight sum and events in the (whole) batch
  std::vector<double> bin_sums_;      // noise_floor's per-bin sums
  std::map<std::string, double> penalty_sum_, floor_sum_;
  // The StepResult part names of each variation (2 s + 0 up, 2 s + 1 down), built once.
  struct PartNames {
    std::string variation, penalty, noise_floor;
  };
  std::vector<PartNames> part_names_;
  Index low_count_batches_ = 0;
  double events_ = 0.0;
  DecorrelationTerm<T>* decorrelation_ = nullptr;
};

}  // namespace agnostic::train
