// `agnostic import FILE.onnx|FILE.json --output MODEL.json [--features NAME,NAME,...]`: brings a
// network trained elsewhere into a model file (docs/exchange.md): an ONNX dense network as
// torch.onnx.export writes it (io/onnx_import.hpp) or an lwtnn JSON file (io/lwtnn.hpp).
#include <iostream>
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/io/lwtnn.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/io/onnx_import.hpp"
#include "command_io.hpp"
#include "commands.hpp"

namespace agnostic::tools {
namespace {

const CommandSpec& import_spec() {
  static const CommandSpec spec{
      .name = "import",
      .usage = {"FILE.onnx|FILE.json --output MODEL.json [--features NAME,NAME,...]"},
      .description =
          "Reads a dense network from ONNX (Gemm or MatMul+Add layers, "
          "Relu/LeakyRelu/Elu/Tanh/Sigmoid/Softplus/\n"
          "Softmax, a standardisation by constants before the first layer) or from lwtnn's JSON (a file "
          "ending\n"
          "in .json), and writes it as an agnostic model file for predict, inspect, export and the fits.",
      .options = {{.name = "--output",
                   .value = "MODEL.json",
                   .meaning = "the model file to write",
                   .required = true},
                  {.name = "--features",
                   .value = "LIST",
                   .meaning =
                       "comma-separated names of the network's input columns (default: ONNX f0,f1,...;\n"
                       "lwtnn: the file's own)"}},
      .positional_count = 1,
      .positional_what = "ONNX or lwtnn file",
  };
  return spec;
}

// "a,b,c" -> {"a", "b", "c"}; an empty name is an error.
std::vector<std::string> split_commas(const std::string& text) {
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

}  // namespace

int import_main(int argc, char** argv) {
  const CommandSpec& spec = import_spec();
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  const std::string path = args.positional[0];
  const std::vector<std::string> features =
      args.value("--features").empty() ? std::vector<std::string>() : split_commas(args.value("--features"));
  const bool is_json = path.size() >= 5 && path.substr(path.size() - 5) == ".json";
  const io::ModelFile<float> model = is_json ? io::read_lwtnn(path, features) : io::read_onnx(path, features);
  io::write_model(args.value("--output"), model);
  std::cout << "agnostic import: " << path << " -> " << args.value("--output") << " (" << model.n_inputs()
            << " inputs, " << model.layers.size() << " layers, " << model.n_outputs() << " outputs, "
            << model.parameter_count() << " parameters)\n";
  return 0;
}

}  // namespace agnostic::tools
