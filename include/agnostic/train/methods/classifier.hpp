#pragma once
// "method": "classifier" (the default): a Sequential of model.hidden layers with one logit (two
// classes, sigmoid output) or one per class (softmax), trained by ClassifierScheme on the weighted
// cross-entropy. Writes model.json, history.json, checkpoint.json, predictions.csv, summary.json.
#include <memory>
#include <optional>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/nn/model_network.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/train/classifier.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/decorrelation.hpp"
#include "agnostic/train/make_optimiser.hpp"
#include "agnostic/train/prepared_data.hpp"
#include "agnostic/train/run_context.hpp"
#include "agnostic/train/run_outputs.hpp"
#include "agnostic/train/trainer.hpp"

namespace agnostic::train {

// The network a classifier config asks for: model.hidden layers over `inputs`, then `outputs`
// logits; fresh weights from training.seed, or model.start_from's (checked to fit).
AGNOSTIC_COMPILED_WHEN_USED
inline Sequential<float> classifier_network(const TrainConfig& c, const PreparedData<float>& data,
                                            Index outputs) {
  if (data.start) {
    Sequential<float> net = io::to_sequential(data.start->layers, true, "classifier");
    require(net.output_size() == outputs, "model.start_from '", c.model.start_from, "' has ",
            net.output_size(), " outputs but this config needs ", outputs);
    return net;
  }
  std::vector<Index> sizes{data.standardisation.size()};
  sizes.insert(sizes.end(), c.model.hidden.begin(), c.model.hidden.end());
  sizes.push_back(outputs);
  Rng init(c.training.seed);
  return Sequential<float>(sizes, c.model.activation, Activation::identity(), init, c.model.init,
                           "classifier");
}

// "loss": "inference_aware" (methods/inference_aware.hpp, included at the end of this file).
AGNOSTIC_COMPILED_WHEN_USED
inline RunResult run_inference_aware(const TrainConfig& c, const RunOptions& options);

// A config with "systematics" (methods/classifier_systematics.hpp, included at the end of this file).
AGNOSTIC_COMPILED_WHEN_USED
inline RunResult run_classifier_with_systematics(const TrainConfig& c, const RunOptions& options);

AGNOSTIC_COMPILED_WHEN_USED
inline RunResult run_classifier(const TrainConfig& c, const RunOptions& options = {}) {
  const std::optional<DecorrelationConfig> decorrelation = read_decorrelation(c);  // train/decorrelation.hpp
  if (c.loss == "inference_aware") return run_inference_aware(c, options);
  if (c.sections.count("systematics")) return run_classifier_with_systematics(c, options);
  RunContext ctx(c, options);
  const PreparedData<float> data = prepare_data<float>(c);
  const Index n_outputs = c.model.softmax_output ? data.classes : 1;
  Sequential<float> net = classifier_network(c, data, n_outputs);
  const auto optimiser = make_optimiser(c.optimiser, net.parameters());
  ClassifierScheme<float> scheme(net, *optimiser, data.train,
                                 data.validation.rows() > 0 ? &data.validation : nullptr,
                                 {.batch_size = c.training.batch_size});
  std::optional<DecorrelationTerm<float>> term;
  if (decorrelation) {
    term.emplace(make_decorrelation_term(*decorrelation, c, data, n_outputs == 1 ? 1 : n_outputs - 1));
    scheme.set_decorrelation(&*term);
  }
  Trainer<float> trainer(scheme, ctx.trainer_options());
  if (!ctx.quiet())
    ctx.out() << "agnostic train: " << data.train.rows() << " training and " << data.validation.rows()
              << " validation events, " << data.standardisation.size() << " inputs, " << data.classes
              << " classes\n"
              << net.describe();
  const History& history = ctx.train(trainer);
  const io::ModelFile<float> model = classifier_model_file(
      net, c, data, ctx.provenance(trainer, history, data.train.rows(), data.validation.rows()));
  if (!term) return ctx.finish(write_model_and_predictions(ctx, data, model, trainer, history));
  HeldOutColumns columns;
  columns.extra.push_back(
      decorrelation_prediction_column(data.table, decorrelation->variable, data.split.validation));
  nlohmann::json summary =
      write_model_and_predictions(ctx, data, model, trainer, history, std::move(columns));
  summary["decorrelation"] = term->summary(net, ctx.quiet() ? nullptr : &ctx.out());
  return ctx.finish(summary);
}

}  // namespace agnostic::train

#include "agnostic/train/methods/classifier_systematics.hpp"
#include "agnostic/train/methods/inference_aware.hpp"
