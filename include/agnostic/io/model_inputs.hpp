#pragma once
// The inputs of a model file built from data files, as `agnostic predict` builds them, so that a
// program that predicts with io::predict gets the command's numbers: the model's feature columns
// (found by name, in any order, other columns ignored), its missing-value rules applied and its
// indicator columns appended (io/column_selection.hpp). A single plain 2-D .npy (no named fields)
// with one column per feature holds the features in the model's order. And the file predict writes:
// columns copied from the inputs, then one column per output, named as training's predictions.csv
// names them (score_column_name).
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/io/column_selection.hpp"
#include "agnostic/io/csv_writer.hpp"
#include "agnostic/io/data_file.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/io/npy.hpp"
#include "agnostic/io/table.hpp"

namespace agnostic::io {

template <class T>
struct ModelInputs {
  Table table;                  // the events as read (every column, for copying some to an output)
  SelectedColumns<T> selected;  // selected.features: events x model.n_inputs(), in the model's order
};

// Reads `files` (.csv, .tsv, .txt, .npy; several are stacked) as the inputs of `model`; errors
// name the file, the missing column, the model (`model_name`: its file) and the columns there are.
template <class T>
ModelInputs<T> read_model_inputs(const ModelFile<T>& model, const std::vector<std::string>& files,
                                 const std::string& model_name) {
  ColumnSelection selection;
  selection.features = model.feature_names();
  ModelInputs<T> out{read_tables(files), {}};
  bool named = true;
  for (const auto& f : selection.features) named = named && out.table.has_column(f);
  const bool one_npy =
      files.size() == 1 && files[0].size() > 4 && files[0].substr(files[0].size() - 4) == ".npy";
  if (!named && one_npy && out.table.n_columns() == static_cast<Index>(selection.features.size()) &&
      !load_npy(files[0]).header.structured)
    out.table = read_npy(files[0], selection.features);
  for (const auto& name : selection.features)
    require(out.table.has_column(name), "input '", out.table.source(), "' has no column '", name,
            "', which model '", model_name, "' needs; its columns are: ", out.table.describe_columns());
  out.selected = select_columns<T>(out.table, selection, model.missing_values);
  require(out.selected.feature_names == model.inputs.names, "the columns built from '", out.table.source(),
          "' (", Standardisation{out.selected.feature_names, {}, {}}.describe(),
          ") are not the model's inputs (", model.inputs.describe(), ")");
  return out;
}

// The column of output `o` of a model whose outputs are named `outputs`, in `agnostic predict`'s file
// and in training's predictions.csv alike: "score" for a model with one output (a sigmoid classifier),
// "score_<output name>" for each output of a model with several ("score_s", "score_bin_3").
inline std::string score_column_name(const std::vector<std::string>& outputs, std::size_t o) {
  return outputs.size() == 1 ? std::string("score") : "score_" + outputs[o];
}

// The predictions file: the `keep` columns of the inputs' table (text as read, numbers in their
// shortest form), then the columns of score_column_name holding `outputs` (events x outputs).
template <class T>
CsvColumns prediction_columns(const ModelFile<T>& model, const Table& table,
                              const std::vector<std::string>& keep, const Matrix<T>& outputs) {
  CsvColumns csv;
  for (const auto& name : keep) {
    for (std::size_t o = 0; o < model.outputs.size(); ++o)
      require(name != score_column_name(model.outputs, o), "--keep ", name,
              ": the model's output column has that name; rename the input column");
    std::vector<std::string> column;
    if (table.has_text_column(name)) {
      column = table.text_column(name);
    } else {
      for (double v : table.column(name)) column.push_back(number_text(v));
    }
    csv.add(name, std::move(column));
  }
  for (Index o = 0; o < outputs.cols(); ++o) {
    std::vector<std::string> column;
    column.reserve(static_cast<std::size_t>(outputs.rows()));
    for (Index r = 0; r < outputs.rows(); ++r) column.push_back(number_text(outputs(r, o)));
    csv.add(score_column_name(model.outputs, static_cast<std::size_t>(o)), std::move(column));
  }
  return csv;
}

}  // namespace agnostic::io
