#pragma once
// The subset of ONNX's messages (onnx/onnx.proto) that a dense network needs, as plain structs,
// with their encoding and decoding on the hand-written wire format of protobuf.hpp:
// ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto (with TypeProto
// and TensorShapeProto) and OperatorSetIdProto. Fields agnostic does not use are skipped when
// read and never written. Field numbers are those of onnx.proto (IR version 7 and later).
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/io/protobuf.hpp"

namespace agnostic::io::onnx {

// TensorProto.DataType values used here.
enum DataType : int { kFloat = 1, kBool = 9, kInt64 = 7, kDouble = 11 };

inline std::string data_type_name(int t) {
  static const char* names[] = {"undefined", "float",  "uint8",     "int8",       "uint16",  "int16",
                                "int32",     "int64",  "string",    "bool",       "float16", "double",
                                "uint32",    "uint64", "complex64", "complex128", "bfloat16"};
  if (t >= 0 && t < static_cast<int>(sizeof names / sizeof names[0])) return names[t];
  return "data type " + std::to_string(t);
}

// A constant tensor. Numbers are kept as double (floats and int64 values fit exactly).
struct Tensor {
  std::string name;
  std::vector<std::int64_t> dims;
  int data_type = kFloat;
  std::vector<double> values;

  std::int64_t size() const {
    std::int64_t n = 1;
    for (auto d : dims) n *= d;
    return n;
  }
};

// AttributeProto.AttributeType values used here.
enum AttributeType : int { kAttrFloat = 1, kAttrInt = 2, kAttrString = 3, kAttrTensor = 4, kAttrInts = 7 };

struct Attribute {
  std::string name;
  int type = 0;
  float f = 0.0f;
  std::int64_t i = 0;
  std::string s;
  std::optional<Tensor> t;
  std::vector<std::int64_t> ints;
};

struct Node {
  std::vector<std::string> inputs, outputs;
  std::string name, op_type, domain;
  std::vector<Attribute> attributes;

  const Attribute* attribute(std::string_view n) const {
    for (const auto& a : attributes)
      if (a.name == n) return &a;
    return nullptr;
  }
  // "Gemm node 'name'" (or its output when unnamed), for messages.
  std::string describe() const {
    return op_type + " node '" + (name.empty() ? (outputs.empty() ? std::string("?") : outputs[0]) : name) +
           "'";
  }
};

// A tensor-typed graph input or output: element type and shape (-1 for a symbolic dimension).
struct ValueInfo {
  std::string name;
  int elem_type = 0;
  std::vector<std::int64_t> dims;
  std::vector<std::string> dim_params;  // the symbol of each symbolic dimension ("" otherwise)
  bool has_shape = false;
};

struct Graph {
  std::string name;
  std::vector<Node> nodes;
  std::vector<Tensor> initializers;
  std::vector<ValueInfo> inputs, outputs;
};

struct Model {
  std::int64_t ir_version = 7;
  std::vector<std::pair<std::string, std::int64_t>> opsets;  // domain ("" = ai.onnx), version
  std::string producer_name, producer_version, doc_string;
  Graph graph;
  std::vector<std::pair<std::string, std::string>> metadata;

