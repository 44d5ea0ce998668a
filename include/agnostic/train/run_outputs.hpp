#pragma once
// The files a training run leaves besides the checkpoint and history (docs/config.md, "Outputs"):
//   model.json       the classifier with its standardisation and missing-value rules
//   predictions.csv  the held-out (validation) events: label, weight, [method's columns], then the
//                    scores as `agnostic predict` names them (io::score_column_name)
//   summary.json     epochs, stop reason and, for two classes, the held-out AUC and AMS
// Scores come from the model file's own forward pass, so they are the numbers `agnostic predict`
// gives for the same events. With no validation events (data.validation_fraction 0),
// predictions.csv holds its header only and the summary says there were none.
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/io/csv_writer.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/io/model_inputs.hpp"
#include "agnostic/nn/model_network.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/stats/ams.hpp"
#include "agnostic/stats/roc.hpp"
#include "agnostic/train/prepared_data.hpp"
#include "agnostic/train/run_context.hpp"

namespace agnostic::train {

// Name of class `index` from the mapping (value -> index), or "class_<index>".
AGNOSTIC_COMPILED_WHEN_USED
inline std::string class_name(const std::map<std::string, Index>& classes, Index index) {
  for (const auto& [value, k] : classes)
    if (k == index) return value;
  return "class_" + std::to_string(index);
}

// A classifier network (outputting logits) as a model file: a sigmoid output for one logit,
// softmax for several; outputs named after the classes.
AGNOSTIC_COMPILED_WHEN_USED
inline io::ModelFile<float> classifier_model_file(const Sequential<float>& net, const TrainConfig& c,
                                                  const PreparedData<float>& data,
                                                  nlohmann::json provenance) {
  io::ModelFile<float> model;
  const bool softmax = net.output_size() > 1;
  model.inputs = data.standardisation;
  model.layers = io::dense_weights(net, softmax ? io::LayerActivation::softmax_over_outputs()
                                                : io::LayerActivation{Activation::sigmoid(), false});
  if (softmax)
    for (Index k = 0; k < net.output_size(); ++k)
      model.outputs.push_back(class_name(c.data.columns.label_classes, k));
  else
    model.outputs.push_back(class_name(c.data.columns.label_classes, 1));
  model.missing_values = data.rules;
  model.training = std::move(provenance);
  return model;
}

// Weighted and unweighted AUC and the best AMS cut of two-class scores (`weight_scale` scales
// the weights to the whole sample for the AMS).
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json binary_metrics(const Vector<double>& score, const Vector<double>& label,
                                     const Vector<double>& weight, double weight_scale) {
  const double auc = stats::roc_auc(score, label, weight), auc_unweighted = stats::roc_auc(score, label);
  const stats::AmsCut cut = stats::best_ams_cut(score, label, Vector<double>(weight * weight_scale));
  return {{"validation_auc", auc},
          {"validation_auc_unweighted", auc_unweighted},
          {"ams",
           {{"value", cut.ams},
            {"threshold", cut.threshold},
            {"signal", cut.signal},
            {"background", cut.background},
            {"weight_scale", weight_scale}}}};
}

// Columns a method adds to predictions.csv, after "label" and "weight" and before the scores;
// `label_text` replaces the class indices of the label column when not empty (DANN writes a
// target event's label as found in the file).
struct HeldOutColumns {
  std::vector<std::string> label_text;
  std::vector<std::pair<std::string, std::vector<std::string>>> extra;
};

// Whether the network's outputs hold a binary score (a signal probability, for the AUC and the AMS):
// a classifier's do; the K bins of the inference-aware loss do not (output 1 is one bin's
// probability; that method prints and records sigma(mu) instead).
enum class BinaryScore { present, absent };

// Writes the model file, predictions.csv and returns the summary's fields (not yet written):
// model, epochs, best_epoch, stop_reason, validation_events and, for two classes with every
// held-out label read and a binary score present, the metrics of binary_metrics().
template <class T>
nlohmann::json write_model_and_predictions(RunContext& ctx, const PreparedData<float>& data,
                                           const io::ModelFile<float>& model, const Trainer<T>& trainer,
                                           const History& history, HeldOutColumns columns = {},
                                           BinaryScore binary_score = BinaryScore::present) {
  const TrainConfig& c = ctx.config();
  const auto model_path = ctx.file(c.output.model);
  if (ctx.writes()) io::write_model(model_path.string(), model);
  ctx.wrote(model_path);

  const std::size_t n = data.split.validation.size();
  const Matrix<float> scores = n > 0 ? io::predict(model, data.validation_part.features) : Matrix<float>();
  const std::vector<double> physics_weight = data.validation_physics_weights(c.data.columns.weight);
  io::CsvColumns csv;
  if (columns.label_text.empty())
    csv.add_numbers("label", data.validation_part.labels);
  else
    csv.add("label", std::move(columns.label_text));
  csv.add_numbers("weight", physics_weight);
  for (auto& [name, values] : columns.extra) csv.add(name, std::move(values));
  const bool softmax = model.layers.back().activation.softmax;
  for (std::size_t o = 0; o < model.outputs.size(); ++o) {
    std::vector<float> column(n);
    for (std::size_t r = 0; r < n; ++r) column[r] = scores(static_cast<Index>(r), static_cast<Index>(o));
    csv.add_numbers(io::score_column_name(model.outputs, o), column);  // as `agnostic predict` names it
  }
  const auto predictions_path = ctx.file(c.output.predictions);
  if (ctx.writes()) csv.write(predictions_path.string());
  ctx.wrote(predictions_path);

  nlohmann::json summary = {{"model", model_path.string()},       {"method", c.method},
                            {"epochs", trainer.epoch()},          {"best_epoch", history.best_epoch},
                            {"stop_reason", history.stop_reason}, {"validation_events", n}};
  if (n == 0) {
    if (!ctx.quiet())
      ctx.out() << "validation: no held-out events (data.validation_fraction is 0): "
                << predictions_path.string()
                << " holds its header only, and there are no validation metrics\n";
    return summary;
  }
  bool all_labelled = true;
  for (Index r : data.split.validation)
    all_labelled = all_labelled && data.labelled[static_cast<std::size_t>(r)];
  if (data.classes == 2 && all_labelled && binary_score == BinaryScore::present) {
    Vector<double> s(static_cast<Index>(n)), y(static_cast<Index>(n)), w(static_cast<Index>(n));
    for (std::size_t r = 0; r < n; ++r) {
      s(static_cast<Index>(r)) = static_cast<double>(scores(static_cast<Index>(r), softmax ? 1 : 0));
      y(static_cast<Index>(r)) = static_cast<double>(data.validation_part.labels[r]);
      w(static_cast<Index>(r)) = physics_weight[r];
    }
    // The held-out events stand for the whole file: weights scaled by 1 / validation fraction.
    const double scale = static_cast<double>(data.table.n_rows()) / static_cast<double>(n);
    summary.update(binary_metrics(s, y, w, scale));
    const auto& ams = summary["ams"];
    ctx.out() << "validation: " << n << " held-out events, AUC " << summary["validation_auc"].get<double>()
              << " (weighted; unweighted " << summary["validation_auc_unweighted"].get<double>() << "), AMS "
              << ams["value"].get<double>() << " at score >= " << ams["threshold"].get<double>()
              << " (s = " << ams["signal"].get<double>() << ", b = " << ams["background"].get<double>()
              << ", weights x " << scale << ")\n";
  }
  return summary;
}

}  // namespace agnostic::train
