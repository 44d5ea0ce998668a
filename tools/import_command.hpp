#pragma once
// `agnostic import FILE.onnx|FILE.json --output MODEL.json [--features NAME,NAME,...]`: brings a
// network trained elsewhere into a model file (docs/exchange.md): an ONNX dense network as
// torch.onnx.export writes it (io/onnx_import.hpp) or an lwtnn JSON file (io/lwtnn.hpp).
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"
#include "agnostic/core/json_file.hpp"
#include "agnostic/io/lwtnn.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/io/onnx_import.hpp"
#include "command_io.hpp"

namespace agnostic::tools {

inline constexpr const char* kImportUsage =
    R"(usage: agnostic import FILE.onnx|FILE.json --output MODEL.json [--features NAME,NAME,...]

Reads a dense network from ONNX (Gemm or MatMul+Add layers, Relu/LeakyRelu/Elu/Tanh/Sigmoid/Softplus/
Softmax, a standardisation by constants before the first layer) or from lwtnn's JSON, and writes it
as an agnostic model file for predict, inspect, export and the fits.

options:
  --output MODEL.json   the model file to write
  --features LIST       comma-separated names of the ONNX input's columns (default f0,f1,...)
)";

inline std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto end = comma == std::string::npos ? text.size() : comma;
    out.push_back(text.substr(start, end - start));
    require(!out.back().empty(), "--features has an empty name at position ", out.size());
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

inline int run_import(int argc, char** argv) {
  const ParsedArguments args = parse_arguments(argc, argv, {"--output", "--features"}, {});
  if (args.help) {
    std::cout << kImportUsage;
    return 0;
  }
  require(args.positional.size() == 1, "expected one ONNX or lwtnn file, got ", args.positional.size(),
          " arguments\n", kImportUsage);
  require(!args.value("--output").empty(), "missing option --output\n", kImportUsage);
  const std::string path = args.positional[0];
  const std::vector<std::string> features =
      args.value("--features").empty() ? std::vector<std::string>() : split_commas(args.value("--features"));
  const bool is_json = path.size() >= 5 && path.substr(path.size() - 5) == ".json";
  io::ModelFile<float> model;
  if (is_json) {
    model = io::import_lwtnn(read_json_file(path, "lwtnn file"), path);
    if (!features.empty()) {
      require(static_cast<Index>(features.size()) == model.n_inputs(), "--features names ", features.size(),
              " features but '", path, "' has ", model.n_inputs(), " inputs");
      require(model.missing_values.empty(),
              "--features cannot rename the inputs of a model with missing-value rules");
      model.inputs.names = features;
    }
  } else {
    model = io::read_onnx(path, features);
  }
  io::write_model(args.value("--output"), model);
  std::cout << "agnostic import: " << path << " -> " << args.value("--output") << " (" << model.n_inputs()
            << " inputs, " << model.layers.size() << " layers, " << model.n_outputs() << " outputs, "
            << model.parameter_count() << " parameters)\n";
  return 0;
}

}  // namespace agnostic::tools
