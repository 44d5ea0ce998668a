#pragma once
// "method": "dann": domain-adversarial training (Clavijo et al., arXiv:2005.00568) of the classifier of
// model.hidden, with the section "dann" (docs/config.md):
//   source_domain (0), target_domain (1)     domain values after data.domain_classes
//   lambda (1), lambda_schedule ("ganin")    final lambda and its schedule (constant, linear, ganin)
//   setup ("A")                              A: softmax domain classifier; B: linear output, -y/+y loss
//   domain_hidden ([20, 35, 50])             the domain head's hidden widths (model.activation)
//   domain_weights ("match_target")          or "none"; match_target needs target_signal_fraction
//   target_signal_fraction                   the target sample's expected signal (class 1) fraction
//   target_fraction_in_batch (0.5)           target events' share of training.batch_size
// model.hidden is the feature extractor F, its last hidden layer the representation that both
// heads read; the output layer is the label head. Target events' labels are never read. Outputs as
// the classifier's, with model.json holding F + label head (the domain head under
// agnostic.branches) and predictions.csv holding the held-out events of both domains with a
// `domain` column (a target event's label as found in the file). The best epoch and early stopping
// watch training.early_stopping.figure: ks_source_target (the default) among the epochs whose
// source label loss is near its lowest (train/stopping.hpp), or validation_loss.
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/nn/model_network.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/dann.hpp"
#include "agnostic/train/make_optimiser.hpp"
#include "agnostic/train/methods/classifier.hpp"
#include "agnostic/train/prepared_data.hpp"
#include "agnostic/train/run_context.hpp"
#include "agnostic/train/run_outputs.hpp"
#include "agnostic/train/trainer.hpp"

