#pragma once
// DecorrelationTerm<T>: the "decorrelation" section (train/decorrelation_config.hpp) at work in a
// classifier's training (docs/decorrelation.md). A classifier scheme that holds one
// (ClassifierScheme, PenalisedClassifierScheme: set_decorrelation) adds, at every step,
//   lambda(p) * penalty(s, m)
// to its loss, where s is the score of the batch's events of `classes` (the sigmoid of a one-logit
// network, or the softmax probability of the score class), m their variable (standardised over the
// training events: mean 0, standard deviation 1, which changes none of the penalties but keeps
// DisCo's sums of order 1), the penalty DisCo, MoDe (on the CDF or the mean) or flatness
// (losses/decorrelation_*.hpp) with the events' training weights, and lambda follows the section's schedule
// over the planned optimisation steps (as DANN's lambda). A batch with fewer than 2 such events adds nothing.
//
// Per epoch, into history.json and the progress line:
//   train_decorrelation_penalty   the penalty (before lambda), averaged over the epoch's batches
//   decorrelation_strength        lambda at the epoch's last step
//   dcor                          on the validation set: the weighted distance correlation of the
//                                 score and m over the background (the events of `classes` other than
//                                 the signal class)
//   background_rejection_at_50    R50 = 1 / background efficiency at the cut keeping 50 % of the signal
//   jsd_at_50                     the JSD (bits) of m's histograms in the section's `bins` for the
//                                 background passing and failing that cut
// (stats/decorrelation_metrics.hpp). The figures weigh events by the data's weight column (1
// without one), as the held-out AUC does. The signal class is class 1 for a one-logit network, and
// the score class for a softmax one.
#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/autodiff/arithmetic.hpp"
#include "agnostic/autodiff/dense.hpp"
#include "agnostic/autodiff/elementwise.hpp"
#include "agnostic/autodiff/reductions.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/io/csv_writer.hpp"
#include "agnostic/io/table.hpp"
#include "agnostic/losses/decorrelation_bins.hpp"
#include "agnostic/losses/decorrelation_disco.hpp"
#include "agnostic/losses/decorrelation_flatness.hpp"
#include "agnostic/losses/decorrelation_mode.hpp"
#include "agnostic/nn/evaluate_in_chunks.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/stats/decorrelation_metrics.hpp"
#include "agnostic/train/dataset.hpp"
#include "agnostic/train/decorrelation_config.hpp"
#include "agnostic/train/history.hpp"
#include "agnostic/train/prepared_data.hpp"
#include "agnostic/train/scheme.hpp"

