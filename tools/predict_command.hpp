#pragma once
// `agnostic predict --model M.json --input X.csv|X.npy --output Y.csv [--keep COLUMN]...`: runs a
// model file on a data file. The data must have the model's feature columns (by name, any order,
// other columns ignored); the model's missing-value rules and standardisation are applied as in
// training (a plain 2-D .npy holds the features in the model's order). Y.csv has the --keep
// columns first, then one column per output label.
#include <iostream>
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/io/column_selection.hpp"
#include "agnostic/io/model_file.hpp"
#include "command_io.hpp"

namespace agnostic::tools {

inline constexpr const char* kPredictUsage =
    R"(usage: agnostic predict --model M.json --input X.csv|X.npy --output Y.csv [--keep COLUMN]...

Writes the model's outputs for every event of X (one row per event, one column per output label).

options:
  --model M.json   a model file written by `agnostic train` (or any lwtnn-style dense model)
  --input FILE     events: .csv, .tsv, .txt or .npy with named columns (repeat to read several files);
                   a plain 2-D .npy with one column per feature holds them in the model's order
  --output Y.csv   where to write the outputs
  --keep COLUMN    copy this input column to the output, before the scores (repeatable)
)";

inline int run_predict(int argc, char** argv) {
  const ParsedArguments args = parse_arguments(argc, argv, {"--model", "--input", "--output", "--keep"}, {});
  if (args.help) {
    std::cout << kPredictUsage;
    return 0;
  }
  require(args.positional.empty(), "unexpected argument '", args.positional.empty() ? "" : args.positional[0],
          "'\n", kPredictUsage);
  for (const char* option : {"--model", "--input", "--output"})
    require(!args.value(option).empty(), "missing option ", option, "\n", kPredictUsage);

  const io::ModelFile<float> model = io::read_model<float>(args.value("--model"));
  io::ColumnSelection selection;
  selection.features = model.feature_names();
  // A plain 2-D .npy (no named fields) with one column per feature holds the features in the
  // model's order.
  std::vector<std::string> inputs = args.all("--input");
  io::Table table = read_tables(inputs);
  bool named = true;
  for (const auto& f : selection.features) named = named && table.has_column(f);
  if (!named && inputs.size() == 1 && inputs[0].size() > 4 &&
      inputs[0].substr(inputs[0].size() - 4) == ".npy" &&
      table.n_columns() == static_cast<Index>(selection.features.size()) &&
      !io::load_npy(inputs[0]).header.structured)
    table = io::read_npy(inputs[0], selection.features);
  for (const auto& name : selection.features)
    require(table.has_column(name), "input '", table.source(), "' has no column '", name, "', which model '",
            args.value("--model"), "' needs; its columns are: ", table.describe_columns());
  const io::SelectedColumns<float> x = io::select_columns<float>(table, selection, model.missing_values);
  require(x.feature_names == model.inputs.names, "the columns built from '", table.source(), "' (",
          io::Standardisation{x.feature_names, {}, {}}.describe(), ") are not the model's inputs (",
          model.inputs.describe(), ")");
  const Matrix<float> y = io::predict(model, x.features);

  CsvColumns csv;
  for (const auto& name : args.all("--keep")) {
    std::vector<std::string> column;
    if (table.has_text_column(name)) {
      column = table.text_column(name);
    } else {
      for (double v : table.column(name)) column.push_back(number_text(v));
    }
    csv.add(name, std::move(column));
  }
  for (Index o = 0; o < y.cols(); ++o) {
    std::vector<std::string> column;
    column.reserve(static_cast<std::size_t>(y.rows()));
    for (Index r = 0; r < y.rows(); ++r) column.push_back(number_text(y(r, o)));
    csv.add(model.outputs[static_cast<std::size_t>(o)], std::move(column));
  }
  csv.write(args.value("--output"));
  std::cout << "agnostic predict: " << y.rows() << " events -> " << args.value("--output") << "\n";
  return 0;
}

}  // namespace agnostic::tools
