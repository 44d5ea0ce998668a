#pragma once
// `agnostic export MODEL.json --format lwtnn|onnx|header --output FILE [--name NAME]`: writes a
// model file in a format other software reads (docs/exchange.md): lwtnn's JSON, an ONNX graph,
// or a self-contained C++17 header for trigger code. The logic is in io/lwtnn.hpp,
// io/onnx_export.hpp and infer/standalone_header.hpp.
#include <fstream>
#include <iostream>
#include <string>

#include "agnostic/core/error.hpp"
#include "agnostic/infer/standalone_header.hpp"
#include "agnostic/io/lwtnn.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/io/onnx_export.hpp"
#include "command_io.hpp"

namespace agnostic::tools {

inline constexpr const char* kExportUsage =
    R"(usage: agnostic export MODEL.json --format lwtnn|onnx|header --output FILE [--name NAME]

Writes the model's main network (branches such as adversaries are left out) for other software.

options:
  --format lwtnn    lwtnn's JSON (lwt::parse_json + lwt::LightweightNeuralNetwork); missing-value
                    rules without indicators become lwtnn "defaults", indicators are refused
  --format onnx     an ONNX model (opset 13): missing-value rules, standardisation, Gemm layers
  --format header   one C++17 header with constexpr weights, standard headers only
  --output FILE     where to write it
  --name NAME       the C++ namespace of the header (default: the output file's stem)
)";

inline int run_export(int argc, char** argv) {
  const ParsedArguments args = parse_arguments(argc, argv, {"--format", "--output", "--name"}, {});
  if (args.help) {
    std::cout << kExportUsage;
    return 0;
  }
  require(args.positional.size() == 1, "expected one model file, got ", args.positional.size(),
          " arguments\n", kExportUsage);
  for (const char* option : {"--format", "--output"})
    require(!args.value(option).empty(), "missing option ", option, "\n", kExportUsage);
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
    const std::string text = infer::standalone_header(model, name);
    std::ofstream out(output, std::ios::binary | std::ios::trunc);
    require(out.good(), "cannot open '", output, "' for writing");
    out << text;
    require(out.good(), "writing '", output, "' failed (disk full?)");
  }
  if (!model.branches.empty())
    std::cout << "agnostic export: note: " << model.branches.size()
              << " branch(es) of the model (adversary, domain classifier) are not exported\n";
  std::cout << "agnostic export: " << args.positional[0] << " -> " << output << " (" << format << ")\n";
  return 0;
}

}  // namespace agnostic::tools