namespace agnostic::train {

// The decorrelation figures of scores on a set of events: the signal's and the background's sides
// of the cuts, and dCor over the background.
struct DecorrelationFigures {
  double dcor = std::nan("");
  std::vector<stats::SculptingFigures> cuts;  // at each signal efficiency asked for
};

template <class T>
class DecorrelationTerm {
 public:
  // `train_variable` and `validation_variable` hold m for the rows of `train` and `validation`, in
  // their order (raw values); `validation_weights` the weights of the figures (the weight column).
  // `score_class` is the class whose probability the score is (1 for a one-logit network);
  // `planned_epochs` the run's training.epochs (the schedule's p). Keep the data sets alive.
  DecorrelationTerm(DecorrelationConfig config, std::vector<double> train_variable,
                    std::vector<double> validation_variable, const Dataset<T>& train,
                    const Dataset<T>* validation, std::vector<double> validation_weights, Index score_class,
                    Index planned_epochs)
      : config_(std::move(config)),
        schedule_(config_.schedule()),
        validation_(validation && validation->rows() > 0 ? validation : nullptr),
        validation_variable_(std::move(validation_variable)),
        validation_weights_(std::move(validation_weights)),
        score_class_(score_class),
        epochs_(std::max<Index>(1, planned_epochs)),
        bins_(std::vector<double>{0.0, 1.0}) {
    require(static_cast<Index>(train_variable.size()) == train.rows(),
            "DecorrelationTerm: ", train_variable.size(), " values of the variable for ", train.rows(),
            " training events");
    if (validation_)
      require(static_cast<Index>(validation_variable_.size()) == validation_->rows() &&
                  static_cast<Index>(validation_weights_.size()) == validation_->rows(),
              "DecorrelationTerm: ", validation_variable_.size(), " values of the variable and ",
              validation_weights_.size(), " weights for ", validation_->rows(), " validation events");
    for (Index c : config_.classes)
      require(c < std::max<Index>(2, train.classes), "decorrelation.classes names class ", c,
              ", but the label has ", std::max<Index>(2, train.classes), " classes (0 to ",
              std::max<Index>(2, train.classes) - 1, ")");
    // Standardise over the training events; the bins are equal-population over those of `classes`.
    double sum = 0.0, squares = 0.0;
    for (double v : train_variable) sum += v;
    const double n = static_cast<double>(train_variable.size());
    offset_ = sum / n;
    for (double v : train_variable) squares += (v - offset_) * (v - offset_);
    scale_ = std::sqrt(squares / n);
    require(scale_ > 0.0, "decorrelation.variable '", config_.variable, "' has the same value (", offset_,
            ") for every training event; there is nothing to decorrelate from");
    train_variable_.resize(train.rows());
    std::vector<double> in_classes;
    for (Index i = 0; i < train.rows(); ++i) {
      const double v = standardised(train_variable[static_cast<std::size_t>(i)]);
      train_variable_(i) = static_cast<T>(v);
      if (decorrelated(train.labels[static_cast<std::size_t>(i)])) in_classes.push_back(v);
    }
    require(static_cast<Index>(in_classes.size()) >= config_.bins, "decorrelation: the training set holds ",
            in_classes.size(),
            " events of decorrelation.classes, fewer "
            "than decorrelation.bins (",
            config_.bins, "); give fewer bins or more events");
    bins_ = VariableBins::equal_population(in_classes, config_.bins);
  }

  const DecorrelationConfig& config() const { return config_; }
  const VariableBins& bins() const { return bins_; }  // in standardised units
  double standardised(double raw) const { return (raw - offset_) / scale_; }
  double strength() const { return lambda_; }

  void start_epoch(Index epoch, Index batches) {
    epoch_ = epoch;
    batches_ = std::max<Index>(1, batches);
  }

  // loss + lambda * penalty for batch b (0-based) of the current epoch, whose logits are `logits`;
  // records the penalty as the step's part "decorrelation_penalty".
  Var<T> add_penalty(Var<T> loss, Var<T> logits, const Batch<T>& batch, Index b, StepResult& r) {
    lambda_ = schedule_.at_step(epoch_, std::min(b, batches_ - 1), batches_, epochs_);
    selected_.clear();
    for (Index i = 0; i < batch.size(); ++i)
      if (decorrelated(batch.labels[static_cast<std::size_t>(i)])) selected_.push_back(i);
    const auto k = static_cast<Index>(selected_.size());
    double value = 0.0;
    if (k >= 2) {
      variable_.resize(k);
      weights_.resize(k);
      for (Index j = 0; j < k; ++j) {
        const Index row = selected_[static_cast<std::size_t>(j)];
        variable_(j) = train_variable_(batch.rows[static_cast<std::size_t>(row)]);
        weights_(j) = batch.weights(row);
      }
      const Var<T> score = select_rows(score_of(logits), selected_);
      Var<T> penalty;
      if (config_.method == "disco")
        penalty = distance_correlation_squared(score, variable_, weights_);
      else if (config_.method == "mode" && config_.moment == "cdf")
        penalty = moment_decorrelation_cdf_penalty(score, variable_, bins_, config_.order, weights_);
      else if (config_.method == "mode")
        penalty = moment_decorrelation_penalty(score, variable_, bins_, config_.order, weights_);
      else
        penalty = flatness_penalty(score, variable_, bins_, weights_);
      value = static_cast<double>(penalty.item());
      if (lambda_ > 0.0) loss = loss + penalty * static_cast<T>(lambda_);
    }
    r.parts["decorrelation_penalty"] = value;
    return loss;
  }

