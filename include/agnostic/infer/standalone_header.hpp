#pragma once
// The standalone header: a trained model written out as one self-contained C++17 header that
// includes only standard headers (no Eigen, no agnostic, no OpenMP), for trigger code that may
// have none of them. The generated header offers
//
//   namespace NAME {
//   constexpr std::size_t n_inputs, n_outputs;        // raw features read, outputs written
//   constexpr const char* input_names[n_inputs], output_names[n_outputs];
//   inline void evaluate(const float* raw_features, float* outputs) noexcept;
//   }
//
// with the weights as constexpr arrays and the missing-value rules and standardisation built in,
// computed as infer::Network computes them (the same kernel: input-major weights, bias-started
// accumulators in four partial sums, standardisation in double), so the header, infer::Network and `agnostic
// predict` agree to the float-rounding bound of docs/inference.md. Branches (adversaries) are not written:
// the header evaluates the main network only.
#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/io/model_record.hpp"

namespace agnostic::infer {

namespace header_detail {

// The shortest decimal that reads back as the same float, as a float literal ("0.5f", "3.0f").
inline std::string float_literal(float v) {
  char buffer[64];
  const auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
  std::string s(buffer, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s + "f";
}

inline std::string double_literal(double v) {
  char buffer[64];
  const auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
  std::string s(buffer, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

// A C++ string literal for any text: printable ASCII as is, the rest as octal escapes.
inline std::string string_literal(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u >= 0x20 && u < 0x7f && c != '?') {  // '?' could start a trigraph in older modes
      out += c;
    } else {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\%03o", static_cast<unsigned>(u));
      out += escape;
    }
  }
  return out + "\"";
}

inline void require_identifier(const std::string& name) {
  static const char* keywords[] = {
      "alignas",     "alignof",   "and",        "and_eq",    "asm",      "auto",         "bitand",
      "bitor",       "bool",      "break",      "case",      "catch",    "char",         "char8_t",
      "char16_t",    "char32_t",  "class",      "compl",     "concept",  "const",        "consteval",
      "constexpr",   "constinit", "const_cast", "continue",  "co_await", "co_return",    "co_yield",
      "decltype",    "default",   "delete",     "do",        "double",   "dynamic_cast", "else",
      "enum",        "explicit",  "export",     "extern",    "false",    "float",        "for",
      "friend",      "goto",      "if",         "inline",    "int",      "long",         "mutable",
      "namespace",   "new",       "noexcept",   "not",       "not_eq",   "nullptr",      "operator",
      "or",          "or_eq",     "private",    "protected", "public",   "register",     "reinterpret_cast",
      "requires",    "return",    "short",      "signed",    "sizeof",   "static",       "static_assert",
      "static_cast", "struct",    "switch",     "template",  "this",     "thread_local", "throw",
      "true",        "try",       "typedef",    "typeid",    "typename", "union",        "unsigned",
      "using",       "virtual",   "void",       "volatile",  "wchar_t",  "while",        "xor",
      "xor_eq",      "std"};
  bool ok = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (const char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  require(ok, "standalone header: the name '", name,
          "' is not a C++ identifier; use letters, digits and '_', starting with a letter (it becomes the "
          "namespace of the header)");
  require(name.find("__") == std::string::npos &&
              !(name[0] == '_' && name.size() > 1 && std::isupper(static_cast<unsigned char>(name[1]))),
          "standalone header: the name '", name,
          "' is reserved for the compiler (double underscore, or "
          "underscore and capital); choose another namespace name");
  for (const char* k : keywords)
    require(name != k, "standalone header: the name '", name,
            "' is a C++ keyword (or 'std'); choose another");
}

template <class Values, class Literal>
void write_array(std::ostringstream& out, const char* type, const std::string& name, const Values& values,
                 Literal literal) {
  out << "alignas(64) inline constexpr " << type << " " << name << "[" << values.size() << "] = {";
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (k % 8 == 0) out << "\n    ";
    out << literal(values[k]) << (k + 1 < values.size() ? ", " : "");
  }
  out << "};\n";
}

// The statements applying `f` to array `y` of n floats.
inline std::string activation_code(const io::LayerActivation& f, const std::string& y, Index n,
                                   const std::string& where) {
  std::ostringstream out;
  const std::string loop = "  for (std::size_t o = 0; o < " + std::to_string(n) +
                           "; ++o) {\n    const float v = " + y + "[o];\n    " + y + "[o] = ";
  if (f.softmax) {
    out << "  {\n    float top = " << y << "[0];\n"
        << "    for (std::size_t o = 1; o < " << n << "; ++o) top = " << y << "[o] > top ? " << y
        << "[o] : top;\n"
        << "    float sum = 0.0f;\n"
        << "    for (std::size_t o = 0; o < " << n << "; ++o) {\n      " << y << "[o] = std::exp(" << y
        << "[o] - top);\n      sum += " << y << "[o];\n    }\n"
        << "    const float inverse = 1.0f / sum;\n"
        << "    for (std::size_t o = 0; o < " << n << "; ++o) " << y << "[o] *= inverse;\n  }\n";
    return out.str();
  }
  const std::string alpha = float_literal(static_cast<float>(f.elementwise.alpha));
  switch (f.elementwise.kind) {
    case ActivationKind::identity:
      return "";
    case ActivationKind::relu:
      out << loop << "v > 0.0f ? v : 0.0f;\n  }\n";
      break;
    case ActivationKind::leaky_relu:
      out << loop << "(v > 0.0f ? v : 0.0f) + " << alpha << " * (v < 0.0f ? v : 0.0f);\n  }\n";
      break;
    case ActivationKind::elu:
      out << loop << "v > 0.0f ? v : " << alpha << " * std::expm1(v);\n  }\n";
      break;
    case ActivationKind::tanh:
      out << loop << "std::tanh(v);\n  }\n";
      break;
    case ActivationKind::sigmoid:
      out << loop << "v >= 0.0f ? 1.0f / (1.0f + std::exp(-v)) : std::exp(v) / (1.0f + std::exp(v));\n  }\n";
      break;
    case ActivationKind::softplus:
      out << loop << "(v > 0.0f ? v : 0.0f) + std::log1p(std::exp(-std::fabs(v)));\n  }\n";
      break;
    default:
      fail("standalone header: ", where, " has an activation the header cannot write");
  }
  return out.str();
}

}  // namespace header_detail

// The header text for `model`, in namespace `name`. Refuses (with the reason) a name that is not
// a usable C++ identifier and a model with non-finite numbers.
inline std::string standalone_header(const io::ModelRecord<float>& model, const std::string& name) {
  using namespace header_detail;
  require_identifier(name);
  require(!model.layers.empty(), "standalone header '", name, "': the model has no layers");
  require(model.n_inputs() == model.layers.front().n_in, "standalone header '", name, "': the model has ",
          model.n_inputs(), " inputs but its first layer reads ", model.layers.front().n_in);
  const auto features = model.feature_names();
  const auto n_inputs = static_cast<std::size_t>(model.n_inputs());
  for (std::size_t j = 0; j < n_inputs; ++j)
    require(std::isfinite(model.inputs.offset[j]) && std::isfinite(model.inputs.scale[j]),
            "standalone header '", name, "': input '", model.inputs.names[j],
            "' has a non-finite offset or scale");

  std::ostringstream out;
  out << "// " << name << ": a neural network written by agnostic::infer::standalone_header (agnostic "
      << "export --format header).\n"
      << "// Self-contained C++17: standard headers only. " << name << "::evaluate(raw_features, outputs) "
      << "reads the\n// " << features.size() << " raw features in the order of input_names (missing-value "
      << "markers allowed), applies the\n// missing-value rules and the standardisation, and writes the "
      << model.n_outputs() << " outputs. It allocates nothing and never throws.\n"
      << "// Network: " << model.n_inputs();
  for (const auto& l : model.layers)
    out << " -> " << l.n_out << " " << io::model_detail::describe_activation(l.activation);
  out << "\n";
  for (const auto& rule : model.missing_values.rules)
    out << "// Missing values: '" << rule.feature << "' equal to "
        << (std::isnan(rule.marker) ? std::string("NaN") : double_literal(rule.marker)) << " is replaced by "
        << double_literal(rule.replacement)
        << (rule.indicator.empty() ? "" : ", indicator '" + rule.indicator + "'") << "\n";
  out << "#pragma once\n#include <cmath>\n#include <cstddef>\n\nnamespace " << name << " {\n\n"
      << "constexpr std::size_t n_inputs = " << features.size() << ";\n"
      << "constexpr std::size_t n_outputs = " << model.n_outputs() << ";\n"
      << "constexpr const char* input_names[n_inputs] = {";
  for (std::size_t k = 0; k < features.size(); ++k) out << (k ? ", " : "") << string_literal(features[k]);
  out << "};\nconstexpr const char* output_names[n_outputs] = {";
  for (std::size_t k = 0; k < model.outputs.size(); ++k)
    out << (k ? ", " : "") << string_literal(model.outputs[k]);
  out << "};\n\nnamespace detail {\n\n"
      << "// Standardisation of the network's inputs: (x + offset) * scale, computed in double.\n";
  write_array(out, "double", "offset", model.inputs.offset, double_literal);
  write_array(out, "double", "scale", model.inputs.scale, double_literal);
  out << "\n// Layer weights input-major: weights_L[i * n_out + o] is the weight from input i to output o.\n";
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const auto& layer = model.layers[l];
    const std::string where = "layers[" + std::to_string(l) + "]";
    std::vector<float> w, b;
    for (Index i = 0; i < layer.n_in; ++i)
      for (Index o = 0; o < layer.n_out; ++o)
        w.push_back(layer.weights[static_cast<std::size_t>(o * layer.n_in + i)]);
    for (Index o = 0; o < layer.n_out; ++o) b.push_back(layer.bias[static_cast<std::size_t>(o)]);
    for (float v : w)
      require(std::isfinite(v), "standalone header '", name, "': ", where, " has a non-finite weight");
    for (float v : b)
      require(std::isfinite(v), "standalone header '", name, "': ", where, " has a non-finite bias");
    write_array(out, "float", "weights_" + std::to_string(l), w, float_literal);
    write_array(out, "float", "bias_" + std::to_string(l), b, float_literal);
  }
  out << R"(
// y = W x + b for one event, summed as agnostic::infer's kernel sums it: the accumulators start
// at the bias and are kept as four partial sums over the inputs (input i goes to sum i % 4), so
// that the chain of dependent multiply-adds is a quarter of the layer's width. With GCC or clang
// the accumulators are SIMD vectors (the compilers' vector extension); elsewhere plain loops.
#if defined(__GNUC__)
#if defined(__AVX512F__)
constexpr std::size_t lane_bytes = 64;
#elif defined(__AVX__)
constexpr std::size_t lane_bytes = 32;
#else
constexpr std::size_t lane_bytes = 16;
#endif
typedef float lanes __attribute__((vector_size(lane_bytes)));
constexpr std::size_t lane_width = lane_bytes / sizeof(float);
#endif

template <std::size_t In, std::size_t Out>
inline void dense(const float* __restrict w, const float* __restrict b, const float* __restrict x,
                  float* __restrict y) noexcept {
  constexpr std::size_t full = In / 4 * 4;
#if defined(__GNUC__)
  if constexpr (Out % lane_width == 0) {
    constexpr std::size_t n = Out / lane_width;
    lanes part[4][n];
    for (std::size_t v = 0; v < n; ++v) {
      __builtin_memcpy(&part[0][v], b + v * lane_width, sizeof(lanes));
      for (std::size_t p = 1; p < 4; ++p) part[p][v] = lanes{};
    }
#pragma GCC unroll 64
    for (std::size_t i = 0; i < full; i += 4) {
#pragma GCC unroll 4
      for (std::size_t p = 0; p < 4; ++p) {
#pragma GCC unroll 16
        for (std::size_t v = 0; v < n; ++v) {
          lanes wv;
          __builtin_memcpy(&wv, w + (i + p) * Out + v * lane_width, sizeof(lanes));
          part[p][v] += x[i + p] * wv;
        }
      }
    }
#pragma GCC unroll 4
    for (std::size_t i = full; i < In; ++i) {
#pragma GCC unroll 16
      for (std::size_t v = 0; v < n; ++v) {
        lanes wv;
        __builtin_memcpy(&wv, w + i * Out + v * lane_width, sizeof(lanes));
        part[i - full][v] += x[i] * wv;
      }
    }
    for (std::size_t v = 0; v < n; ++v) {
      const lanes sum = (part[0][v] + part[1][v]) + (part[2][v] + part[3][v]);
      __builtin_memcpy(y + v * lane_width, &sum, sizeof(lanes));
    }
    return;
  }
#endif
  float part[4][Out];
  for (std::size_t o = 0; o < Out; ++o) {
    part[0][o] = b[o];
    part[1][o] = part[2][o] = part[3][o] = 0.0f;
  }
  for (std::size_t i = 0; i < full; i += 4)
    for (std::size_t p = 0; p < 4; ++p)
      for (std::size_t o = 0; o < Out; ++o) part[p][o] += x[i + p] * w[(i + p) * Out + o];
  for (std::size_t i = full; i < In; ++i)
    for (std::size_t o = 0; o < Out; ++o) part[i - full][o] += x[i] * w[i * Out + o];
  for (std::size_t o = 0; o < Out; ++o) y[o] = (part[0][o] + part[1][o]) + (part[2][o] + part[3][o]);
}

}  // namespace detail

inline void evaluate(const float* raw_features, float* outputs) noexcept {
)";
  out << "  alignas(64) float x0[" << n_inputs << "];\n";
  if (model.missing_values.empty()) {
    out << "  for (std::size_t j = 0; j < " << n_inputs << "; ++j)\n"
        << "    x0[j] = static_cast<float>((static_cast<double>(raw_features[j]) + detail::offset[j]) * "
           "detail::scale[j]);\n";
  } else {
    for (std::size_t j = 0; j < n_inputs; ++j) {
      const std::string& input = model.inputs.names[j];
      const io::MissingValueRule* rule = nullptr;
      bool indicator = false;
      for (const auto& r : model.missing_values.rules) {
        if (r.feature == input) rule = &r;
        if (!r.indicator.empty() && r.indicator == input) rule = &r, indicator = true;
      }
      std::size_t f = j;
      if (rule) {
        f = 0;
        while (f < features.size() && features[f] != rule->feature) ++f;
        require(f < features.size(), "standalone header '", name, "': the missing-value rule for '",
                rule->feature, "' names no feature");
      } else {
        require(j < features.size(), "standalone header '", name, "': input '", input,
                "' is neither a feature nor a missing-value indicator");
      }
      const std::string raw = "raw_features[" + std::to_string(f) + "]";
      std::string value = raw;
      if (rule) {
        const std::string missing = std::isnan(rule->marker)
                                        ? "std::isnan(" + raw + ")"
                                        : raw + " == " + float_literal(static_cast<float>(rule->marker));
        value = indicator ? "(" + missing + " ? 1.0f : 0.0f)"
                          : "(" + missing + " ? " + float_literal(static_cast<float>(rule->replacement)) +
                                " : " + raw + ")";
      }
      out << "  x0[" << j << "] = static_cast<float>((static_cast<double>(" << value << ") + detail::offset["
          << j << "]) * detail::scale[" << j << "]);  // " << string_literal(input) << "\n";
    }
  }
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const auto& layer = model.layers[l];
    const bool last = l + 1 == model.layers.size();
    const std::string x = "x" + std::to_string(l), y = last ? "outputs" : "x" + std::to_string(l + 1);
    if (!last) out << "  alignas(64) float " << y << "[" << layer.n_out << "];\n";
    out << "  detail::dense<" << layer.n_in << ", " << layer.n_out << ">(detail::weights_" << l
        << ", detail::bias_" << l << ", " << x << ", " << y << ");\n";
    out << activation_code(layer.activation, y, layer.n_out, "layers[" + std::to_string(l) + "]");
  }
  out << "}\n\n}  // namespace " << name << "\n";
  return out.str();
}

// The same for a model in memory as an io::ModelFile<float> (io/model_types.hpp, which this header
// does not include: io::record_from_model is found where the caller has it).
template <class Model>
requires requires(const Model& m) {
  record_from_model(m);
}
std::string standalone_header(const Model& model, const std::string& name) {
  return standalone_header(record_from_model(model), name);
}

}  // namespace agnostic::infer