  std::int64_t opset(std::string_view domain = "") const {
    for (const auto& [d, v] : opsets)
      if (d == domain || (domain.empty() && d == "ai.onnx")) return v;
    return 0;
  }
  std::string metadata_value(std::string_view key) const {
    for (const auto& [k, v] : metadata)
      if (k == key) return v;
    return {};
  }
};

// ---------------------------------------------------------------------------------------------
// Encoding

inline protobuf::Writer encode(const Tensor& t) {
  protobuf::Writer w;
  w.packed_ints(1, t.dims);
  w.int_field(2, t.data_type);
  w.bytes_field(8, t.name);
  if (t.data_type == kFloat) {
    std::vector<float> f(t.values.begin(), t.values.end());
    w.packed_floats(4, f);
  } else if (t.data_type == kInt64 || t.data_type == kBool) {
    // int64 values go in int64_data (field 7), bool values in int32_data (field 5).
    std::vector<std::int64_t> v;
    for (double x : t.values) v.push_back(static_cast<std::int64_t>(x));
    w.packed_ints(t.data_type == kBool ? 5 : 7, v);
  } else {
    fail("ONNX writer: tensor '", t.name, "' has unsupported data type ", data_type_name(t.data_type));
  }
  return w;
}

inline protobuf::Writer encode(const Attribute& a) {
  protobuf::Writer w;
  w.bytes_field(1, a.name);
  switch (a.type) {
    case kAttrFloat:
      w.float_field(2, a.f);
      break;
    case kAttrInt:
      w.int_field(3, a.i);
      break;
    case kAttrString:
      w.bytes_field(4, a.s);
      break;
    case kAttrTensor:
      w.message_field(5, encode(*a.t));
      break;
    case kAttrInts:
      for (auto v : a.ints) w.int_field(8, v);
      break;
    default:
      fail("ONNX writer: attribute '", a.name, "' has unsupported type ", a.type);
  }
  w.int_field(20, a.type);
  return w;
}

inline protobuf::Writer encode(const Node& n) {
  protobuf::Writer w;
  for (const auto& s : n.inputs) w.bytes_field(1, s);
  for (const auto& s : n.outputs) w.bytes_field(2, s);
  w.bytes_field(3, n.name);
  w.bytes_field(4, n.op_type);
  for (const auto& a : n.attributes) w.message_field(5, encode(a));
  if (!n.domain.empty()) w.bytes_field(7, n.domain);
  return w;
}

inline protobuf::Writer encode(const ValueInfo& v) {
  protobuf::Writer shape;
  for (std::size_t k = 0; k < v.dims.size(); ++k) {
    protobuf::Writer dim;
    if (v.dims[k] >= 0)
      dim.int_field(1, v.dims[k]);
    else
      dim.bytes_field(2, k < v.dim_params.size() ? v.dim_params[k] : std::string("N"));
    shape.message_field(1, dim);
  }
  protobuf::Writer tensor_type;
  tensor_type.int_field(1, v.elem_type);
  tensor_type.message_field(2, shape);
  protobuf::Writer type;
  type.message_field(1, tensor_type);
  protobuf::Writer w;
  w.bytes_field(1, v.name);
  w.message_field(2, type);
  return w;
}

inline protobuf::Writer encode(const Graph& g) {
  protobuf::Writer w;
  for (const auto& n : g.nodes) w.message_field(1, encode(n));
  w.bytes_field(2, g.name);
  for (const auto& t : g.initializers) w.message_field(5, encode(t));
  for (const auto& v : g.inputs) w.message_field(11, encode(v));
  for (const auto& v : g.outputs) w.message_field(12, encode(v));
  return w;
}

inline std::string encode(const Model& m) {
  protobuf::Writer w;
  w.int_field(1, m.ir_version);
  w.bytes_field(2, m.producer_name);
  w.bytes_field(3, m.producer_version);
  if (!m.doc_string.empty()) w.bytes_field(6, m.doc_string);
  w.message_field(7, encode(m.graph));
  for (const auto& [domain, version] : m.opsets) {
    protobuf::Writer o;
    o.bytes_field(1, domain);
    o.int_field(2, version);
    w.message_field(8, o);
  }
  for (const auto& [key, value] : m.metadata) {
    protobuf::Writer e;
    e.bytes_field(1, key);
    e.bytes_field(2, value);
    w.message_field(14, e);
  }
  return w.bytes();
}

// ---------------------------------------------------------------------------------------------
// Decoding

namespace proto_detail {

using protobuf::Field;
using protobuf::Reader;
using protobuf::WireType;

inline std::string text(const Reader& r, const Field& f, const char* what) {
  require(f.type == WireType::length_delimited, r.source(), ": byte ", f.offset, ": ", what,
          " must be a string (wire type 2), found wire type ", static_cast<int>(f.type));
  return std::string(f.bytes);
}

inline std::int64_t integer(const Reader& r, const Field& f, const char* what) {
  require(f.type == WireType::varint, r.source(), ": byte ", f.offset, ": ", what,
          " must be a varint, found wire type ", static_cast<int>(f.type));
  return f.as_int();
}

inline Reader message(const Reader& r, const Field& f, const char* what) {
  require(f.type == WireType::length_delimited, r.source(), ": byte ", f.offset, ": ", what,
          " must be a nested message (wire type 2), found wire type ", static_cast<int>(f.type));
  return r.nested(f);
}

inline void raw_numbers(const Reader& r, const Field& f, int data_type, std::vector<double>& out) {
  const std::size_t width = data_type == kDouble || data_type == kInt64 ? 8 : data_type == kFloat ? 4 : 1;
  require(data_type == kFloat || data_type == kDouble || data_type == kInt64 || data_type == kBool,
          r.source(), ": byte ", f.offset, ": raw_data of type ", data_type_name(data_type),
          " is not supported (float, double, int64, bool are)");
  require(f.bytes.size() % width == 0, r.source(), ": byte ", f.offset, ": raw_data has ", f.bytes.size(),
          " bytes, not a multiple of ", width, " (the size of ", data_type_name(data_type), ")");
  for (std::size_t k = 0; k < f.bytes.size(); k += width) {
    std::uint64_t bits = 0;
    for (std::size_t b = 0; b < width; ++b)
      bits |= static_cast<std::uint64_t>(static_cast<unsigned char>(f.bytes[k + b])) << (8 * b);
    Field one;
    one.value = bits;
    if (data_type == kFloat)
      out.push_back(one.as_float());
    else if (data_type == kDouble)
      out.push_back(one.as_double());
    else if (data_type == kInt64)
      out.push_back(static_cast<double>(static_cast<std::int64_t>(bits)));
    else
      out.push_back(bits != 0 ? 1.0 : 0.0);
  }
}

}  // namespace proto_detail

inline Tensor decode_tensor(protobuf::Reader r) {
  using namespace proto_detail;
  Tensor t;
  std::vector<float> floats;
  std::vector<double> doubles, raw;
  std::vector<std::int64_t> ints;
  std::optional<Field> raw_field;
  bool external = false;
  while (!r.done()) {
    const Field f = r.next();
    switch (f.number) {
      case 1:
        protobuf::append_ints(r, f, t.dims, "TensorProto.dims");
        break;
      case 2:
        t.data_type = static_cast<int>(integer(r, f, "TensorProto.data_type"));
        break;
      case 4:
        protobuf::append_floats(r, f, floats, "TensorProto.float_data");
        break;
      case 5:
      case 7:
        protobuf::append_ints(r, f, ints, "TensorProto.int32_data/int64_data");
        break;
      case 8:
        t.name = text(r, f, "TensorProto.name");
        break;
      case 9:
        require(f.type == WireType::length_delimited, r.source(), ": byte ", f.offset,
                ": TensorProto.raw_data must be bytes");
        raw_field = f;
        break;
      case 10:
        protobuf::append_doubles(r, f, doubles, "TensorProto.double_data");
        break;
      case 14:
        external = integer(r, f, "TensorProto.data_location") == 1;
        break;
      default:
        break;
    }
  }
  const std::string what = "tensor '" + t.name + "'";
  require(!external, r.source(), ": ", what,
          " keeps its data in an external file; save the model with its weights inside "
          "(onnx.save(model, path, save_as_external_data=False))");
  for (auto d : t.dims)
    require(d >= 0 && d <= (std::int64_t{1} << 40), r.source(), ": ", what, " has dimension ", d,
            "; expected 0 to 2^40");
  std::int64_t expected = 1;
  for (auto d : t.dims) {
    if (d != 0 && expected > std::numeric_limits<std::int32_t>::max() / d) {
      expected = -1;
      break;
    }
    expected *= d;
  }
  require(expected >= 0, r.source(), ": ", what,
          " has more than 2^31 elements; not a dense network's weights");
  if (raw_field) raw_numbers(r, *raw_field, t.data_type, raw);
  const std::size_t n_sources = (raw_field ? 1u : 0u) + (floats.empty() ? 0u : 1u) +
                                (doubles.empty() ? 0u : 1u) + (ints.empty() ? 0u : 1u);
  require(n_sources <= 1, r.source(), ": ", what, " holds its values in more than one field");
  if (raw_field)
    t.values = std::move(raw);
  else if (!floats.empty())
    t.values.assign(floats.begin(), floats.end());
  else if (!doubles.empty())
    t.values = std::move(doubles);
  else
    for (auto v : ints) t.values.push_back(static_cast<double>(v));
  require(
      static_cast<std::int64_t>(t.values.size()) == expected, r.source(), ": ", what, " has ",
      t.values.size(), " values but its dimensions [",
      [&] {
        std::string s;
        for (auto d : t.dims) s += (s.empty() ? "" : ", ") + std::to_string(d);
        return s;
      }(),
      "] need ", expected);
  return t;
}

inline Attribute decode_attribute(protobuf::Reader r) {
  using namespace proto_detail;
  Attribute a;
  while (!r.done()) {
    const Field f = r.next();
    switch (f.number) {
      case 1:
        a.name = text(r, f, "AttributeProto.name");
        break;
      case 2:
        require(f.type == WireType::fixed32, r.source(), ": byte ", f.offset,
                ": AttributeProto.f must be a 32-bit float");
        a.f = f.as_float();
        break;
      case 3:
        a.i = integer(r, f, "AttributeProto.i");
        break;
      case 4:
        a.s = text(r, f, "AttributeProto.s");
        break;
      case 5:
        a.t = decode_tensor(message(r, f, "AttributeProto.t"));
        break;
      case 8:
        protobuf::append_ints(r, f, a.ints, "AttributeProto.ints");
        break;
      case 20:
        a.type = static_cast<int>(integer(r, f, "AttributeProto.type"));
        break;
      default:
        break;
    }
  }
  return a;
}

inline Node decode_node(protobuf::Reader r) {
  using namespace proto_detail;
  Node n;
  while (!r.done()) {
    const Field f = r.next();
    switch (f.number) {
      case 1:
        n.inputs.push_back(text(r, f, "NodeProto.input"));
        break;
      case 2:
        n.outputs.push_back(text(r, f, "NodeProto.output"));
        break;
      case 3:
        n.name = text(r, f, "NodeProto.name");
        break;
      case 4:
        n.op_type = text(r, f, "NodeProto.op_type");
        break;
      case 5:
        n.attributes.push_back(decode_attribute(message(r, f, "NodeProto.attribute")));
        break;
      case 7:
        n.domain = text(r, f, "NodeProto.domain");
        break;
      default:
        break;
    }
  }
  return n;
}

inline ValueInfo decode_value_info(protobuf::Reader r) {
  using namespace proto_detail;
  ValueInfo v;
  while (!r.done()) {
    const Field f = r.next();
    if (f.number == 1) {
      v.name = text(r, f, "ValueInfoProto.name");
    } else if (f.number == 2) {
      Reader type = message(r, f, "ValueInfoProto.type");
      while (!type.done()) {
        const Field tf = type.next();
        if (tf.number != 1) continue;  // only tensor_type
        Reader tensor = message(type, tf, "TypeProto.tensor_type");
        while (!tensor.done()) {
          const Field ff = tensor.next();
          if (ff.number == 1) {
            v.elem_type = static_cast<int>(integer(tensor, ff, "TypeProto.Tensor.elem_type"));
          } else if (ff.number == 2) {
            v.has_shape = true;
            Reader shape = message(tensor, ff, "TypeProto.Tensor.shape");
            while (!shape.done()) {
              const Field sf = shape.next();
              if (sf.number != 1) continue;
              Reader dim = message(shape, sf, "TensorShapeProto.dim");
              std::int64_t value = -1;
              std::string param;
              while (!dim.done()) {
                const Field df = dim.next();
                if (df.number == 1) value = integer(dim, df, "Dimension.dim_value");
                if (df.number == 2) param = text(dim, df, "Dimension.dim_param");
              }
              v.dims.push_back(value);
              v.dim_params.push_back(param);
            }
          }
        }
      }
    }
  }
  return v;
}

inline Graph decode_graph(protobuf::Reader r) {
  using namespace proto_detail;
  Graph g;
  while (!r.done()) {
    const Field f = r.next();
    switch (f.number) {
      case 1:
        g.nodes.push_back(decode_node(message(r, f, "GraphProto.node")));
        break;
      case 2:
        g.name = text(r, f, "GraphProto.name");
        break;
      case 5:
        g.initializers.push_back(decode_tensor(message(r, f, "GraphProto.initializer")));
        break;
      case 11:
        g.inputs.push_back(decode_value_info(message(r, f, "GraphProto.input")));
        break;
      case 12:
        g.outputs.push_back(decode_value_info(message(r, f, "GraphProto.output")));
        break;
      default:
        break;
    }
  }
  return g;
}

// Decodes a whole .onnx file; `source` (the file name) starts every message.
inline Model decode_model(std::string_view bytes, const std::string& source) {
  using namespace proto_detail;
  require(!bytes.empty(), source, ": the file is empty; expected an ONNX model (a protobuf ModelProto)");
  Reader r(bytes, 0, source);
  Model m;
  m.opsets.clear();
  bool has_graph = false;
  while (!r.done()) {
    const Field f = r.next();
    switch (f.number) {
      case 1:
        m.ir_version = integer(r, f, "ModelProto.ir_version");
        break;
      case 2:
        m.producer_name = text(r, f, "ModelProto.producer_name");
        break;
      case 3:
        m.producer_version = text(r, f, "ModelProto.producer_version");
        break;
      case 6:
        m.doc_string = text(r, f, "ModelProto.doc_string");
        break;
      case 7:
        require(!has_graph, source, ": byte ", f.offset, ": a second ModelProto.graph");
        m.graph = decode_graph(message(r, f, "ModelProto.graph"));
        has_graph = true;
        break;
      case 8: {
        Reader o = message(r, f, "ModelProto.opset_import");
        std::string domain;
        std::int64_t version = 0;
        while (!o.done()) {
          const Field of = o.next();
          if (of.number == 1) domain = text(o, of, "OperatorSetIdProto.domain");
          if (of.number == 2) version = integer(o, of, "OperatorSetIdProto.version");
        }
        m.opsets.emplace_back(domain, version);
        break;
      }
      case 14: {
        Reader e = message(r, f, "ModelProto.metadata_props");
        std::string key, value;
        while (!e.done()) {
          const Field ef = e.next();
          if (ef.number == 1) key = text(e, ef, "StringStringEntryProto.key");
          if (ef.number == 2) value = text(e, ef, "StringStringEntryProto.value");
        }
        m.metadata.emplace_back(key, value);
        break;
      }
      default:
        break;
    }
  }
  require(has_graph, source, ": no graph (ModelProto field 7) found; is this an ONNX model file?");
  return m;
}

}  // namespace agnostic::io::onnx
