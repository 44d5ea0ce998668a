// `agnostic predict --model M.json --input X.csv|X.npy --output Y.csv [--keep COLUMN]...`: runs a
// model file on a data file. The model's inputs are built as io/model_inputs.hpp says (features by
// name, missing-value rules and standardisation as in training); Y.csv has the --keep columns
// first, then the scores named as training's predictions.csv names them (io::score_column_name:
// "score" for one output, "score_<output>" for several).
#include <iostream>
#include <string>
#include <vector>

#include "agnostic/io/model_file.hpp"
#include "agnostic/io/model_inputs.hpp"
#include "command_io.hpp"
#include "commands.hpp"

namespace agnostic::tools {
namespace {

const CommandSpec& predict_spec() {
  static const CommandSpec spec{
      .name = "predict",
      .usage = {"--model M.json --input X.csv|X.npy --output Y.csv [--keep COLUMN]..."},
      .description =
          "Writes the model's outputs for every event of X, one row per event: a column \"score\"\n"
          "for a model with one output, \"score_<output>\" per output for one with several\n"
          "(the names of training's predictions.csv).",
      .options =
          {{.name = "--model",
            .value = "M.json",
            .meaning = "a model file written by `agnostic train` (or any lwtnn-style dense model)",
            .required = true},
           {.name = "--input",
            .value = "FILE",
            .meaning = "events: .csv, .tsv, .txt or .npy with named columns (several are stacked);\n"
                       "a plain 2-D .npy with one column per feature holds them in the model's order",
            .repeatable = true,
            .required = true},
           {.name = "--output", .value = "Y.csv", .meaning = "where to write the outputs", .required = true},
           {.name = "--keep",
            .value = "COLUMN",
            .meaning = "copy this input column to the output, before the scores",
            .repeatable = true}},
  };
  return spec;
}

}  // namespace

int predict_main(int argc, char** argv) {
  const CommandSpec& spec = predict_spec();
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  const io::ModelFile<float> model = io::read_model<float>(args.value("--model"));
  const io::ModelInputs<float> inputs =
      io::read_model_inputs(model, args.all("--input"), args.value("--model"));
  const Matrix<float> y = io::predict(model, inputs.selected.features);

  io::prediction_columns(model, inputs.table, args.all("--keep"), y).write(args.value("--output"));
  std::cout << "agnostic predict: " << y.rows() << " events -> " << args.value("--output") << "\n";
  return 0;
}

}  // namespace agnostic::tools
