#pragma once
// PreparedData: a config's data made ready for training — the files read as one table, class
// labels (and domains) of every row, the seeded train/validation split, the missing-value rules
// and standardisation fitted on the training part (or taken from model.start_from), and the two
// parts as Datasets. Every method's run (train/methods/*.hpp) starts from it.
//
// Methods that must not read some labels or domains say so in a DataRequest:
//   - unlabelled_domain (DANN): the label of an event of this domain is never read — any value,
//     an empty field or a text outside data.label_classes is accepted; such events get label 0
//     in the Datasets and `labelled[row]` is false.
//   - domain_only_for_class (ADNN): the domain of an event is read only when its label is this
//     class; other events get domain 0.
// Domains are read whenever data.domain is set. With a request the split is stratified by domain
// and label together (unread labels count as one group per domain).
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/io/column_selection.hpp"
#include "agnostic/io/data_file.hpp"
#include "agnostic/io/missing_values.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/io/standardisation.hpp"
#include "agnostic/io/table.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/dataset.hpp"
#include "agnostic/train/event_weights.hpp"

namespace agnostic::train {

struct DataRequest {
  std::optional<Index> unlabelled_domain;      // DANN's target: labels never read
  std::optional<Index> domain_only_for_class;  // ADNN: domains read only for this class
  bool domains_required = false;               // data.domain must be set
  const char* method = "classifier";           // for messages
};

template <class T>
struct PreparedData {
  io::Table table;
  std::vector<Index> labels;   // every row; 0 where the label is not read
  std::vector<bool> labelled;  // every row; false where the label is not read
  std::vector<Index> domains;  // every row (empty without data.domain); 0 where not read
  Index classes = 0;
  SplitRows split;
  std::optional<io::ModelFile<float>> start;  // model.start_from
  io::MissingValueRules rules;
  io::Standardisation standardisation;
  // The parts' features after the missing-value rules but before standardisation (what a model
  // file's own forward pass takes), with their column weights (all 1 without data.weight).
  io::SelectedColumns<T> train_part, validation_part;
  Dataset<T> train, validation;  // standardised; weights as data.weights_in_loss/balance_classes say

