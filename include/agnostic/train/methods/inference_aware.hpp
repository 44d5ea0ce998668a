#pragma once
// A classifier config with "loss": "inference_aware" (train/inference_aware_scheme.hpp): the same
// network as the classifier method with inference_aware.outputs softmax outputs, trained on
// sigma^2(mu) of each batch. history.json per epoch: train_loss (sigma^2 of the batches),
// validation_loss (sigma^2 on the whole validation part, soft counts), validation_sigma_mu and
// validation_sigma_mu_hard (the arg-max assignment, what a binned fit of the summary statistic
// gives). model.json has the K softmax outputs, named bin_0 ... bin_{K-1}; `agnostic predict`
// writes those K columns (score_bin_0 ..., as predictions.csv) and the summary statistic is their arg-max.
// workspace.json (train/run_workspace.hpp) holds the arg-max histograms of the held-out events scaled to
// expected_signal and expected_background, the shape systematics as normsys + histosys pairs,
// MC statistics as staterror, and each normalisation as a normsys with hi = 1 + r, lo = 1/(1 + r).
#include <cmath>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/train/inference_aware_scheme.hpp"
#include "agnostic/train/methods/classifier.hpp"
#include "agnostic/train/run_workspace.hpp"

namespace agnostic::train {

// The held-out events binned by the arg-max of the network (nominal and shifted features), and
// the shape systematics among `all`, in the order of the loss's config.
AGNOSTIC_COMPILED_WHEN_USED
inline std::pair<BinnedHeldOut, std::vector<Systematic>> inference_aware_held_out(
    Sequential<float>& net, const PreparedData<float>& data, const SystematicVariations<float>& variations,
    const InferenceAwareConfig& ia, const std::string& weight_column) {
  BinnedHeldOut h;
  h.bins = ia.outputs;
  h.labels = data.validation.labels;
  h.weight = data.validation_physics_weights(weight_column);
  auto arg_max = [&](const Matrix<float>& features) {
    Tape<float> tape;
    const Matrix<float>& z = net(tape, tape.input(features)).value();
    std::vector<Index> bin(static_cast<std::size_t>(z.rows()));
    for (Index i = 0; i < z.rows(); ++i) z.row(i).maxCoeff(&bin[static_cast<std::size_t>(i)]);
    return bin;
  };
  h.bin = arg_max(data.validation.features);
  std::vector<Systematic> used;
  const VariedBatch<float> all = variations.empty()
                                     ? VariedBatch<float>{}
                                     : variations.vary_all(Part::validation, data.validation.features);
  for (const std::string& name : ia.shape_systematics)
    for (std::size_t s = 0; s < variations.size(); ++s) {
      if (variations.systematics()[s].name != name) continue;
      used.push_back(variations.systematics()[s]);
      BinnedHeldOut::Varied v;
      for (int d = 0; d < 2; ++d) {
        const Variation<float>& var = all.variations[s][static_cast<std::size_t>(d)];
        if (var.reweights) {
          v.factor[static_cast<std::size_t>(d)].resize(h.labels.size());
          for (std::size_t i = 0; i < h.labels.size(); ++i)
            v.factor[static_cast<std::size_t>(d)][i] =
                static_cast<double>(var.weight_factor(static_cast<Index>(i)));
        } else {
          v.bin[static_cast<std::size_t>(d)] = arg_max(var.features);
        }
      }
      h.varied.push_back(std::move(v));
    }
  return {std::move(h), std::move(used)};
}

template <class CompiledWhenUsed>  // declared (AGNOSTIC_COMPILED_WHEN_USED) in methods/classifier.hpp
inline RunResult run_inference_aware(const TrainConfig& c, const RunOptions& options) {
  // Every config-only error before anything is written.
  const InferenceAwareConfig ia = read_inference_aware(c);
  std::vector<Systematic> systematics = read_systematics(c);
  RunContext ctx(c, options);
  const PreparedData<float> data = prepare_data<float>(c);
  check_inference_aware_classes(ia, data.classes, c.source);
  const SystematicVariations<float> variations(std::move(systematics), data, c.source);
  Sequential<float> net = classifier_network(c, data, ia.outputs);
  const auto optimiser = make_optimiser(c.optimiser, net.parameters());
  InferenceAwareObjective<float> objective(ia, variations);
  Tape<float> tape;
  auto step = [&](const Batch<float>& batch) {
    tape.clear();
    const Var<float> loss = objective.record(tape, net, batch, Part::train);
    StepResult r;
    r.loss = static_cast<double>(loss.item());
    r.events = static_cast<double>(batch.size());
    if (!std::isfinite(r.loss)) {
      optimiser->skip_step();
      return r;
    }
    tape.backward(loss);
    if (!optimiser->try_step()) {
      r.loss = std::nan("");
      return r;
    }
    r.parts["sigma_mu"] = std::sqrt(r.loss);
    return r;
  };
  auto evaluate = [&]() {
    Figures f;
    if (data.validation.rows() == 0) return f;
    const auto [soft, hard] = objective.evaluate(net, data.validation, Part::validation);
    f["validation_loss"] = soft;
    f["validation_sigma_mu"] = std::sqrt(soft);
    f["validation_sigma_mu_hard"] = std::sqrt(hard);
    return f;
  };
  CallbackScheme<float> scheme(data.train, c.training.batch_size, net.parameters(), {optimiser.get()}, step,
                               evaluate);
  Trainer<float> trainer(scheme, ctx.trainer_options());
  if (!ctx.quiet())
    ctx.out() << "agnostic train: inference-aware loss (INFERNO), " << ia.outputs << " bins at temperature "
              << ia.temperature << ", " << objective.shape_nuisances() << " shape and "
              << ia.normalisations.size() << " normalisation nuisances; " << data.train.rows()
              << " training and " << data.validation.rows() << " validation events\n"
              << net.describe();
  const History& history = ctx.train(trainer);
  io::ModelFile<float> model = classifier_model_file(
      net, c, data, ctx.provenance(trainer, history, data.train.rows(), data.validation.rows()));
  for (Index k = 0; k < ia.outputs; ++k)
    model.outputs[static_cast<std::size_t>(k)] = "bin_" + std::to_string(k);
  // No binary score here (output 1 is one bin's probability): sigma(mu) instead of AUC and AMS.
  nlohmann::json summary =
      write_model_and_predictions(ctx, data, model, trainer, history, {}, BinaryScore::absent);
  if (data.validation.rows() > 0) {
    const auto [soft, hard] = objective.evaluate(net, data.validation, Part::validation);
    summary["validation_sigma_mu"] = std::sqrt(soft);
    summary["validation_sigma_mu_hard"] = std::sqrt(hard);
    if (!ctx.quiet())
      ctx.out() << "validation: " << data.validation.rows() << " held-out events, sigma(mu) "
                << std::sqrt(hard) << " (arg-max bins, the binned fit's) and " << std::sqrt(soft)
                << " (soft counts, the loss's)\n";
  }
  if (data.validation.rows() > 0) {
    const auto [held_out, used] = inference_aware_held_out(net, data, variations, ia, c.data.columns.weight);
    WorkspaceOptions wo;
    wo.signal_class = ia.signal_class;
    wo.expected_yields = {{ia.signal_class, ia.expected_signal},
                          {1 - ia.signal_class, ia.expected_background}};
    for (Index k = 0; k < data.classes; ++k)
      wo.class_names.push_back(class_name(c.data.columns.label_classes, k));
    stats::Workspace ws = held_out_workspace(held_out, used, wo);
    for (const auto& n : ia.normalisations) {
      stats::ModifierSpec m = modifier(n.name, "normsys");
      m.hi = 1.0 + n.relative;
      m.lo = 1.0 / (1.0 + n.relative);
      for (auto& sample : ws.channels[0].samples)
        if (sample.name == wo.class_names[static_cast<std::size_t>(n.cls)]) sample.modifiers.push_back(m);
    }
    ws.json = stats::to_json(ws);
    const auto path = write_run_workspace(ctx, ws);
    summary["workspace"] = path.string();
    if (!ctx.quiet())
      ctx.out() << "workspace: " << path.string() << " (arg-max of " << ia.outputs
                << " outputs; `agnostic fit " << path.string() << " --asimov` gives sigma(mu))\n";
  }
  return ctx.finish(summary);
}

}  // namespace agnostic::train
