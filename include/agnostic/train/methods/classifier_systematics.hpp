#pragma once
// The classifier method with a "systematics" list (issue 8; run_classifier sends such configs
// here): a classifier — binary (one sigmoid output) or one softmax output per class — trained on
// the cross-entropy alone (every penalty 0) or on Wunsch et al.'s (arXiv:1907.11674) penalised loss
// (PenalisedClassifierScheme, any penalty > 0), then, besides the classifier's outputs, workspace.json: the
// pyhf workspace of the held-out events' score histograms in the soft_histogram bins, with each systematic as
// histosys + normsys (train/run_workspace.hpp). The score is the sigmoid output of a binary
// classifier, or the softmax probability of soft_histogram.score_class (default the last class);
// that class is the workspace's signal (normfactor mu): class 1 for a binary classifier.
#include <memory>
#include <optional>
#include <string>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/train/decorrelation.hpp"
#include "agnostic/train/methods/classifier.hpp"
#include "agnostic/train/penalised_classifier.hpp"
#include "agnostic/train/run_workspace.hpp"
#include "agnostic/train/systematics.hpp"

namespace agnostic::train {

// The held-out events of a classifier, binned by their score in `edges` (class_scores: the
// sigmoid of one logit, or the softmax probability of `score_class`): the nominal bins, and for
// every shift systematic the bins of the shifted events.
AGNOSTIC_COMPILED_WHEN_USED
inline BinnedHeldOut classifier_held_out(Sequential<float>& net, const PreparedData<float>& data,
                                         const SystematicVariations<float>& variations,
                                         const std::vector<double>& edges, const std::string& weight_column,
                                         Index score_class = 1) {
  BinnedHeldOut h;
  h.bins = static_cast<Index>(edges.size()) - 1;
  h.labels = data.validation_part.labels;
  h.weight = data.validation_physics_weights(weight_column);
  const Vector<double> nominal = class_scores(net, data.validation.features, score_class);
  for (Index i = 0; i < nominal.size(); ++i) h.bin.push_back(bin_of(nominal(i), edges));
  const VariedBatch<float> varied = variations.vary_all(Part::validation, data.validation.features);
  h.varied.resize(variations.size());
  for (std::size_t s = 0; s < variations.size(); ++s)
    for (std::size_t d = 0; d < 2; ++d) {
      const Variation<float>& v = varied.variations[s][d];
      if (v.reweights) {
        for (Index i = 0; i < v.weight_factor.size(); ++i)
          h.varied[s].factor[d].push_back(static_cast<double>(v.weight_factor(i)));
      } else {
        const Vector<double> shifted = class_scores(net, v.features, score_class);
        for (Index i = 0; i < shifted.size(); ++i) h.varied[s].bin[d].push_back(bin_of(shifted(i), edges));
      }
    }
  return h;
}

template <class CompiledWhenUsed>  // declared (AGNOSTIC_COMPILED_WHEN_USED) in methods/classifier.hpp
inline RunResult run_classifier_with_systematics(const TrainConfig& c, const RunOptions& options) {
  // Everything the config alone can refuse, before anything is written.
  const std::vector<Systematic> systematics = read_systematics(c);
  const SoftHistogramConfig bins = read_soft_histogram(c);
  const std::map<Index, double> yields = read_expected_yields(c);
  const std::optional<DecorrelationConfig> decorrelation = read_decorrelation(c);
  if (!(c.data.validation_fraction > 0.0))
    fail("config '", c.source,
         "': key 'data.validation_fraction' is 0, but a run with 'systematics' builds "
         "workspace.json and the shape differences from the held-out events; set it > 0 (e.g. 0.3)");
  bool penalised = false;
  for (const auto& s : systematics) penalised = penalised || s.penalty > 0.0;

  RunContext ctx(c, options);
  const PreparedData<float> data = prepare_data<float>(c);
  const SystematicVariations<float> variations(systematics, data, c.source);
  for (const auto& [k, yield] : yields)
    require(k < data.classes, "config '", c.source, "': key 'expected_yields' names class ", k,
            ", but the label has ", data.classes, " classes");
  const Index score_class = bins.score_class_for(data.classes, c.model.softmax_output, c.source);
  Sequential<float> net = classifier_network(c, data, c.model.softmax_output ? data.classes : 1);
  const auto optimiser = make_optimiser(c.optimiser, net.parameters());
  const Dataset<float>* validation = data.validation.rows() > 0 ? &data.validation : nullptr;
  std::optional<DecorrelationTerm<float>> term;
  if (decorrelation) term.emplace(make_decorrelation_term(*decorrelation, c, data, score_class));
  DecorrelationTerm<float>* decorrelate = term ? &*term : nullptr;
  std::unique_ptr<TrainingScheme<float>> scheme;
  if (penalised) {
    auto p = std::make_unique<PenalisedClassifierScheme<float>>(
        net, *optimiser, data.train, validation, variations, bins.histogram(),
        PenalisedOptions{.batch_size = c.training.batch_size,
                         .min_count = bins.min_count,
                         .out = ctx.quiet() ? nullptr : &ctx.out(),
                         .score_class = score_class});
    p->set_decorrelation(decorrelate);
    scheme = std::move(p);
  } else {
    auto p = std::make_unique<ClassifierScheme<float>>(
        net, *optimiser, data.train, validation, ClassifierOptions{.batch_size = c.training.batch_size});
    p->set_decorrelation(decorrelate);
    scheme = std::move(p);
  }
  Trainer<float> trainer(*scheme, ctx.trainer_options());
  if (!ctx.quiet())
    ctx.out() << "agnostic train: " << data.train.rows() << " training and " << data.validation.rows()
              << " validation events, " << data.standardisation.size() << " inputs, " << systematics.size()
              << " systematic" << (systematics.size() == 1 ? "" : "s")
              << (penalised ? ", penalised loss (004)" : ", cross-entropy only (every penalty 0)")
              << (c.model.softmax_output
                      ? ", " + std::to_string(data.classes) + " softmax classes, score: P(" +
                            class_name(c.data.columns.label_classes, score_class) + ")"
                      : std::string())
              << "\n"
              << net.describe();
  const History& history = ctx.train(trainer);
  const io::ModelFile<float> model = classifier_model_file(
      net, c, data, ctx.provenance(trainer, history, data.train.rows(), data.validation.rows()));
  HeldOutColumns columns;
  if (term)
    columns.extra.push_back(
        decorrelation_prediction_column(data.table, decorrelation->variable, data.split.validation));
  nlohmann::json summary =
      write_model_and_predictions(ctx, data, model, trainer, history, std::move(columns));
  if (term) summary["decorrelation"] = term->summary(net, ctx.quiet() ? nullptr : &ctx.out());

  const BinnedHeldOut held_out =
      classifier_held_out(net, data, variations, bins.edges, c.data.columns.weight, score_class);
  WorkspaceOptions wo;
  wo.signal_class = score_class;
  wo.expected_yields = yields;
  for (Index k = 0; k < data.classes; ++k)
    wo.class_names.push_back(class_name(c.data.columns.label_classes, k));
  const auto path = write_run_workspace(ctx, held_out_workspace(held_out, systematics, wo));
  summary["workspace"] = path.string();
  if (!ctx.quiet())
    ctx.out() << "workspace: " << path.string() << " (" << bins.bins() << " bins of the score"
              << (c.model.softmax_output
                      ? ", signal '" + class_name(c.data.columns.label_classes, score_class) + "'"
                      : std::string())
              << "; `agnostic fit " << path.string() << " --asimov` gives sigma(mu))\n";
  return ctx.finish(summary);
}

}  // namespace agnostic::train
