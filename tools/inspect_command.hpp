#pragma once
// `agnostic inspect M.json`: what a model file holds, in words: inputs with their standardisation
// and missing-value rules, the layers, the outputs, extra branches, the parameter count and how
// the model was trained.
#include <iomanip>
#include <iostream>
#include <string>

#include "agnostic/core/error.hpp"
#include "agnostic/io/model_file.hpp"
#include "command_io.hpp"

namespace agnostic::tools {

inline constexpr const char* kInspectUsage =
    R"(usage: agnostic inspect M.json

Prints a model file's inputs (offset, scale, missing-value rule), layers, outputs, branches,
parameter count and training provenance.
)";

inline int run_inspect(int argc, char** argv) {
  const ParsedArguments args = parse_arguments(argc, argv, {}, {});
  if (args.help) {
    std::cout << kInspectUsage;
    return 0;
  }
  require(args.positional.size() == 1, "expected one model file\n", kInspectUsage);
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
