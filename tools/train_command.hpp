#pragma once
// `agnostic train CONFIG.json [--out DIR] [--resume] [--data FILE]...`: trains a classifier as the
// config says (docs/config.md) and writes into the output directory:
//   model.json        the network with its standardisation and missing-value rules (docs/model-format.md)
//   history.json      every epoch's figures, rollbacks, the best epoch and why training stopped
//   checkpoint.json   everything needed to continue with --resume (written atomically every epoch)
//   predictions.csv   the held-out (validation) events: label, weight, score
//   summary.json      validation AUC and the AMS at the best cut
//   config.json       the config as used (a resumed run must use the same)
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/core/threads.hpp"
#include "agnostic/io/column_selection.hpp"
#include "agnostic/io/missing_values.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/io/standardisation.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/optim/adam.hpp"
#include "agnostic/optim/adamw.hpp"
#include "agnostic/optim/rmsprop.hpp"
#include "agnostic/optim/sgd.hpp"
#include "agnostic/stats/ams.hpp"
#include "agnostic/stats/roc.hpp"
#include "agnostic/train/atomic_file.hpp"
#include "agnostic/train/classifier.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/dataset.hpp"
#include "agnostic/train/event_weights.hpp"
#include "agnostic/train/trainer.hpp"
#include "command_io.hpp"

namespace agnostic::tools {

inline constexpr const char* kTrainUsage =
    R"(usage: agnostic train CONFIG.json [--out DIR] [--resume] [--data FILE]...

Trains a classifier as CONFIG.json says (docs/config.md) and writes model.json, history.json,
checkpoint.json, predictions.csv (held-out events: label,weight,score) and summary.json into the
output directory.

options:
  --out DIR      output directory (overrides output.directory of the config)
  --resume       continue from DIR/checkpoint.json (same config; the result is bit for bit that
                 of an uninterrupted run with the same thread count)
  --data FILE    read FILE instead of the config's data.files (repeat for several files)
)";

namespace train_command_detail {

namespace fs = std::filesystem;

inline std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// Name of class `index` from the mapping (value -> index), or "class_<index>".
inline std::string class_name(const std::map<std::string, Index>& classes, Index index) {
  for (const auto& [value, k] : classes)
    if (k == index) return value;
  return "class_" + std::to_string(index);
}

inline std::unique_ptr<Optimiser<float>> make_optimiser(const train::OptimiserConfig& o,
                                                        ParameterGroup<float> group) {
  if (o.name == "sgd")
    return std::make_unique<SGD<float>>(std::move(group), SGDOptions{.lr = o.learning_rate,
                                                                     .momentum = o.momentum,
                                                                     .dampening = 0.0,
                                                                     .nesterov = o.nesterov,
                                                                     .l2 = o.l2,
                                                                     .clip = o.clip,
                                                                     .schedule = o.schedule});
  if (o.name == "rmsprop")
    return std::make_unique<RMSProp<float>>(std::move(group), RMSPropOptions{.lr = o.learning_rate,
                                                                             .rho = o.rho,
                                                                             .eps = o.epsilon,
                                                                             .momentum = o.momentum,
                                                                             .centred = o.centred,
                                                                             .l2 = o.l2,
                                                                             .clip = o.clip,
                                                                             .schedule = o.schedule});
  if (o.name == "adamw")
    return std::make_unique<AdamW<float>>(std::move(group), AdamWOptions{.lr = o.learning_rate,
                                                                         .beta1 = o.beta1,
                                                                         .beta2 = o.beta2,
                                                                         .eps = o.epsilon,
                                                                         .weight_decay = o.weight_decay,
                                                                         .clip = o.clip,
                                                                         .schedule = o.schedule});
  return std::make_unique<Adam<float>>(std::move(group), AdamOptions{.lr = o.learning_rate,
                                                                     .beta1 = o.beta1,
                                                                     .beta2 = o.beta2,
                                                                     .eps = o.epsilon,
                                                                     .l2 = o.l2,
                                                                     .weight_decay = o.weight_decay,
                                                                     .clip = o.clip,
                                                                     .schedule = o.schedule});
}

// The config as it is used (data files resolved, --data and --out applied), for the copy in the
// output directory and the resume check.
inline nlohmann::json effective_config(const train::TrainConfig& c) {
  nlohmann::json j = c.original;
  j["data"]["files"] = c.data.files;
  if (!c.model.start_from.empty()) j["model"]["start_from"] = c.model.start_from;
  j.erase("output");  // where the outputs go does not change the training
  return j;
}

}  // namespace train_command_detail

