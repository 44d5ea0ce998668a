#pragma once
// "method": "adnn": the two-step adversarial network of Camaiani et al. (arXiv:2207.09293) (train/adnn.hpp)
// from a config. The classifier is model.hidden layers with one softmax output per class; the adversary
// (adnn.adversary_hidden, activation as model.activation) reads the classifier's last hidden layer
// (or its softmax output) and predicts the domain (data.domain) of events of adnn.adversary_class.
// The domain of events of other classes is never read. Epochs: adnn.pretrain_classifier_epochs,
// then adnn.pretrain_adversary_epochs, then training.epochs game epochs; early stopping and the
// best epoch only look at the game epochs, and watch training.early_stopping.figure: mean_ks (the
// default) among the epochs whose validation_loss, L(C), is near its lowest (train/stopping.hpp), or
// validation_loss. model.json holds the classifier (agnostic predict works
// as for any model) and the adversary under agnostic.branches; predictions.csv gains a "domain"
// column (the domain index of adversary-class events, empty for the others).
#include <memory>
#include <string>
#include <vector>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/nn/model_network.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/train/adnn.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/make_optimiser.hpp"
#include "agnostic/train/methods/classifier.hpp"
#include "agnostic/train/prepared_data.hpp"
#include "agnostic/train/run_context.hpp"
#include "agnostic/train/run_outputs.hpp"
#include "agnostic/train/strength_schedule.hpp"
#include "agnostic/train/trainer.hpp"