  // The weight column (1 without one) of the validation events, in double, for the final metrics.
  std::vector<double> validation_physics_weights(const std::string& weight_column) const {
    std::vector<double> w(split.validation.size(), 1.0);
    if (weight_column.empty()) return w;
    const auto column = table.column(weight_column);
    for (std::size_t k = 0; k < w.size(); ++k) w[k] = column[static_cast<std::size_t>(split.validation[k])];
    return w;
  }
};

namespace prepared_detail {

template <class T>
io::SelectedColumns<T> part(const io::Table& table, const TrainConfig& c, const io::MissingValueRules& rules,
                            const std::vector<Index>& rows, const std::vector<Index>& labels,
                            const std::vector<Index>& domains) {
  io::ColumnSelection features_and_weight;
  features_and_weight.features = c.data.columns.features;
  features_and_weight.weight = c.data.columns.weight;
  io::SelectedColumns<T> out;
  if (rows.empty()) {  // select_columns reads every row when given none
    out.feature_names = c.data.columns.features;
    for (const auto& name : rules.indicator_names()) out.feature_names.push_back(name);
    out.features.resize(0, static_cast<Index>(out.feature_names.size()));
    out.weights.resize(0);
    return out;
  }
  out = io::select_columns<T>(table, features_and_weight, rules, rows);
  for (Index r : rows) {
    out.labels.push_back(labels[static_cast<std::size_t>(r)]);
    if (!domains.empty()) out.domains.push_back(domains[static_cast<std::size_t>(r)]);
  }
  return out;
}

}  // namespace prepared_detail

template <class T>
PreparedData<T> prepare_data(const TrainConfig& c, const DataRequest& request = {}) {
  PreparedData<T> d;
  d.table = io::read_tables(c.data.files);
  const io::Table& table = d.table;
  require(table.n_rows() > 0, "the data files hold no events");
  const auto& columns = c.data.columns;
  const bool with_request = request.unlabelled_domain || request.domain_only_for_class;
  require(!request.domains_required || !columns.domain.empty(), "method '", request.method,
          "' needs the domain of each event: set 'data.domain' to the name of the domain column");

  const Index n = table.n_rows();
  std::vector<Index> all_rows(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) all_rows[static_cast<std::size_t>(i)] = i;

  // Labels (skipping the unlabelled domain's rows), then domains (only where asked).
  d.labels.assign(static_cast<std::size_t>(n), 0);
  d.labelled.assign(static_cast<std::size_t>(n), true);
  if (request.unlabelled_domain) {
    const std::vector<Index> domains = io::selection_detail::class_indices(
        table, columns.domain, columns.domain_classes, all_rows, "domain");
    std::vector<Index> read;
    for (Index r = 0; r < n; ++r)
      if (domains[static_cast<std::size_t>(r)] != *request.unlabelled_domain)
        read.push_back(r);
      else
        d.labelled[static_cast<std::size_t>(r)] = false;
    const std::vector<Index> y =
        io::selection_detail::class_indices(table, columns.label, columns.label_classes, read, "label");
    for (std::size_t k = 0; k < read.size(); ++k) d.labels[static_cast<std::size_t>(read[k])] = y[k];
    d.domains = domains;
  } else {
    d.labels =
        io::selection_detail::class_indices(table, columns.label, columns.label_classes, all_rows, "label");
    if (!columns.domain.empty()) {
      std::vector<Index> read;
      for (Index r = 0; r < n; ++r)
        if (!request.domain_only_for_class ||
            d.labels[static_cast<std::size_t>(r)] == *request.domain_only_for_class)
          read.push_back(r);
      const std::vector<Index> domains =
          io::selection_detail::class_indices(table, columns.domain, columns.domain_classes, read, "domain");
      d.domains.assign(static_cast<std::size_t>(n), 0);
      for (std::size_t k = 0; k < read.size(); ++k) d.domains[static_cast<std::size_t>(read[k])] = domains[k];
    }
  }

  for (const auto& [value, k] : columns.label_classes) d.classes = std::max(d.classes, k + 1);
  for (Index y : d.labels) d.classes = std::max(d.classes, y + 1);
  require(d.classes >= 2, "the label column '", columns.label,
          "' holds a single class; a classifier needs two or more");
  require(c.loss != "binary_cross_entropy" || d.classes == 2,
          "loss binary_cross_entropy needs two classes but label '", columns.label, "' has ", d.classes,
          "; set \"loss\": \"categorical_cross_entropy\"");

  // The split: by label, or by (domain, label) for methods with a request.
  std::vector<Index> strata = d.labels;
  if (with_request && !d.domains.empty())
    for (std::size_t r = 0; r < strata.size(); ++r)
      strata[r] = d.domains[r] * (d.classes + 1) + (d.labelled[r] ? d.labels[r] : d.classes);
  d.split = split_rows(
      strata, {c.data.validation_fraction, c.data.split_seed.value_or(c.training.seed), c.data.stratify});
  require(!d.split.train.empty(), "no training events left after the split");

  if (!c.model.start_from.empty()) {
    d.start = io::read_model<float>(c.model.start_from);
    require(d.start->feature_names() == columns.features, "model.start_from '", c.model.start_from,
            "' takes the features ", io::Standardisation{d.start->feature_names(), {}, {}}.describe(),
            " but data.features lists ", io::Standardisation{columns.features, {}, {}}.describe());
    d.rules = d.start->missing_values;
  } else if (c.data.missing) {
    d.rules = io::fit_missing_values(table, columns.features, *c.data.missing, d.split.train);
  }
  d.train_part = prepared_detail::part<T>(table, c, d.rules, d.split.train, d.labels, d.domains);
  d.validation_part = prepared_detail::part<T>(table, c, d.rules, d.split.validation, d.labels, d.domains);

  if (d.start) {
    d.standardisation = d.start->inputs;
  } else if (c.data.standardise) {
    d.standardisation = io::fit_standardisation(d.train_part.features, d.train_part.feature_names);
  } else {
    d.standardisation.names = d.train_part.feature_names;
    d.standardisation.offset.assign(d.train_part.feature_names.size(), 0.0);
    d.standardisation.scale.assign(d.train_part.feature_names.size(), 1.0);
  }
  require(d.standardisation.names == d.train_part.feature_names, "the inputs of model.start_from (",
          d.standardisation.describe(), ") are not the inputs these data give (",
          io::Standardisation{d.train_part.feature_names, {}, {}}.describe(), ")");

  auto dataset = [&](const io::SelectedColumns<T>& p) {
    // Without weights_in_loss the weight column only weights the final AUC and AMS.
    Vector<T> w = c.data.weights_in_loss ? p.weights : Vector<T>::Ones(p.weights.size());
    Dataset<T> out(d.standardisation.applied(p.features), p.labels, std::move(w), p.domains, d.classes);
    if (c.data.balance_classes && out.rows() > 0)
      out.weights = balanced_class_weights(out.labels, out.weights, d.classes);
    return out;
  };
  d.train = dataset(d.train_part);
  d.validation = dataset(d.validation_part);
  return d;
}

}  // namespace agnostic::train