  // The probability scores of `model` on `features` (standardised inputs), in double.
  Vector<double> scores(Sequential<T>& model, const Matrix<T>& features) const {
    Vector<double> out(features.rows());
    evaluate_in_chunks(model, features, kEvaluationChunk, [&](Index begin, const Matrix<T>& z) {
      for (Index k = 0; k < z.rows(); ++k) {
        if (z.cols() == 1) {
          out(begin + k) = 1.0 / (1.0 + std::exp(-static_cast<double>(z(k, 0))));
          continue;
        }
        const Eigen::RowVectorXd row = z.row(k).template cast<double>();
        const double top = row.maxCoeff();
        out(begin + k) = std::exp(row(score_class_) - top) / (row.array() - top).exp().sum();
      }
    });
    return out;
  }

  // The figures of `score` on the validation events at the signal efficiencies asked for.
  DecorrelationFigures validation_figures(const Vector<double>& score,
                                          const std::vector<double>& efficiencies) const {
    DecorrelationFigures out;
    if (!validation_) return out;
    std::vector<double> signal_score, signal_weight, background_score, background_variable, background_weight;
    for (Index i = 0; i < validation_->rows(); ++i) {
      const Index label = validation_->labels[static_cast<std::size_t>(i)];
      const double w = validation_weights_[static_cast<std::size_t>(i)];
      if (label == score_class_) {
        signal_score.push_back(score(i));
        signal_weight.push_back(w);
      } else if (decorrelated(label)) {
        background_score.push_back(score(i));
        background_variable.push_back(standardised(validation_variable_[static_cast<std::size_t>(i)]));
        background_weight.push_back(w);
      }
    }
    if (background_score.size() >= 2)  // else NaN: no background to correlate
      out.dcor = stats::distance_correlation(background_score, background_variable, background_weight);
    for (double e : efficiencies)
      out.cuts.push_back(stats::sculpting_at_signal_efficiency(signal_score, signal_weight, background_score,
                                                               background_variable, background_weight,
                                                               bins_.edges(), e));
    return out;
  }

  // Adds the epoch's figures (see the top of the file) to `f`.
  void add_figures(Figures& f, Sequential<T>& model) const {
    f["decorrelation_strength"] = lambda_;
    if (!validation_) return;
    const DecorrelationFigures d = validation_figures(scores(model, validation_->features), {0.5});
    f["dcor"] = d.dcor;
    f["jsd_at_50"] = d.cuts[0].jsd;
    f["background_rejection_at_50"] = d.cuts[0].background_rejection;
  }

  // summary.json's "decorrelation": the section's settings and the held-out figures of `model`:
  // dcor, jsd_at_50, inverse_jsd_at_50, background_rejection_at_50, and the cuts at 30, 50 and 70 %
  // signal efficiency (threshold, background efficiency and rejection, JSD). With `out`, also a line
  // saying the main figures.
  nlohmann::json summary(Sequential<T>& model, std::ostream* out = nullptr) const {
    nlohmann::json j = {{"variable", config_.variable}, {"method", config_.method},
                        {"strength", config_.strength}, {"strength_schedule", config_.strength_schedule},
                        {"classes", config_.classes},   {"bins", config_.bins}};
    if (config_.method == "mode") {
      j["order"] = config_.order;
      j["moment"] = config_.moment;
    }
    if (!validation_) return j;
    const DecorrelationFigures d = validation_figures(scores(model, validation_->features), {0.3, 0.5, 0.7});
    const stats::SculptingFigures& at_50 = d.cuts[1];
    j["dcor"] = detail::number_to_json(d.dcor);
    j["jsd_at_50"] = detail::number_to_json(at_50.jsd);
    j["inverse_jsd_at_50"] = detail::number_to_json(1.0 / at_50.jsd);
    j["background_rejection_at_50"] = detail::number_to_json(at_50.background_rejection);
    j["cuts"] = nlohmann::json::array();
    for (const stats::SculptingFigures& cut : d.cuts)
      j["cuts"].push_back({{"signal_efficiency", cut.efficiency},
                           {"threshold", detail::number_to_json(cut.threshold)},
                           {"background_efficiency", detail::number_to_json(cut.background_efficiency)},
                           {"background_rejection", detail::number_to_json(cut.background_rejection)},
                           {"jsd", detail::number_to_json(cut.jsd)}});
    if (out)
      *out << "decorrelation (" << config_.method << " against '" << config_.variable << "', strength "
           << config_.strength << "): held-out dCor " << d.dcor << ", at 50 % signal efficiency R50 "
           << at_50.background_rejection << " and 1/JSD " << 1.0 / at_50.jsd << "\n";
    return j;
  }