namespace agnostic::train {

// The "adnn" section (docs/config.md, "adnn"). Its numeric defaults are AdnnOptions', so that a
// config and a C++ user who leave a key out get the same.
struct AdnnConfig {
  double alpha = adversarial::AdnnOptions{}.alpha.final_value;
  std::string alpha_schedule = "constant";
  Index adversary_class = adversarial::AdnnOptions{}.adversary_class;
  std::vector<Index> adversary_hidden = {32, 32};
  std::string adversary_input = "penultimate";
  Index adversary_steps = adversarial::AdnnOptions{}.adversary_steps;
  Index pretrain_classifier_epochs = adversarial::AdnnOptions{}.pretrain_classifier_epochs;
  Index pretrain_adversary_epochs = adversarial::AdnnOptions{}.pretrain_adversary_epochs;
  std::string game_step = "alternating";
  std::string classifier_average = "none";
  double classifier_average_decay = adversarial::AdnnOptions{}.average_decay;
  // 0: A reads the classifier batch's adversary-class events
  Index adversary_batch_size = adversarial::AdnnOptions{}.adversary_batch_size;
  // 0: C's penalty -alpha L(A) on the classifier batch's adversary-class events
  Index penalty_batch_size = adversarial::AdnnOptions{}.penalty_batch_size;
  OptimiserConfig adversary_optimiser;  // default: a copy of the config's "optimiser"
};

// Reads and checks the "adnn" section of a config whose method is "adnn"; every error names the
// config file, the key, the value and what is allowed.
AGNOSTIC_COMPILED_WHEN_USED
inline AdnnConfig adnn_config(const TrainConfig& c) {
  const nlohmann::json& section = required_method_section(
      c, "adnn", "{\"adversary_class\": <the class whose events train the adversary>}");
  const ConfigSection s(
      section, "adnn", c.source,
      {"alpha", "alpha_schedule", "adversary_class", "adversary_hidden", "adversary_input", "adversary_steps",
       "pretrain_classifier_epochs", "pretrain_adversary_epochs", "adversary_optimiser", "game_step",
       "classifier_average", "classifier_average_decay", "adversary_batch_size", "penalty_batch_size"});
  AdnnConfig a;
  a.alpha = s.number("alpha", a.alpha, 0.0, 1e6);
  a.alpha_schedule = s.choice("alpha_schedule", a.alpha_schedule, {"constant", "linear", "ganin"});
  if (!s.has("adversary_class"))
    s.fail_at(s.child("adversary_class"),
              "is missing; give the class whose events train the adversary (its index, or its value in "
              "'data.label_classes')");
  const nlohmann::json& cls = s.raw("adversary_class");
  if (cls.is_string()) {
    const auto& classes = c.data.columns.label_classes;
    const auto found = classes.find(cls.get<std::string>());
    if (found == classes.end()) {
      std::string names;
      for (const auto& [value, k] : classes) names += (names.empty() ? "\"" : ", \"") + value + "\"";
      s.fail_at(s.child("adversary_class"), "is ", cls.dump(),
                ", which is not a value of 'data.label_classes' (",
                names.empty() ? std::string("none given") : names, "); give a class index or one of them");
    }
    a.adversary_class = found->second;
  } else {
    a.adversary_class = s.integer("adversary_class", 1, 0, 1000000);
  }
  a.adversary_hidden = s.widths("adversary_hidden", a.adversary_hidden);
  a.adversary_input = s.choice("adversary_input", a.adversary_input, {"penultimate", "output"});
  a.adversary_steps = s.integer("adversary_steps", a.adversary_steps, 1, 1000);
  a.pretrain_classifier_epochs = s.integer("pretrain_classifier_epochs", a.pretrain_classifier_epochs, 0);
  a.pretrain_adversary_epochs = s.integer("pretrain_adversary_epochs", a.pretrain_adversary_epochs, 0);
  a.game_step = s.choice("game_step", a.game_step, {"alternating", "gradient_reversal"});
  a.classifier_average =
      s.choice("classifier_average", a.classifier_average, {"none", "uniform", "exponential"});
  if (s.has("classifier_average_decay") && a.classifier_average != "exponential")
    s.fail_at(s.child("classifier_average_decay"), "is given but '", s.child("classifier_average"), "' is \"",
              a.classifier_average, "\"; the decay is read with \"exponential\" only");
  a.classifier_average_decay =
      s.number("classifier_average_decay", a.classifier_average_decay, 0.0, 1.0, /*lo_open=*/true);
  if (a.classifier_average_decay >= 1.0)
    s.fail_at(s.child("classifier_average_decay"), "is ", s.raw("classifier_average_decay").dump(),
              "; expected a number in (0, 1) (1 would never move the average)");
  a.adversary_batch_size = s.integer("adversary_batch_size", a.adversary_batch_size, 0, 100000000);
  a.penalty_batch_size = s.integer("penalty_batch_size", a.penalty_batch_size, 0, 100000000);
  a.adversary_optimiser =
      s.has("adversary_optimiser") ? optimiser_config(s, "adversary_optimiser") : c.optimiser;
  if (c.data.columns.domain.empty())
    fail("config '", c.source,
         "': key 'data.domain' is missing; method \"adnn\" needs the domain (signal model) of each event of "
         "adnn.adversary_class");
  return a;
}

// The scheme's options as the config sets them.
AGNOSTIC_COMPILED_WHEN_USED
inline adversarial::AdnnOptions adnn_options(const TrainConfig& c, const AdnnConfig& a) {
  adversarial::AdnnOptions o;
  o.alpha = adversarial::StrengthSchedule(a.alpha_schedule, a.alpha);
  o.adversary_class = a.adversary_class;
  o.adversary_input = adversarial::parse_adversary_input(a.adversary_input);
  o.adversary_steps = a.adversary_steps;
  o.game_step = adversarial::parse_game_step(a.game_step);
  o.classifier_average = adversarial::parse_classifier_average(a.classifier_average);
  o.average_decay = a.classifier_average_decay;
  o.adversary_batch_size = a.adversary_batch_size;
  o.penalty_batch_size = a.penalty_batch_size;
  o.pretrain_classifier_epochs = a.pretrain_classifier_epochs;
  o.pretrain_adversary_epochs = a.pretrain_adversary_epochs;
  o.game_epochs = std::max<Index>(1, c.training.epochs);
  o.batch_size = c.training.batch_size;
  return o;
}

AGNOSTIC_COMPILED_WHEN_USED
inline RunResult run_adnn(const TrainConfig& config, const RunOptions& options = {}) {
  const AdnnConfig a = adnn_config(config);  // before anything is written
  TrainConfig c = config;
  c.loss = "categorical_cross_entropy";
  c.model.softmax_output = true;
  RunContext ctx(config, options);
  const PreparedData<float> data =
      prepare_data<float>(c, DataRequest{.unlabelled_domain = std::nullopt,
                                         .domain_only_for_class = a.adversary_class,
                                         .domains_required = true,
                                         .method = "adnn"});
  require(a.adversary_class < data.classes, "config '", c.source, "': key 'adnn.adversary_class' is ",
          a.adversary_class, " but the label column '", c.data.columns.label, "' has ", data.classes,
          " classes (0 to ", data.classes - 1, ")");
  Index domains = 0;
  for (std::size_t r = 0; r < data.domains.size(); ++r)
    if (data.labels[r] == a.adversary_class) domains = std::max(domains, data.domains[r] + 1);
  for (const auto& [value, k] : c.data.columns.domain_classes) domains = std::max(domains, k + 1);
  require(domains >= 2, "config '", c.source, "': the events of adnn.adversary_class ", a.adversary_class,
          " all have domain 0 in column '", c.data.columns.domain,
          "'; the adversary needs two or more domains (signal models)");

  Sequential<float> classifier = classifier_network(c, data, data.classes);
  const adversarial::AdnnOptions o = adnn_options(c, a);
  std::vector<Index> sizes{adversarial::adversary_input_width(classifier, o.adversary_input)};
  sizes.insert(sizes.end(), a.adversary_hidden.begin(), a.adversary_hidden.end());
  sizes.push_back(domains);
  Rng init(c.training.seed + 1);
  Sequential<float> adversary(sizes, c.model.activation, Activation::identity(), init, c.model.init,
                              "adversary");

  const auto classifier_optimiser = make_optimiser(c.optimiser, classifier.parameters());
  const auto adversary_optimiser = make_optimiser(a.adversary_optimiser, adversary.parameters());
  adversarial::AdnnScheme<float> scheme(classifier, adversary, *classifier_optimiser, *adversary_optimiser,
                                        data.train, data.validation.rows() > 0 ? &data.validation : nullptr,
                                        o);
  TrainerOptions to = ctx.trainer_options();
  const bool validated = data.validation.rows() > 0;
  const std::string classifier_loss = validated ? "validation_loss" : "training_set_classifier_loss";
  if (c.training.early_stopping.figure == "validation_loss") {
    to.monitor = classifier_loss;
  } else {  // mean_ks, the default, with the classifier's loss as the constraint
    to.monitor = "mean_ks";
    to.constraint = LossConstraint{classifier_loss};
  }
  to.warmup_epochs = scheme.warmup_epochs();
  to.stopping.max_epochs = scheme.total_epochs();
  if (c.training.epochs == 0) to.stopping.max_epochs = scheme.warmup_epochs();
  to.stopping.min_epochs = std::min(to.stopping.min_epochs, to.stopping.max_epochs);
  Trainer<float> trainer(scheme, to);
  if (!ctx.quiet())
    ctx.out() << "agnostic train (adnn): " << data.train.rows() << " training and " << data.validation.rows()
              << " validation events, " << data.standardisation.size() << " inputs, " << data.classes
              << " classes, " << domains << " domains of class " << a.adversary_class << "; "
              << o.pretrain_classifier_epochs << " + " << o.pretrain_adversary_epochs
              << " pre-training epochs, then " << c.training.epochs << " game epochs (alpha " << a.alpha
              << ", " << a.alpha_schedule << ", " << a.adversary_steps << " adversary steps per batch)\n"
              << classifier.describe() << adversary.describe();
  const History& history = ctx.train(trainer);

  io::ModelFile<float> model = classifier_model_file(
      classifier, c, data, ctx.provenance(trainer, history, data.train.rows(), data.validation.rows()));
  io::ModelBranch<float> branch;
  branch.name = "adversary";
  branch.input_layer = static_cast<Index>(adversarial::adversary_tap(classifier, o.adversary_input)) + 1;
  branch.layers = io::dense_weights(adversary, io::LayerActivation::softmax_over_outputs());
  for (Index k = 0; k < domains; ++k) branch.outputs.push_back(class_name(c.data.columns.domain_classes, k));
  model.branches.push_back(std::move(branch));

  HeldOutColumns columns;
  std::vector<std::string> domain_column;
  for (Index r : data.split.validation) {
    const auto i = static_cast<std::size_t>(r);
    domain_column.push_back(data.labels[i] == a.adversary_class ? std::to_string(data.domains[i]) : "");
  }
  columns.extra.emplace_back("domain", std::move(domain_column));
  nlohmann::json summary =
      write_model_and_predictions(ctx, data, model, trainer, history, std::move(columns));
  summary["pretraining_epochs"] = scheme.warmup_epochs();
  // The monitors of the epoch whose weights the model holds (the best game epoch, or the last).
  const Index held = to.restore_best && history.best_epoch > 0 ? history.best_epoch : trainer.epoch();
  for (const EpochRecord& e : history.epochs)
    if (e.epoch == held)
      for (const char* key : {"mean_ks", "adversary_accuracy"})
        if (e.figures.count(key)) summary[std::string("model_") + key] = e.figures.at(key);
  return ctx.finish(std::move(summary));
}

}  // namespace agnostic::train
