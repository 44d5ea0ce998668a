// `agnostic export MODEL.json --format lwtnn|onnx|header --output FILE [--name NAME]`: writes a
// model file in a format other software reads (docs/exchange.md): lwtnn's JSON (io/lwtnn.hpp), an
// ONNX graph (io/onnx_export.hpp) or a self-contained C++17 header for trigger code
// (infer/standalone_header.hpp). Every file is written whole or not at all (core/atomic_file.hpp).
#include <filesystem>
#include <iostream>
#include <string>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/infer/standalone_header.hpp"
#include "agnostic/io/lwtnn.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/io/onnx_export.hpp"
#include "command_io.hpp"
#include "commands.hpp"

namespace agnostic::tools {
namespace {

const CommandSpec& export_spec() {
  static const CommandSpec spec{
      .name = "export",
      .usage = {"MODEL.json --format lwtnn|onnx|header --output FILE [--name NAME]"},
      .description =
          "Writes the model's main network (branches such as adversaries are left out) for other software.",
      .options = {{.name = "--format",
                   .value = "lwtnn|onnx|header",
                   .meaning =
                       "lwtnn: lwtnn's JSON (lwt::parse_json + lwt::LightweightNeuralNetwork); missing-\n"
                       "  value rules without indicators become lwtnn \"defaults\", indicators are refused\n"
                       "onnx: an ONNX model (opset 13): missing-value rules, standardisation, Gemm layers\n"
                       "header: one C++17 header with constexpr weights, standard headers only",
                   .required = true},
                  {.name = "--output", .value = "FILE", .meaning = "where to write it", .required = true},
                  {.name = "--name",
                   .value = "NAME",
                   .meaning = "the C++ namespace of the header (default: the output file's stem)"}},
      .positional_count = 1,
      .positional_what = "model file",
  };
  return spec;
}

}  // namespace

int export_main(int argc, char** argv) {
  const CommandSpec& spec = export_spec();
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  const std::string format = args.value("--format"), output = args.value("--output");
  require(format == "lwtnn" || format == "onnx" || format == "header", "unknown --format '", format,
          "'; expected lwtnn, onnx or header");
  require(format == "header" || args.value("--name").empty(), "--name applies to --format header only");
  const io::ModelFile<float> model = io::read_model<float>(args.positional[0]);

  if (format == "onnx") {
    io::write_onnx(output, model);
  } else if (format == "lwtnn") {
    io::write_json_atomically(output, io::lwtnn_json(model));
    if (!model.missing_values.empty())
      std::cout << "agnostic export: note: the missing-value replacements are lwtnn \"defaults\"; give lwtnn "
                   "the default for an input that holds its marker (markers are in \"miscellaneous\")\n";
  } else {
    std::string name = args.value("--name");
    if (name.empty()) name = std::filesystem::path(output).stem().string();
    write_file_atomically(output, infer::standalone_header(model, name));
  }
  if (!model.branches.empty())
    std::cout << "agnostic export: note: " << model.branches.size()
              << " branch(es) of the model (adversary, domain classifier) are not exported\n";
  std::cout << "agnostic export: " << args.positional[0] << " -> " << output << " (" << format << ")\n";
  return 0;
}

}  // namespace agnostic::tools