 private:
  bool decorrelated(Index label) const {
    return std::find(config_.classes.begin(), config_.classes.end(), label) != config_.classes.end();
  }

  // The score on the tape: sigmoid(logit), or the softmax probability of the score class.
  Var<T> score_of(Var<T> logits) {
    if (logits.cols() == 1) return sigmoid(logits);
    pick_.setZero(1, logits.cols());
    pick_(0, score_class_) = T(1);
    return dense(softmax(logits), logits.tape().constant(pick_), Var<T>());
  }

  DecorrelationConfig config_;
  adversarial::StrengthSchedule schedule_;
  const Dataset<T>* validation_;
  std::vector<double> validation_variable_, validation_weights_;
  Index score_class_;
  Index epochs_;
  VariableBins bins_;
  double offset_ = 0.0, scale_ = 1.0;
  Vector<T> train_variable_;  // standardised, per training row
  Index epoch_ = 1, batches_ = 1;
  double lambda_ = 0.0;
  std::vector<Index> selected_;
  Vector<T> variable_, weights_;
  Matrix<T> pick_;
};

// The values of column `name` of the data files for `rows` of the table, checked to be finite.
inline std::vector<double> decorrelation_variable_values(const io::Table& table, const std::string& name,
                                                         const std::vector<Index>& rows) {
  require(!table.has_text_column(name), "decorrelation.variable '", name,
          "' is a text column; the variable must be numeric");
  require(table.has_column(name), "decorrelation.variable '", name,
          "' is not a column of the data files; columns: ", table.describe_columns());
  const auto column = table.column(name);
  std::vector<double> out;
  out.reserve(rows.size());
  for (Index r : rows) {
    const double v = column[static_cast<std::size_t>(r)];
    if (!std::isfinite(v))
      fail(table.locate(r, name), ": decorrelation.variable value ", v, " is not finite");
    out.push_back(v);
  }
  return out;
}

// predictions.csv's column of the variable (as read) for the held-out events `rows`: named after the
// variable, or "decorrelation_variable" when that name is taken by one of the file's own columns.
inline std::pair<std::string, std::vector<std::string>> decorrelation_prediction_column(
    const io::Table& table, const std::string& name, const std::vector<Index>& rows) {
  std::vector<std::string> text;
  for (double v : decorrelation_variable_values(table, name, rows)) text.push_back(io::number_text(v));
  const bool taken = name == "label" || name == "weight" || name.rfind("score", 0) == 0;
  return {taken ? std::string("decorrelation_variable") : name, std::move(text)};
}

// The term for a classifier run on `data` with the config's decorrelation section `d`.
template <class T>
DecorrelationTerm<T> make_decorrelation_term(const DecorrelationConfig& d, const TrainConfig& c,
                                             const PreparedData<T>& data, Index score_class) {
  return DecorrelationTerm<T>(d, decorrelation_variable_values(data.table, d.variable, data.split.train),
                              decorrelation_variable_values(data.table, d.variable, data.split.validation),
                              data.train, data.validation.rows() > 0 ? &data.validation : nullptr,
                              data.validation_physics_weights(c.data.columns.weight), score_class,
                              c.training.epochs);
}

}  // namespace agnostic::train
