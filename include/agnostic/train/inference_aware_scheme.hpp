#pragma once
// "loss": "inference_aware" — INFERNO's inference-aware training (de Castro & Dorigo, Comput. Phys.
// Commun. 244 (2019) 170) of a classifier config: the network has K softmax outputs, and the loss
// of a batch is the expected variance of the signal strength, sigma^2(mu), of an Asimov binned
// Poisson fit of those K bins (losses/inference_aware.hpp), with shape nuisances from the
// config's "systematics" entries and normalisation nuisances of their own:
//
//   "inference_aware": {"signal_class": 1, "expected_signal": 50, "expected_background": 1000,
//                       "outputs": 10, "temperature": 0.1,
//                       "shape_systematics": ["r_shift", "lambda"],
//                       "normalisations": [{"name": "b_norm", "class": 0, "relative": 0.1}]}
//
// Soft counts of a batch: p = softmax(logits / temperature) of every event; signal and background
// (every class other than signal_class; two classes only) counts s_k = sum_i w_i p_ik with each
// class's event weights w_i scaled so that they sum to the expected yield in the batch. A weight
// variation multiplies the weights of the classes it applies to by its factors (same scale, so a
// change of normalisation stays in); a shift variation runs the shifted features of the events of
// those classes through the network (other events keep their nominal features). Evaluation and
// predictions: the summary statistic is the arg-max of the K outputs (the hard assignment); the
// history also has the validation sigma(mu) of that hard assignment ("validation_sigma_mu_hard").
#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agnostic/autodiff/arithmetic.hpp"
#include "agnostic/autodiff/elementwise.hpp"
#include "agnostic/autodiff/reductions.hpp"
#include "agnostic/autodiff/soft_counts.hpp"
#include "agnostic/losses/inference_aware.hpp"
#include "agnostic/nn/evaluate_in_chunks.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/dataset.hpp"
#include "agnostic/train/scheme.hpp"
#include "agnostic/train/systematics.hpp"

namespace agnostic::train {

struct InferenceAwareConfig {
  Index signal_class = 1;
  double expected_signal = 0.0, expected_background = 0.0;
  Index outputs = 10;        // K, the bins of the summary statistic
  double temperature = 0.1;  // of the softmax that makes the counts soft
  std::vector<std::string> shape_systematics;
  struct Normalisation {
    std::string name;
    Index cls = 0;
    double relative = 0.0;
  };
  std::vector<Normalisation> normalisations;
};

// The "inference_aware" section (config-only checks; the classes are checked against the data by
// check_inference_aware_classes). Call it before anything is written.
inline InferenceAwareConfig read_inference_aware(const TrainConfig& c) {
  const auto found = c.sections.find("inference_aware");
  if (found == c.sections.end() || found->second.is_null())
    fail("config '", c.source,
         "': 'loss' is \"inference_aware\" but there is no section 'inference_aware'; expected "
         "{\"expected_signal\": s, \"expected_background\": b, \"outputs\": K, \"temperature\": tau, ...}");
  const ConfigSection s(found->second, "inference_aware", c.source,
                        {"signal_class", "expected_signal", "expected_background", "outputs", "temperature",
                         "shape_systematics", "normalisations"});
  InferenceAwareConfig out;
  out.signal_class = s.integer("signal_class", 1, 0, 1000);
  for (const char* key : {"expected_signal", "expected_background"})
    if (!s.has(key)) s.fail_at(s.child(key), "is missing; expected the expected yield (a number > 0)");
  out.expected_signal = s.number("expected_signal", 0.0, 0.0, 1e15, true);
  out.expected_background = s.number("expected_background", 0.0, 0.0, 1e15, true);
  out.outputs = s.integer("outputs", 10, 2, 1000);
  out.temperature = s.number("temperature", 0.1, 0.0, 1e6, true);
  out.shape_systematics = s.strings("shape_systematics", false);
  std::set<std::string> known, used;
  std::string known_list;
  for (const Systematic& sys : read_systematics(c)) {
    known.insert(sys.name);
    known_list += (known_list.empty() ? "" : ", ") + sys.name;
  }
  for (std::size_t i = 0; i < out.shape_systematics.size(); ++i) {
    const std::string& name = out.shape_systematics[i];
    const std::string at = s.child("shape_systematics") + "[" + std::to_string(i) + "]";
    if (!known.count(name))
      s.fail_at(at, "is \"", name, "\", which is not the name of an entry of 'systematics' (",
                known_list.empty() ? std::string("there is none") : "allowed: " + known_list, ")");
    if (!used.insert(name).second) s.fail_at(at, "is \"", name, "\", which is listed twice");
  }
  if (s.has("normalisations")) {
    const nlohmann::json& list = s.raw("normalisations");
    if (!list.is_array())
      s.fail_at(s.child("normalisations"), "is ", list.dump(),
                "; expected a list [{\"name\": ..., \"class\": c, \"relative\": r}, ...]");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const ConfigSection n(list[i], s.child("normalisations") + "[" + std::to_string(i) + "]", c.source,
                            {"name", "class", "relative"});
      for (const char* key : {"name", "class", "relative"})
        if (!n.has(key))
          n.fail_at(n.child(key), "is missing; a normalisation needs 'name', 'class' and 'relative'");
      InferenceAwareConfig::Normalisation norm;
      norm.name = n.string("name", "");
      if (norm.name.empty() || !used.insert(norm.name).second)
        n.fail_at(n.child("name"), "is \"", norm.name,
                  "\"; expected a non-empty name that no other nuisance of 'inference_aware' uses");
      norm.cls = n.integer("class", 0, 0, 1000);
      norm.relative = n.number("relative", 0.0, 0.0, 1e6, true);
      out.normalisations.push_back(norm);
    }
  }
  return out;
}