inline int run_train(int argc, char** argv) {
  namespace fs = std::filesystem;
  using namespace train_command_detail;
  const ParsedArguments args = parse_arguments(argc, argv, {"--out", "--data"}, {"--resume"});
  if (args.help) {
    std::cout << kTrainUsage;
    return 0;
  }
  require(args.positional.size() == 1, "expected one config file, got ", args.positional.size(),
          " arguments\n", kTrainUsage);
  train::TrainConfig c = train::read_config(args.positional[0]);
  if (!args.all("--data").empty()) c.data.files = args.all("--data");
  if (!args.value("--out").empty()) c.output.directory = args.value("--out");
  const bool resume = args.flag("--resume");
  const bool quiet = c.output.progress == "silent";
  if (c.training.threads > 0) set_threads(c.training.threads);

  const fs::path dir = c.output.directory;
  fs::create_directories(dir);
  const fs::path checkpoint = dir / c.output.checkpoint, config_copy = dir / "config.json";
  const nlohmann::json effective = effective_config(c);
  if (resume) {
    require(fs::exists(checkpoint), "--resume: there is no checkpoint '", checkpoint.string(),
            "'; run without --resume to start afresh");
    if (fs::exists(config_copy)) {
      const nlohmann::json before = nlohmann::json::parse(train::read_file(config_copy));
      require(before == effective,
              "--resume: the config differs from the one the checkpoint was written with ('",
              config_copy.string(), "'); resume with the same config, or start afresh without --resume");
    }
  } else {
    train::write_file_atomically(config_copy, effective.dump(1) + "\n");
  }

  // Data: labels of every row, the split, then the features of each part.
  const io::Table table = read_tables(c.data.files);
  std::vector<Index> all_rows(static_cast<std::size_t>(table.n_rows()));
  for (std::size_t i = 0; i < all_rows.size(); ++i) all_rows[i] = static_cast<Index>(i);
  require(table.n_rows() > 0, "the data files hold no events");
  const std::vector<Index> labels = io::selection_detail::class_indices(
      table, c.data.columns.label, c.data.columns.label_classes, all_rows, "label");
  Index classes = 0;
  for (const auto& [value, k] : c.data.columns.label_classes) classes = std::max(classes, k + 1);
  for (Index y : labels) classes = std::max(classes, y + 1);
  require(classes >= 2, "the label column '", c.data.columns.label,
          "' holds a single class; a classifier needs two or more");
  require(c.loss != "binary_cross_entropy" || classes == 2,
          "loss binary_cross_entropy needs two classes but label '", c.data.columns.label, "' has ", classes,
          "; set \"loss\": \"categorical_cross_entropy\"");

  const train::SplitRows split = train::split_rows(
      labels, {c.data.validation_fraction, c.data.split_seed.value_or(c.training.seed), c.data.stratify});
  require(!split.train.empty(), "no training events left after the split");

  std::optional<io::ModelFile<float>> start;
  if (!c.model.start_from.empty()) start = io::read_model<float>(c.model.start_from);
  io::MissingValueRules rules;
  if (start)
    rules = start->missing_values;
  else if (c.data.missing)
    rules = io::fit_missing_values(table, c.data.columns.features, *c.data.missing, split.train);
  if (start) {
    require(start->feature_names() == c.data.columns.features, "model.start_from '", c.model.start_from,
            "' takes the features ", io::Standardisation{start->feature_names(), {}, {}}.describe(),
            " but data.features lists ", io::Standardisation{c.data.columns.features, {}, {}}.describe());
  }
  io::SelectedColumns<float> train_part =
      io::select_columns<float>(table, c.data.columns, rules, split.train);
  io::SelectedColumns<float> validation_part =
      io::select_columns<float>(table, c.data.columns, rules, split.validation);

  io::Standardisation standardisation;
  if (start) {
    standardisation = start->inputs;
  } else if (c.data.standardise) {
    standardisation = io::fit_standardisation(train_part.features, train_part.feature_names);
  } else {
    standardisation.names = train_part.feature_names;
    standardisation.offset.assign(train_part.feature_names.size(), 0.0);
    standardisation.scale.assign(train_part.feature_names.size(), 1.0);
  }
  require(standardisation.names == train_part.feature_names, "the inputs of model.start_from (",
          standardisation.describe(), ") are not the inputs these data give (",
          io::Standardisation{train_part.feature_names, {}, {}}.describe(), ")");

  auto dataset = [&](const io::SelectedColumns<float>& part) {
    // Without weights_in_loss the weight column only weights the final AUC and AMS.
    Vector<float> w = c.data.weights_in_loss ? part.weights : Vector<float>::Ones(part.weights.size());
    train::Dataset<float> d(standardisation.applied(part.features), part.labels, std::move(w), part.domains,
                            classes);
    if (c.data.balance_classes && d.rows() > 0)
      d.weights = train::balanced_class_weights(d.labels, d.weights, classes);
    return d;
  };
  const train::Dataset<float> train_set = dataset(train_part);
  const train::Dataset<float> validation_set = dataset(validation_part);

  // The network: outputs logits (one for two classes with a sigmoid, else one per class).
  const bool softmax = c.model.softmax_output;
  const Index n_outputs = softmax ? classes : 1;
  Sequential<float> net("classifier");
  if (start) {
    net = io::to_sequential(start->layers, true, "classifier");
    require(net.output_size() == n_outputs, "model.start_from '", c.model.start_from, "' has ",
            net.output_size(), " outputs but this config needs ", n_outputs);
  } else {
    std::vector<Index> sizes{standardisation.size()};
    sizes.insert(sizes.end(), c.model.hidden.begin(), c.model.hidden.end());
    sizes.push_back(n_outputs);
    Rng init(c.training.seed);
    net = Sequential<float>(sizes, c.model.activation, Activation::identity(), init, c.model.init,
                            "classifier");
  }
  const auto optimiser = make_optimiser(c.optimiser, net.parameters());
  train::ClassifierScheme<float> scheme(net, *optimiser, train_set,
                                        validation_set.rows() > 0 ? &validation_set : nullptr,
                                        {.batch_size = c.training.batch_size});

  train::TrainerOptions options;
  const auto& es = c.training.early_stopping;
  options.stopping.max_epochs = c.training.epochs;
  if (es.enabled) {
    options.stopping.min_epochs = std::min(es.min_epochs, c.training.epochs);
    options.stopping.patience = train::PatienceRule{es.patience, es.min_delta};
    if (es.running_average_window)
      options.stopping.running_average =
          train::RunningAverageRule{*es.running_average_window, es.running_average_relative};
  }
  options.restore_best = es.enabled && es.restore_best;
  options.on_non_finite =
      c.training.rollback_on_non_finite ? train::NonFinitePolicy::rollback : train::NonFinitePolicy::stop;
  options.rollback_epochs = c.training.rollback_epochs;
  options.rollback_factor = c.training.rollback_learning_rate_factor;
  options.max_rollbacks = c.training.max_rollbacks;
  options.seed = c.training.seed;
  options.checkpoint = checkpoint;
  options.history = dir / c.output.history;
  options.verbosity = quiet ? train::Verbosity::silent : train::Verbosity::epochs;
  train::Trainer<float> trainer(scheme, options);
  if (!quiet)
    std::cout << "agnostic train: " << train_set.rows() << " training and " << validation_set.rows()
              << " validation events, " << standardisation.size() << " inputs, " << classes << " classes\n"
              << net.describe();
  const train::History& history = resume ? trainer.resume(checkpoint) : trainer.fit();

  // The model file.
  io::ModelFile<float> model;
  model.inputs = standardisation;
  model.layers = io::dense_weights(net, softmax ? io::LayerActivation::softmax_over_outputs()
                                                : io::LayerActivation{Activation::sigmoid(), false});
  if (softmax)
    for (Index k = 0; k < classes; ++k) model.outputs.push_back(class_name(c.data.columns.label_classes, k));
  else
    model.outputs.push_back(class_name(c.data.columns.label_classes, 1));
  model.missing_values = rules;
  model.training = {{"date", utc_now()},
                    {"config", effective},
                    {"seed", c.training.seed},
                    {"epochs", trainer.epoch()},
                    {"best_epoch", history.best_epoch},
                    {"stop_reason", history.stop_reason},
                    {"training_events", train_set.rows()},
                    {"validation_events", validation_set.rows()},
                    {"threads", threads()},
                    {"resumed", resume}};
  const fs::path model_path = dir / c.output.model;
  io::write_model(model_path.string(), model);

  // Held-out events: label, physics weight, score(s), from the model file's own forward pass (the
  // numbers `agnostic predict` gives for the same events).
  nlohmann::json summary = {{"model", model_path.string()},
                            {"epochs", trainer.epoch()},
                            {"best_epoch", history.best_epoch},
                            {"stop_reason", history.stop_reason},
                            {"validation_events", validation_set.rows()}};
  if (validation_set.rows() > 0) {
    const Matrix<float> scores = io::predict(model, validation_part.features);
    std::vector<double> physics_weight(split.validation.size(), 1.0);
    if (!c.data.columns.weight.empty()) {
      const auto w = table.column(c.data.columns.weight);
      for (std::size_t k = 0; k < split.validation.size(); ++k)
        physics_weight[k] = w[static_cast<std::size_t>(split.validation[k])];
    }
    CsvColumns csv;
    std::vector<std::string> label_text, weight_text;
    for (std::size_t k = 0; k < split.validation.size(); ++k) {
      label_text.push_back(std::to_string(validation_part.labels[k]));
      weight_text.push_back(number_text(physics_weight[k]));
    }
    csv.add("label", std::move(label_text));
    csv.add("weight", std::move(weight_text));
    for (Index o = 0; o < scores.cols(); ++o) {
      std::vector<std::string> column;
      for (Index r = 0; r < scores.rows(); ++r) column.push_back(number_text(scores(r, o)));
      csv.add(softmax ? "score_" + model.outputs[static_cast<std::size_t>(o)] : std::string("score"),
              std::move(column));
    }
    csv.write((dir / c.output.predictions).string());

    if (classes == 2) {
      const Index n = scores.rows();
      Vector<double> s(n), y(n), w(n);
      for (Index r = 0; r < n; ++r) {
        s(r) = static_cast<double>(scores(r, softmax ? 1 : 0));
        y(r) = static_cast<double>(validation_part.labels[static_cast<std::size_t>(r)]);
        w(r) = physics_weight[static_cast<std::size_t>(r)];
      }
      const double auc = stats::roc_auc(s, y, w), auc_unweighted = stats::roc_auc(s, y);
      // The held-out events stand for the whole file: weights scaled by 1 / validation fraction.
      const double scale = static_cast<double>(table.n_rows()) / static_cast<double>(n);
      const stats::AmsCut cut = stats::best_ams_cut(s, y, Vector<double>(w * scale));
      summary["validation_auc"] = auc;
      summary["validation_auc_unweighted"] = auc_unweighted;
      summary["ams"] = {{"value", cut.ams},
                        {"threshold", cut.threshold},
                        {"signal", cut.signal},
                        {"background", cut.background},
                        {"weight_scale", scale}};
      std::cout << "validation: " << n << " held-out events, AUC " << auc << " (weighted; unweighted "
                << auc_unweighted << "), AMS " << cut.ams << " at score >= " << cut.threshold
                << " (s = " << cut.signal << ", b = " << cut.background << ", weights x " << scale << ")\n";
    }
  }
  train::write_file_atomically(dir / "summary.json", summary.dump(1) + "\n");
  if (!quiet)
    std::cout << "wrote " << model_path.string() << " and the other outputs in " << dir.string() << "\n";
  return 0;
}

}  // namespace agnostic::tools