namespace agnostic::train {

struct DannConfig {
  Index source_domain = 0;
  Index target_domain = 1;
  double lambda = 1.0;
  std::string lambda_schedule = "ganin";
  std::string setup = "A";
  std::vector<Index> domain_hidden = {20, 35, 50};
  std::string domain_weights = "match_target";
  std::optional<double> target_signal_fraction;
  double target_fraction_in_batch = 0.5;
};

// The "dann" section of a config with method "dann" (absent: every default, which fails for want
// of target_signal_fraction). Errors name the file, the key, the value and what is allowed.
AGNOSTIC_COMPILED_WHEN_USED
inline DannConfig dann_config(const TrainConfig& c) {
  static const nlohmann::json empty = nlohmann::json::object();
  const auto it = c.sections.find("dann");
  const ConfigSection s(
      it != c.sections.end() ? it->second : empty, "dann", c.source,
      {"source_domain", "target_domain", "lambda", "lambda_schedule", "setup", "domain_hidden",
       "domain_weights", "target_signal_fraction", "target_fraction_in_batch"});
  DannConfig d;
  d.source_domain = s.integer("source_domain", 0, 0);
  d.target_domain = s.integer("target_domain", 1, 0);
  if (d.source_domain == d.target_domain)
    s.fail_at("dann.target_domain", "is ", d.target_domain,
              ", the same as dann.source_domain; the two domains", " must differ");
  d.lambda = s.number("lambda", 1.0, 0.0, 1e6);
  d.lambda_schedule = s.choice("lambda_schedule", "ganin", {"constant", "linear", "ganin"});
  d.setup = s.choice("setup", "A", {"A", "B"});
  d.domain_hidden = s.widths("domain_hidden", d.domain_hidden);
  d.domain_weights = s.choice("domain_weights", "match_target", {"match_target", "none"});
  if (s.has("target_signal_fraction"))
    d.target_signal_fraction = s.number("target_signal_fraction", 0.5, 0.0, 1.0, true);
  if (d.target_signal_fraction && *d.target_signal_fraction >= 1.0)
    s.fail_at("dann.target_signal_fraction", "is ", *d.target_signal_fraction,
              "; expected a number in (0, 1): the target must hold signal and background");
  if (d.domain_weights == "match_target" && !d.target_signal_fraction)
    s.fail_at(
        "dann.target_signal_fraction",
        "is missing; with \"domain_weights\": \"match_target\" (the default) it is required: the expected "
        "signal (class 1) fraction of the target sample, a number in (0, 1); or set \"domain_weights\": "
        "\"none\"");
  if (d.domain_weights == "none" && d.target_signal_fraction)
    s.fail_at("dann.target_signal_fraction", "is given but \"domain_weights\" is \"none\"; remove it or use ",
              "\"match_target\"");
  d.target_fraction_in_batch = s.number("target_fraction_in_batch", 0.5, 0.0, 1.0, true);
  if (d.target_fraction_in_batch >= 1.0)
    s.fail_at("dann.target_fraction_in_batch", "is ", d.target_fraction_in_batch,
              "; expected a number in (0, 1): each batch needs source and target events");
  if (c.model.hidden.empty() && c.model.start_from.empty())
    s.fail_at("dann", "needs a feature extractor: 'model.hidden' is empty; give it at least one layer (its ",
              "last hidden layer is the representation that the label and domain heads read)");
  if (c.training.batch_size < 2)
    s.fail_at("dann", "needs 'training.batch_size' >= 2 (it counts the events of both domains), got ",
              c.training.batch_size);
  return d;
}

namespace dann_detail {

// A cell as the file holds it: the text of a text column; a number written back in its shortest
// form (an empty field, read as NaN, stays empty).
AGNOSTIC_COMPILED_WHEN_USED
inline std::string as_found(const io::Table& table, const std::string& column, Index row) {
  if (table.has_text_column(column)) return table.text_column(column)[static_cast<std::size_t>(row)];
  const double v = table.column(column)[static_cast<std::size_t>(row)];
  if (std::isnan(v)) return "";
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;
  return std::string(buffer, end);
}

}  // namespace dann_detail

AGNOSTIC_COMPILED_WHEN_USED
inline RunResult run_dann(const TrainConfig& c, const RunOptions& options = {}) {
  const DannConfig d = dann_config(c);  // before anything is written
  RunContext ctx(c, options);
  DataRequest request;
  request.unlabelled_domain = d.target_domain;
  request.domains_required = true;
  request.method = "dann";
  PreparedData<float> data = prepare_data<float>(c, request);
  // data.balance_classes: balanced over the source events only (the target's labels are unknown).
  if (c.data.balance_classes) {
    auto rebalance = [&](Dataset<float>& part, const io::SelectedColumns<float>& raw) {
      if (part.rows() == 0) return;
      const Vector<float> w = c.data.weights_in_loss ? raw.weights : Vector<float>::Ones(raw.weights.size());
      const Vector<float> balanced =
          balanced_class_weights(part.labels, w, part.classes, &part.domains, d.source_domain);
      for (Index i = 0; i < part.rows(); ++i)
        part.weights(i) = part.domains[static_cast<std::size_t>(i)] == d.source_domain ? balanced(i) : w(i);
    };
    rebalance(data.train, data.train_part);
    rebalance(data.validation, data.validation_part);
  }
  const Index n_outputs = c.model.softmax_output ? data.classes : 1;
  Sequential<float> net = classifier_network(c, data, n_outputs);
  require(net.size() >= 2, "dann: model.start_from '", c.model.start_from,
          "' has no hidden layer; the feature extractor needs one");
  const Index width = net.layer(net.size() - 2).output_size();
  std::vector<Index> sizes{width};
  sizes.insert(sizes.end(), d.domain_hidden.begin(), d.domain_hidden.end());
  sizes.push_back(d.setup == "A" ? 2 : 1);
  Rng domain_init(c.training.seed + 0x9e3779b97f4a7c15ULL);
  Sequential<float> domain(sizes, c.model.activation, Activation::identity(), domain_init, c.model.init,
                           "domain");
  ParameterGroup<float> group("dann");
  group.add(net.parameters());
  group.add(domain.parameters());
  const auto optimiser = make_optimiser(c.optimiser, group);
  adversarial::DannOptions o;
  o.source_domain = d.source_domain;
  o.target_domain = d.target_domain;
  o.lambda = adversarial::StrengthSchedule(d.lambda_schedule, d.lambda);
  o.epochs = c.training.epochs;
  o.setup = d.setup == "A" ? adversarial::DannSetup::A : adversarial::DannSetup::B;
  o.batch_size = c.training.batch_size;
  o.target_fraction_in_batch = d.target_fraction_in_batch;
  o.target_signal_fraction = d.target_signal_fraction;
  adversarial::DannScheme<float> scheme(net, domain, *optimiser, data.train,
                                        data.validation.rows() > 0 ? &data.validation : nullptr, o);
  TrainerOptions to = ctx.trainer_options();
  const bool validated = data.validation.rows() > 0;
  if (c.training.early_stopping.figure == "validation_loss") {
    to.monitor = validated ? "validation_loss" : "train_label_loss";
  } else {  // ks_source_target, the default, with the source label loss as the constraint
    to.monitor = "ks_source_target";
    to.constraint = LossConstraint{validated ? "validation_loss" : "train_label_loss"};
  }
  Trainer<float> trainer(scheme, to);
  if (!ctx.quiet())
    ctx.out() << "agnostic train (dann): " << data.train.rows() << " training and " << data.validation.rows()
              << " validation events of both domains, " << data.standardisation.size() << " inputs, "
              << data.classes << " classes; lambda " << d.lambda << " (" << d.lambda_schedule << "), set-up "
              << d.setup << ", domain weights " << d.domain_weights << "\n"
              << net.describe() << domain.describe();
  const History& history = ctx.train(trainer);
  io::ModelFile<float> model = classifier_model_file(
      net, c, data, ctx.provenance(trainer, history, data.train.rows(), data.validation.rows()));
  io::ModelBranch<float> branch;
  branch.name = "domain";
  branch.input_layer = static_cast<Index>(net.size()) - 1;  // 1-based: the last hidden layer
  branch.layers =
      io::dense_weights(domain, d.setup == "A" ? io::LayerActivation::softmax_over_outputs()
                                               : io::LayerActivation{Activation::identity(), false});
  branch.outputs = d.setup == "A" ? std::vector<std::string>{"source", "target"}
                                  : std::vector<std::string>{"domain_output"};
  model.branches.push_back(std::move(branch));

  // predictions.csv: the held-out events of both domains; a target event's label as in the file.
  HeldOutColumns columns;
  std::vector<std::string> domain_text;
  for (Index r : data.split.validation) {
    const auto u = static_cast<std::size_t>(r);
    columns.label_text.push_back(data.labelled[u]
                                     ? std::to_string(data.labels[u])
                                     : dann_detail::as_found(data.table, c.data.columns.label, r));
    domain_text.push_back(std::to_string(data.domains[u]));
  }
  columns.extra.emplace_back("domain", std::move(domain_text));
  nlohmann::json summary =
      write_model_and_predictions(ctx, data, model, trainer, history, std::move(columns));
  // Source-only held-out figures (write_model_and_predictions skips them: target labels are unread).
  if (!history.epochs.empty()) {
    const EpochRecord& last = history.epochs.back();
    nlohmann::json dann = nlohmann::json::object();
    for (const char* key : {"validation_auc", "domain_accuracy", "ks_source_target", "lambda"})
      if (last.figures.count(key)) dann[key] = last.figures.at(key);
    summary["dann"] = dann;
  }
  return ctx.finish(std::move(summary));
}

}  // namespace agnostic::train