// The checks that need the data: two classes, signal_class and the normalisations' classes exist.
inline void check_inference_aware_classes(const InferenceAwareConfig& ia, Index classes,
                                          const std::string& source) {
  if (classes != 2)
    fail("config '", source,
         "': 'loss' is \"inference_aware\", which needs a label with exactly 2 classes "
         "(signal and background); this label has ",
         classes);
  if (ia.signal_class >= classes)
    fail("config '", source, "': key 'inference_aware.signal_class' is ", ia.signal_class,
         "; allowed: a class index from 0 to ", classes - 1);
  for (std::size_t i = 0; i < ia.normalisations.size(); ++i)
    if (ia.normalisations[i].cls >= classes)
      fail("config '", source, "': key 'inference_aware.normalisations[", i, "].class' is ",
           ia.normalisations[i].cls, "; allowed: a class index from 0 to ", classes - 1);
}

// sigma^2(mu) of a batch (recorded on a tape for training) or of a whole part (soft and hard).
template <class T>
class InferenceAwareObjective {
 public:
  // `variations` holds every systematic of the config (keep it alive); the named shape ones are used.
  InferenceAwareObjective(InferenceAwareConfig config, const SystematicVariations<T>& variations)
      : config_(std::move(config)), variations_(&variations) {
    const auto& all = variations.systematics();
    for (int pass = 0; pass < 2; ++pass)  // weight variations first (one forward pass for all of them)
      for (const auto& name : config_.shape_systematics)
        for (std::size_t s = 0; s < all.size(); ++s)
          if (all[s].name == name && all[s].weights.has_value() == (pass == 0))
            (pass == 0 ? weighted_ : shifted_).push_back(s);
    for (const auto& n : config_.normalisations)
      norms_.push_back({n.cls == config_.signal_class, n.relative});
  }

  const InferenceAwareConfig& config() const { return config_; }
  Index shape_nuisances() const { return static_cast<Index>(weighted_.size() + shifted_.size()); }
  const std::vector<NormalisationNuisance>& normalisations() const { return norms_; }

  // Records sigma^2(mu) of `batch` (rows of `part`) on `tape`; keep `batch` alive until tape.clear().
  Var<T> record(Tape<T>& tape, Sequential<T>& net, const Batch<T>& batch, Part part) {
    const Index n = batch.size();
    const auto [scale_s, scale_b] = scales(batch.labels, batch.weights, 0, n, "a batch");
    if (!variations_->empty()) variations_->vary(part, batch.rows, batch.features, varied_);
    build_weights(batch.labels, batch.weights, varied_, 0, n, scale_s, scale_b, weights_);
    const T inv_tau = static_cast<T>(1.0 / config_.temperature);
    std::vector<Var<T>> parts;
    parts.push_back(
        soft_counts(softmax(net(tape, tape.input(batch.features)) * inv_tau), OperandOf<T>(weights_)));
    shifted_features_.resize(2 * shifted_.size());
    for (std::size_t j = 0; j < shifted_.size(); ++j)
      for (int d = 0; d < 2; ++d) {
        Matrix<T>& x = shifted_features_[2 * j + static_cast<std::size_t>(d)];
        shifted_rows(shifted_[j], d, batch.labels, batch.features, varied_, 0, n, x);
        parts.push_back(
            soft_counts(softmax(net(tape, tape.input(x)) * inv_tau), OperandOf<T>(nominal_weights_)));
      }
    const Var<T> counts = parts.size() == 1 ? parts[0] : concat_cols(parts);
    return inference_aware_variance(counts, shape_nuisances(), norms_);
  }

