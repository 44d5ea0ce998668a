// `agnostic inspect M.json`: what a model file holds, in words: inputs with their standardisation
// and missing-value rules, the layers, the outputs, extra branches, the parameter count and how
// the model was trained.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "agnostic/io/model_file.hpp"
#include "command_io.hpp"
#include "commands.hpp"

namespace agnostic::tools {
namespace {

const CommandSpec& inspect_spec() {
  static const CommandSpec spec{
      .name = "inspect",
      .usage = {"M.json"},
      .description =
          "Prints a model file's inputs (offset, scale, missing-value rule), layers, outputs, branches,\n"
          "parameter count and training provenance.",
      .positional_count = 1,
      .positional_what = "model file",
  };
  return spec;
}

}  // namespace

int inspect_main(int argc, char** argv) {
  const CommandSpec& spec = inspect_spec();
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  const std::string path = args.positional[0];
  const io::ModelFile<double> m = io::read_model<double>(path);
  std::ostream& out = std::cout;
  out << "model " << path << "\n\ninputs (" << m.n_inputs() << "; the network sees (x + offset) * scale):\n";
  std::size_t width = 4;
  for (const auto& n : m.inputs.names) width = std::max(width, n.size());
  for (Index i = 0; i < m.n_inputs(); ++i) {
    const auto k = static_cast<std::size_t>(i);
    out << "  " << std::setw(3) << i << "  " << std::left << std::setw(static_cast<int>(width))
        << m.inputs.names[k] << std::right << "  offset " << std::setw(12) << m.inputs.offset[k] << "  scale "
        << std::setw(12) << m.inputs.scale[k];
    if (const auto* rule = m.missing_values.find(m.inputs.names[k])) {
      out << "  missing " << rule->marker << " -> " << rule->replacement;
      if (!rule->indicator.empty()) out << " (indicator " << rule->indicator << ")";
    }
    out << "\n";
  }
  auto print_layers = [&](const std::vector<io::DenseWeights<double>>& layers) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const auto& l = layers[i];
      out << "  " << i << ": dense " << l.n_in() << " -> " << l.n_out() << ", "
          << io::model_detail::describe_activation(l.activation) << "  (" << l.weights.size() + l.bias.size()
          << " parameters)\n";
    }
  };
  out << "\nlayers (" << m.layers.size() << "):\n";
  print_layers(m.layers);
  out << "\noutputs:";
  for (const auto& o : m.outputs) out << " " << o;
  out << "\n";
  for (const auto& b : m.branches) {
    out << "\nbranch '" << b.name << "' (reads "
        << (b.input_layer == 0 ? std::string("the inputs")
                               : "the output of layer " + std::to_string(b.input_layer - 1))
        << "):\n";
    print_layers(b.layers);
    out << "  outputs:";
    for (const auto& o : b.outputs) out << " " << o;
    out << "\n";
  }
  out << "\nparameters: " << m.parameter_count() << "\n";
  if (!m.training.empty()) {
    out << "training:";
    for (const char* key : {"date", "seed", "epochs", "best_epoch", "stop_reason", "training_events",
                            "validation_events", "resumed"})
      if (m.training.contains(key)) out << "\n  " << key << ": " << m.training[key].dump();
    out << "\n";
  }
  return 0;
}

}  // namespace agnostic::tools