  // sigma^2(mu) on a whole part with soft counts (the loss) and with the arg-max (hard) assignment.
  std::pair<double, double> evaluate(Sequential<T>& net, const Dataset<T>& data, Part part,
                                     Index chunk = kEvaluationChunk) {
    const Index n = data.rows(), K = config_.outputs, S = shape_nuisances();
    const std::pair<T, T> scale = scales(data.labels, data.weights, 0, n, "the validation part");
    const T scale_s = scale.first, scale_b = scale.second;  // clang 14 cannot capture a structured binding
    VariedBatch<T> all;
    if (!variations_->empty()) all = variations_->vary_all(part, data.features);
    MatrixD soft = MatrixD::Zero(K, 2 + 4 * S), hard = soft;
    Tape<T> tape;
    Matrix<T> x;
    auto add = [&](const Matrix<T>& features, const Matrix<T>& w, Index column) {
      tape.clear();
      const Matrix<T> z = net(tape, tape.input(features)).value();
      const Matrix<T> p = softmax(tape.input(z) * static_cast<T>(1.0 / config_.temperature)).value();
      soft.middleCols(column, w.cols()) += (p.transpose() * w).template cast<double>();
      for (Index i = 0; i < z.rows(); ++i) {
        Index k = 0;
        z.row(i).maxCoeff(&k);
        hard.row(k).segment(column, w.cols()) += w.row(i).template cast<double>();
      }
    };
    for_each_row_chunk(n, chunk, [&](Index begin, Index end) {
      build_weights(data.labels, data.weights, all, begin, end, scale_s, scale_b, weights_);
      x = data.features.middleRows(begin, end - begin);
      add(x, weights_, 0);
      for (std::size_t j = 0; j < shifted_.size(); ++j)
        for (int d = 0; d < 2; ++d) {
          shifted_rows(shifted_[j], d, data.labels, data.features, all, begin, end, x);
          add(x, nominal_weights_, 2 + 4 * static_cast<Index>(weighted_.size() + j) + 2 * d);
        }
    });
    Tape<double> t;
    const double v_soft = inference_aware_variance(t.input(soft), S, norms_).item();
    const double v_hard = inference_aware_variance(t.input(hard), S, norms_).item();
    return {v_soft, v_hard};
  }

 private:
  std::pair<T, T> scales(const std::vector<Index>& labels, const Vector<T>& w, Index begin, Index end,
                         const char* what) const {
    // sums[2] counts the events; in a training step under data-parallel training all three are the
    // whole batch's (core/batch_shard.hpp), so every process scales as one process does.
    double sums[3] = {0.0, 0.0, static_cast<double>(end - begin)};
    for (Index i = begin; i < end; ++i)
      sums[labels[static_cast<std::size_t>(i)] == config_.signal_class ? 0 : 1] += static_cast<double>(w(i));
    batch_totals(sums);
    const double ws = sums[0], wb = sums[1];
    require(ws > 0.0 && wb > 0.0, "inference_aware: ", what, " of ", sums[2],
            " events has a signal weight sum of ", ws, " and a background weight sum of ", wb,
            "; both must be > 0 (raise training.batch_size so that every batch holds both classes)");
    return {static_cast<T>(config_.expected_signal / ws), static_cast<T>(config_.expected_background / wb)};
  }

  // weights_ (events x (2 + 4 W)): s, b, then s up, b up, s down, b down per weight variation;
  // nominal_weights_: the first two columns.
  void build_weights(const std::vector<Index>& labels, const Vector<T>& w, const VariedBatch<T>& varied,
                     Index begin, Index end, T scale_s, T scale_b, Matrix<T>& out) {
    const Index n = end - begin, W = static_cast<Index>(weighted_.size());
    out.setZero(n, 2 + 4 * W);
    for (Index i = 0; i < n; ++i) {
      const Index cls = labels[static_cast<std::size_t>(begin + i)];
      const bool signal = cls == config_.signal_class;
      const T wi = w(begin + i) * (signal ? scale_s : scale_b);
      const Index c = signal ? 0 : 1;
      out(i, c) = wi;
      for (Index j = 0; j < W; ++j) {
        const std::size_t s = weighted_[static_cast<std::size_t>(j)];
        const bool applies = variations_->systematics()[s].applies_to(cls);
        for (int d = 0; d < 2; ++d)
          out(i, 2 + 4 * j + 2 * d + c) =
              applies ? wi * varied.variations[s][static_cast<std::size_t>(d)].weight_factor(begin + i) : wi;
      }
    }
    nominal_weights_ = out.leftCols(2);
  }

  // The features of rows begin..end with systematic s shifted (direction d) where it applies.
  void shifted_rows(std::size_t s, int d, const std::vector<Index>& labels, const Matrix<T>& nominal,
                    const VariedBatch<T>& varied, Index begin, Index end, Matrix<T>& out) const {
    const Systematic& sys = variations_->systematics()[s];
    const Matrix<T>& shifted = varied.variations[s][static_cast<std::size_t>(d)].features;
    out.resize(end - begin, nominal.cols());
    for (Index i = begin; i < end; ++i)
      out.row(i - begin) =
          sys.applies_to(labels[static_cast<std::size_t>(i)]) ? shifted.row(i) : nominal.row(i);
  }

  InferenceAwareConfig config_;
  const SystematicVariations<T>* variations_;
  std::vector<std::size_t> weighted_, shifted_;  // indices into variations_->systematics()
  std::vector<NormalisationNuisance> norms_;
  VariedBatch<T> varied_;
  Matrix<T> weights_, nominal_weights_;
  std::vector<Matrix<T>> shifted_features_;
};

}  // namespace agnostic::train
