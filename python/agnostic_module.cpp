// The Python module `agnostic` (pybind11): the library's fits, workspaces, training and models for
// a notebook. Every entry point calls the same library functions the `agnostic` command calls
// (tools/*_command.hpp), so agnostic.fit(ws) returns exactly the document `agnostic fit` prints.
// The GIL is released while C++ runs. Errors become Python exceptions: FileNotFoundError for a file
// that cannot be opened, ValueError for any other agnostic::Error (bad input), RuntimeError for the
// rest. One translation unit: the module's whole compile time is this file (docs/python.md).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/json_file.hpp"
#include "agnostic/distributed/world.hpp"
#include "agnostic/infer/standalone_header.hpp"
#include "agnostic/io/column_selection.hpp"
#include "agnostic/io/data_file.hpp"
#include "agnostic/io/fingerprint.hpp"
#include "agnostic/io/lwtnn.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/io/model_forward.hpp"
#include "agnostic/io/onnx_export.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/workspace.hpp"
#include "agnostic/train/config.hpp"
#include "fit_command.hpp"
#include "train_run.hpp"  // train::run, compiled once (tools/train_run.cpp)

namespace py = pybind11;
using namespace agnostic;

namespace {

// ---------------------------------------------------------------------------------------------
// JSON between Python and C++: through Python's json module, whose float text (repr) reads back
// to the same double, so a dict fitted here equals the file the command reads.

nlohmann::json to_json_value(const py::handle& object, const char* what) {
  py::object dumps = py::module_::import("json").attr("dumps");
  std::string text;
  try {
    text = py::cast<std::string>(dumps(object, py::arg("allow_nan") = false));
  } catch (py::error_already_set& e) {
    throw py::value_error(std::string(what) + " cannot be written as JSON: " + e.what());
  }
  return nlohmann::json::parse(text);
}

py::object to_python(const nlohmann::ordered_json& document) {
  return py::module_::import("json").attr("loads")(document.dump());
}

bool is_path(const py::handle& object) {
  return py::isinstance<py::str>(object) || py::hasattr(object, "__fspath__");
}

std::string path_text(const py::handle& object) {
  return py::cast<std::string>(py::module_::import("os").attr("fspath")(object));
}

// A file the user named: FileNotFoundError here, before any C++ runs, names it.
void require_file(const std::string& path, const char* what) {
  if (!std::filesystem::exists(path)) {
    const std::string message = std::string(what) + " '" + path + "' does not exist";
    PyErr_SetString(PyExc_FileNotFoundError, message.c_str());
    throw py::error_already_set();
  }
}

// ---------------------------------------------------------------------------------------------
// agnostic.fit: keyword arguments become the command's options (upper_limit=True -> --upper-limit),
// read by the command's own parser, so that they mean exactly what they mean there.

std::string number_text(const py::handle& value) {
  if (py::isinstance<py::bool_>(value)) throw py::value_error("a number was expected, got a bool");
  if (py::isinstance<py::int_>(value)) return py::cast<std::string>(py::str(value));
  return py::cast<std::string>(py::repr(py::float_(py::reinterpret_borrow<py::object>(value))));
}

// (MIN, MAX, N) -> "MIN:MAX:N"; a string is taken as written.
std::string grid_text(const std::string& key, const py::handle& value) {
  if (py::isinstance<py::str>(value)) return py::cast<std::string>(value);
  const py::sequence s = py::reinterpret_borrow<py::sequence>(value);
  if (!py::isinstance<py::sequence>(value) || py::len(s) != 3)
    throw py::value_error(key + ": expected (MIN, MAX, N) or 'MIN:MAX:N', got " +
                          py::cast<std::string>(py::repr(value)));
  return number_text(s[0]) + ":" + number_text(s[1]) + ":" + number_text(s[2]);
}

struct FitArguments {
  std::vector<std::string> words{"fit"};
  std::string workspace_path;  // empty: the workspace is a dict
};

// The options agnostic.fit takes from the command (every one but the file ones of the command line).
const std::vector<std::string>& fit_keywords() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    for (const tools::Option& o : tools::fit_spec().options) {
      std::string key = o.name.substr(2);
      for (char& c : key)
        if (c == '-') c = '_';
      if (key != "output" && key != "list_patches" && key != "yields_table") out.push_back(key);
    }
    return out;
  }();
  return keys;
}

FitArguments fit_arguments(const py::kwargs& options) {
  FitArguments a;
  const auto& allowed = fit_keywords();
  for (const auto& [key_object, value] : options) {
    const std::string key = py::cast<std::string>(key_object);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
      throw py::type_error("agnostic.fit() got an unexpected keyword argument '" + key +
                           "' (allowed: " + list + ")");
    }
    std::string option = "--" + key;
    std::replace(option.begin(), option.end(), '_', '-');
    if (value.is_none() || (py::isinstance<py::bool_>(value) && !py::cast<bool>(value))) continue;
    if (py::isinstance<py::bool_>(value)) {  // a flag, or an option whose value may be left out
      a.words.push_back(option);
    } else if (key == "scan" || key == "cls_scan") {
      a.words.push_back(option);
      a.words.push_back(grid_text(key, value));
    } else if (key == "fix" || key == "set") {  // {"name": value}
      if (!py::isinstance<py::dict>(value))
        throw py::value_error(key + ": expected a dict {name: value}, got " +
                              py::cast<std::string>(py::repr(value)));
      for (const auto& [name, v] : py::reinterpret_borrow<py::dict>(value)) {
        a.words.push_back(option);
        a.words.push_back(py::cast<std::string>(py::str(name)) + "=" + number_text(v));
      }
    } else if (key == "mask") {  // a channel or a list of channels
      if (py::isinstance<py::str>(value)) {
        a.words.push_back(option);
        a.words.push_back(py::cast<std::string>(value));
      } else {
        for (const auto& channel : value) {
          a.words.push_back(option);
          a.words.push_back(py::cast<std::string>(py::str(channel)));
        }
      }
    } else if (key == "scan2d" && !py::isinstance<py::str>(value)) {  // ((A, MIN, MAX, N), (B, ...))
      std::string text;
      for (const auto& axis : value) {
        const py::sequence s = py::reinterpret_borrow<py::sequence>(axis);
        if (py::len(s) != 4) throw py::value_error("scan2d: expected ((A, MIN, MAX, N), (B, MIN, MAX, N))");
        text += (text.empty() ? "" : ",") + py::cast<std::string>(py::str(s[0])) + ":" + number_text(s[1]) +
                ":" + number_text(s[2]) + ":" + number_text(s[3]);
      }
      a.words.push_back(option);
      a.words.push_back(text);
    } else if (key == "patchset" || key == "breakdown") {
      a.words.push_back(option);
      a.words.push_back(path_text(value));
      require_file(a.words.back(), key == "patchset" ? "patchset file" : "breakdown groups file");
    } else if (py::isinstance<py::str>(value)) {
      a.words.push_back(option);
      a.words.push_back(py::cast<std::string>(value));
    } else {
      a.words.push_back(option);
      a.words.push_back(number_text(value));
    }
  }
  return a;
}

py::object fit(const py::object& workspace, const py::kwargs& options) {
  FitArguments a = fit_arguments(options);
  std::optional<stats::Workspace> ws;
  if (is_path(workspace)) {
    a.workspace_path = path_text(workspace);
    require_file(a.workspace_path, "workspace file");
    a.words.push_back(a.workspace_path);
  } else {
    if (!py::isinstance<py::dict>(workspace) && !py::hasattr(workspace, "keys"))
      throw py::type_error("agnostic.fit: the workspace must be a dict (pyhf JSON) or a path, got " +
                           py::cast<std::string>(py::repr(py::type::of(workspace))));
    ws = stats::parse_workspace(to_json_value(py::dict(workspace), "the workspace"),
                                "workspace (a Python dict)");
    a.words.push_back("(dict)");  // the parser wants a workspace; the dict above is fitted instead
  }
  std::vector<char*> argv;
  for (std::string& w : a.words) argv.push_back(w.data());
  const tools::FitCommandOptions o = tools::parse_fit_options(static_cast<int>(argv.size()), argv.data());
  nlohmann::ordered_json document;
  {
    py::gil_scoped_release release;
    Communicator& world = distributed::world();
    document = ws ? tools::fit_document(o, *ws, world) : tools::fit_document(o, world);
  }
  return to_python(document);
}

// ---------------------------------------------------------------------------------------------
// agnostic.Workspace: the likelihood of a workspace for one's own loops.

Eigen::VectorXd parameter_vector(const py::handle& values, int n, const char* what) {
  py::array_t<double, py::array::c_style | py::array::forcecast> a;
  try {
    a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(values);
  } catch (py::error_already_set&) {
  }
  if (!a) throw py::value_error(std::string(what) + ": expected a 1-D array of numbers");
  if (a.ndim() != 1 || a.shape(0) != n)
    throw py::value_error(std::string(what) + ": expected a 1-D array of " + std::to_string(n) +
                          " values (one per parameter, in the order of .parameters), got shape " +
                          py::cast<std::string>(py::str(py::tuple(
                              py::cast(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()))))));
  return Eigen::Map<const Eigen::VectorXd>(a.data(), n);
}

py::array_t<double> to_array(const Eigen::VectorXd& v) {
  py::array_t<double> out(v.size());
  std::copy(v.data(), v.data() + v.size(), out.mutable_data());
  return out;
}

class PythonWorkspace {
 public:
  PythonWorkspace(const py::object& workspace, const std::string& measurement, const std::string& poi) {
    stats::ModelOptions options;
    options.measurement = measurement;
    options.poi = poi;
    if (is_path(workspace)) {
      const std::string path = path_text(workspace);
      require_file(path, "workspace file");
      model_.emplace(stats::read_workspace(path), options);
    } else {
      model_.emplace(stats::parse_workspace(to_json_value(py::dict(workspace), "the workspace"),
                                            "workspace (a Python dict)"),
                     options);
    }
  }

  const stats::BinnedLikelihood& model() const { return *model_; }

  std::vector<std::string> parameters() const { return model_->names(); }

  double nll(const py::handle& values, bool asimov) const {
    const Eigen::VectorXd p = parameter_vector(values, model_->n_params(), "Workspace.nll(values)");
    py::gil_scoped_release release;
    const stats::Data data = asimov ? asimov_data() : model_->observed();
    return model_->nll(p, data);
  }

  py::array_t<double> expected(const py::handle& values) const {
    const Eigen::VectorXd p = parameter_vector(values, model_->n_params(), "Workspace.expected(values)");
    Eigen::VectorXd e;
    {
      py::gil_scoped_release release;
      e = model_->expected(p);
    }
    return to_array(e);
  }

  py::array_t<double> bounds() const {
    const int n = model_->n_params();
    py::array_t<double> out({n, 2});
    auto m = out.mutable_unchecked<2>();
    for (int i = 0; i < n; ++i) {
      m(i, 0) = model_->lower()(i);
      m(i, 1) = model_->upper()(i);
    }
    return out;
  }

 private:
  // The nominal model's expectation (every parameter at its initial value) as data, main and aux.
  stats::Data asimov_data() const {
    return {model_->expected(model_->init()), model_->expected_aux(model_->init())};
  }

  std::optional<stats::BinnedLikelihood> model_;
};

// ---------------------------------------------------------------------------------------------
// Columns from Python: a dict of 1-D arrays, a numpy structured array, or anything with .keys() and
// __getitem__ (a pandas DataFrame). float32 and float64 arrays of the machine's byte order are read in
// place (any stride: a structured array's field, a column of a 2-D array), the table holding a
// reference to each; other numbers are converted once to doubles; strings (labels such as "s"/"b")
// become text columns.

std::string shape_text(const py::array& a) {
  std::string out = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d)
    out += std::to_string(a.shape(d)) + (a.ndim() == 1 ? "," : d + 1 < a.ndim() ? ", " : "");
  return out + ")";
}

// Keeps a NumPy array alive while a table (or a copy of it) reads its memory in place. The last copy
// may go with the GIL released (at the end of a training run), so the reference is dropped under it.
std::shared_ptr<const void> python_owner(const py::array& a) {
  PyObject* object = a.inc_ref().ptr();
  return std::shared_ptr<const void>(static_cast<const void*>(object), [](const void* p) {
    py::gil_scoped_acquire gil;
    Py_DECREF(static_cast<PyObject*>(const_cast<void*>(p)));
  });
}

// A 1-D float32 or float64 array as a column read in place.
template <class T>
io::ColumnView column_in_place(const py::array& a) {
  return io::ColumnView(static_cast<const T*>(a.data()), static_cast<std::size_t>(a.shape(0)), a.strides(0));
}

// A numeric array of another dtype, converted to doubles by NumPy.
std::vector<double> column_converted(const py::module_& np, const py::array& a) {
  const py::array_t<double> converted = np.attr("ascontiguousarray")(a, py::arg("dtype") = "float64");
  return {converted.data(), converted.data() + converted.size()};
}

void add_column(io::Table& table, const std::string& name, const py::handle& values, const char* what) {
  const py::module_ np = py::module_::import("numpy");
  py::array a = np.attr("asarray")(values);
  if (a.ndim() != 1)
    throw py::value_error(std::string(what) + ": column '" + name + "' must be a 1-D array, got shape " +
                          shape_text(a));
  const char kind = a.dtype().kind();
  if (kind == 'f' && a.itemsize() == 8 && a.dtype().attr("isnative").cast<bool>()) {
    table.add_column(name, column_in_place<double>(a), python_owner(a));
  } else if (kind == 'f' && a.itemsize() == 4 && a.dtype().attr("isnative").cast<bool>()) {
    table.add_column(name, column_in_place<float>(a), python_owner(a));
  } else if (kind == 'f' || kind == 'i' || kind == 'u' || kind == 'b') {
    table.add_column(name, column_converted(np, a));
  } else if (kind == 'U' || kind == 'S' || kind == 'O') {
    std::vector<std::string> text;
    text.reserve(static_cast<std::size_t>(a.shape(0)));
    for (const auto& v : a.attr("tolist")()) {
      if (py::isinstance<py::bytes>(v))
        text.push_back(py::cast<std::string>(v));
      else if (py::isinstance<py::str>(v))
        text.push_back(py::cast<std::string>(v));
      else
        throw py::value_error(
            std::string(what) + ": column '" + name + "' holds objects that are not strings (" +
            py::cast<std::string>(py::repr(py::type::of(v))) + "); give numbers or strings");
    }
    table.add_text_column(name, std::move(text));
  } else {
    throw py::value_error(std::string(what) + ": column '" + name + "' has dtype " +
                          py::cast<std::string>(py::str(a.dtype())) + "; expected numbers or strings");
  }
}

io::Table table_from_columns(const py::handle& data, const char* what) {
  io::Table table(what);
  try {
    if (py::hasattr(data, "dtype") && !data.attr("dtype").attr("names").is_none()) {  // structured array
      for (const auto& name : data.attr("dtype").attr("names"))
        add_column(table, py::cast<std::string>(name), data[name], what);
    } else if (py::hasattr(data, "keys")) {
      for (const auto& name : data.attr("keys")())
        add_column(table, py::cast<std::string>(py::str(name)), data[name], what);
    } else {
      throw py::type_error(std::string(what) +
                           ": expected a dict of 1-D arrays, a numpy structured array or a DataFrame, got " +
                           py::cast<std::string>(py::repr(py::type::of(data))));
    }
  } catch (const agnostic::Error& e) {  // columns of different lengths, a name given twice
    throw py::value_error(std::string(what) + ": " + e.what());
  }
  return table;
}

// ---------------------------------------------------------------------------------------------
// Progress lines of a training run go to Python's sys.stdout (a notebook shows them), line by line.

class PythonStdout : public std::streambuf {
 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return 0;
    line_ += static_cast<char>(c);
    if (c == '\n') flush_line();
    return c;
  }
  int sync() override {
    flush_line();
    return 0;
  }

 private:
  void flush_line() {
    if (line_.empty()) return;
    py::gil_scoped_acquire gil;
    py::module_::import("sys").attr("stdout").attr("write")(line_);
    line_.clear();
  }
  std::string line_;
};

// ---------------------------------------------------------------------------------------------
// agnostic.train: `agnostic train CONFIG [--output DIR] [--resume|--force]`, the data optionally
// given as columns instead of data.files.

constexpr const char* kPythonData = "(data given to agnostic.train)";

py::object train_run(const py::object& config, const py::object& data, const py::object& out, bool resume,
                     bool force) {
  train::TrainConfig c;
  if (is_path(config)) {
    const std::string path = path_text(config);
    require_file(path, "config file");
    if (data.is_none()) {
      c = train::read_config(path);
    } else {  // data.files may be left out when the data are given
      nlohmann::json j = read_json_file(path, "config file", /*comments=*/true);
      if (j.is_object() && j.contains("data") && j["data"].is_object() && !j["data"].contains("files"))
        j["data"]["files"] = {kPythonData};
      c = train::config_from_json(j, path, std::filesystem::path(path).parent_path());
    }
  } else {
    nlohmann::json j = to_json_value(config, "the config");
    if (!data.is_none() && j.is_object() && j.contains("data") && j["data"].is_object() &&
        !j["data"].contains("files"))
      j["data"]["files"] = {kPythonData};
    c = train::config_from_json(j, "config (a Python dict)");
  }
  std::optional<io::LentTable> lent;
  if (!data.is_none()) {
    c.data.files = {kPythonData};
    lent.emplace(kPythonData, table_from_columns(data, "data"));
  }
  if (!out.is_none()) c.output.directory = path_text(out);
  PythonStdout to_python_stdout;
  std::ostream progress(&to_python_stdout);
  train::RunOptions options{.resume = resume, .out = &progress};
  train::RunResult result;
  {
    py::gil_scoped_release release;
    train::require_fresh_output_directory(c.output.directory, resume, force);
    result = train::run(c, options);
    progress.flush();
  }
  return to_python(nlohmann::ordered_json(result.summary));
}

// ---------------------------------------------------------------------------------------------
// agnostic.Model: a model file, its predictions and its exports.

class PythonModel {
 public:
  explicit PythonModel(io::ModelFile<float> model, std::string source)
      : model_(std::move(model)), source_(std::move(source)) {}

  static PythonModel load(const py::object& path_object) {
    const std::string path = path_text(path_object);
    require_file(path, "model file");
    io::ModelFile<float> model;
    {
      py::gil_scoped_release release;
      model = io::read_model<float>(path);
    }
    return PythonModel(std::move(model), path);
  }

  const io::ModelFile<float>& model() const { return model_; }

  // The events as a table with the model's feature columns: columns by name, or a 2-D array whose
  // columns are the features in the order of feature_names.
  io::Table events(const py::handle& x) const {
    const auto features = model_.feature_names();
    const bool columns = (py::hasattr(x, "dtype") && !x.attr("dtype").attr("names").is_none()) ||
                         (!py::isinstance<py::array>(x) && py::hasattr(x, "keys"));
    if (columns) return table_from_columns(x, "Model.predict(X)");
    const py::array a = py::module_::import("numpy").attr("asarray")(x);
    if (a.ndim() != 2 || a.shape(1) != static_cast<py::ssize_t>(features.size()))
      throw py::value_error("Model.predict(X): expected a 2-D array of " + std::to_string(features.size()) +
                            " columns (the features " + io::Standardisation{features, {}, {}}.describe() +
                            "), got shape " + shape_text(a));
    io::Table table("Model.predict(X)");
    for (std::size_t j = 0; j < features.size(); ++j)
      add_column(table, features[j], a[py::make_tuple(py::slice(py::none(), py::none(), py::none()), j)],
                 "Model.predict(X)");
    return table;
  }

  py::array_t<float> predict(const py::handle& x) const {
    const io::Table table = events(x);
    io::ColumnSelection selection;
    selection.features = model_.feature_names();
    for (const auto& name : selection.features)
      if (!table.has_column(name))
        throw py::value_error("Model.predict(X): X has no column '" + name + "', which model '" + source_ +
                              "' needs; its columns are: " + table.describe_columns());
    Matrix<float> y;
    {
      py::gil_scoped_release release;
      const io::SelectedColumns<float> selected =
          io::select_columns<float>(table, selection, model_.missing_values);
      y = io::predict(model_, selected.features);
    }
    py::array_t<float> out({static_cast<py::ssize_t>(y.rows()), static_cast<py::ssize_t>(y.cols())});
    auto o = out.mutable_unchecked<2>();
    for (Index r = 0; r < y.rows(); ++r)
      for (Index k = 0; k < y.cols(); ++k) o(r, k) = y(r, k);
    return out;
  }

  // `agnostic export MODEL --format FORMAT --output PATH [--name NAME]`; its notes become warnings.
  void export_to(const std::string& format, const py::object& path_object, const std::string& name) const {
    const std::string output = path_text(path_object);
    if (format != "lwtnn" && format != "onnx" && format != "header")
      throw py::value_error("Model.export: unknown format '" + format + "'; expected onnx, lwtnn or header");
    if (format != "header" && !name.empty())
      throw py::value_error("Model.export: name applies to format 'header' only");
    std::vector<std::string> notes;
    {
      py::gil_scoped_release release;
      if (format == "onnx") {
        io::write_onnx(output, model_);
      } else if (format == "lwtnn") {
        io::write_json_atomically(output, io::lwtnn_json(model_));
        if (!model_.missing_values.empty())
          notes.push_back(
              "the missing-value replacements are lwtnn \"defaults\"; give lwtnn the inputs with "
              "the missing values already replaced");
      } else {
        write_file_atomically(
            output, infer::standalone_header(
                        model_, name.empty() ? std::filesystem::path(output).stem().string() : name));
      }
    }
    if (!model_.branches.empty())
      notes.push_back(std::to_string(model_.branches.size()) +
                      " branch(es) of the model (adversary, domain classifier) are not exported");
    for (const auto& note : notes) PyErr_WarnEx(PyExc_UserWarning, note.c_str(), 1);
  }

 private:
  io::ModelFile<float> model_;
  std::string source_;
};

// agnostic.read_data: a data file as the library reads it (the columns training and predict see).
py::dict read_data(const py::object& path_object) {
  const std::string path = path_text(path_object);
  require_file(path, "data file");
  io::Table table;
  {
    py::gil_scoped_release release;
    table = io::read_table(path);
  }
  py::dict out;
  for (const auto& name : table.column_names()) {
    const auto c = table.column(name);
    py::array_t<double> a(static_cast<py::ssize_t>(c.size()));
    std::copy(c.begin(), c.end(), a.mutable_data());
    out[py::str(name)] = a;
  }
  const py::module_ np = py::module_::import("numpy");
  for (const auto& name : table.text_column_names())
    out[py::str(name)] = np.attr("array")(py::cast(table.text_column(name)), py::arg("dtype") = "str");
  return out;
}

// agnostic._lent_table(data), a test hook: the columns as agnostic.train lends them and the data layer
// reads them back (io::read_tables, as every method's data preparation does): the address, type and
// stride of each numeric column, so that a test sees an array read in place, and the data fingerprint
// a checkpoint records.
py::dict lent_table(const py::object& data) {
  const io::LentTable lent(kPythonData, table_from_columns(data, "data"));
  const io::Table table = io::read_tables({kPythonData});
  py::dict columns;
  for (const auto& name : table.column_names()) {
    const io::ColumnView c = table.column(name);
    columns[py::str(name)] =
        py::make_tuple(reinterpret_cast<std::uintptr_t>(c.data()), std::string(c.type_name()), c.stride());
  }
  py::dict out;
  out["columns"] = columns;
  out["fingerprint"] = io::data_fingerprint({kPythonData});
  return out;
}

}  // namespace

PYBIND11_MODULE(agnostic, m) {
  m.doc() =
      "agnostic: fits of pyhf JSON workspaces, training by the methods of docs/config.md, and model files, "
      "from Python. Every function calls the library functions the `agnostic` command calls; see "
      "docs/python.md.";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const agnostic::Error& e) {
      const std::string message = e.what();
      if (message.rfind("cannot open ", 0) == 0)
        PyErr_SetString(PyExc_FileNotFoundError, e.what());
      else
        PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const nlohmann::json::exception& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

#ifdef AGNOSTIC_HDF5
  m.attr("has_hdf5") = true;
#else
  m.attr("has_hdf5") = false;
#endif
  m.def("read_data", &read_data, py::arg("path"),
        "read_data(path) -> dict\n\n"
        "A data file (.csv, .tsv, .txt, .npy, and .h5/.hdf5 when has_hdf5) as training and predict read it:\n"
        "numeric columns as float64 arrays (in file order), then text columns as arrays of str.");

  m.def(
      "_lent_table", &lent_table, py::arg("data"),
      "_lent_table(data) -> dict\n\n"
      "Test hook: the columns as agnostic.train reads them, {\"columns\": {name: (address, type, stride)},\n"
      "\"fingerprint\": the data fingerprint a checkpoint records}.");

  m.def("fit", &fit, py::arg("workspace"),
        "fit(workspace, **options) -> dict\n\n"
        "Fits a pyhf JSON workspace (a dict as json.load gives, a pyhf.Workspace, or a path) by maximum\n"
        "likelihood and returns the document `agnostic fit` prints, as a dict. The options are the\n"
        "command's, with '_' for '-': asimov=True, poi='mu', measurement='m', minos=True, scan=True or\n"
        "scan=(0, 3, 31), cls=1.0, upper_limit=True, cl=0.95, cls_scan=(0, 3, 7), test_stat='qtilde',\n"
        "impacts=True, toys=1000, seed=1, threads=4, patchset='patchset.json', patch='name'|'all',\n"
        "fix={'name': value}, set={'name': value}, mask=['channel'], breakdown=True or a groups file,\n"
        "scan2d=(('a', 0, 2, 11), ('b', -1, 1, 11)), significance=True, goodness_of_fit=True,\n"
        "normsys_interp='code4', histosys_interp='code4p'. The GIL is released while it fits.");

  py::class_<PythonWorkspace>(m, "Workspace",
                              "The binned likelihood of a pyhf JSON workspace, for one's own loops.")
      .def(py::init<const py::object&, const std::string&, const std::string&>(), py::arg("workspace"),
           py::arg("measurement") = "", py::arg("poi") = "",
           "Workspace(workspace, measurement='', poi='')\n\n"
           "workspace: a dict (pyhf JSON) or a path. measurement: its name (default the first); poi: the\n"
           "parameter of interest (default the measurement's).")
      .def_property_readonly("parameters", &PythonWorkspace::parameters,
                             "Names of every parameter in model order (per-bin modifiers as 'name[i]').")
      .def_property_readonly(
          "poi",
          [](const PythonWorkspace& w) {
            return w.model().names()[static_cast<std::size_t>(w.model().poi())];
          },
          "Name of the parameter of interest.")
      .def_property_readonly(
          "init", [](const PythonWorkspace& w) { return to_array(w.model().init()); },
          "Initial values of the parameters (numpy array, model order).")
      .def_property_readonly("bounds", &PythonWorkspace::bounds,
                             "Bounds of the parameters: numpy array of shape (n_parameters, 2).")
      .def_property_readonly(
          "fixed", [](const PythonWorkspace& w) { return w.model().fixed(); },
          "Whether each parameter is held fixed (list of bool, model order).")
      .def_property_readonly(
          "observed", [](const PythonWorkspace& w) { return to_array(w.model().observed().main); },
          "The observed counts of every bin, channels in workspace order (numpy array).")
      .def_property_readonly(
          "channels",
          [](const PythonWorkspace& w) {
            py::list out;
            for (const auto& c : w.model().channels()) out.append(py::make_tuple(c.name, c.offset, c.bins));
            return out;
          },
          "(name, first bin, number of bins) of each channel, in the order of the bins.")
      .def("nll", &PythonWorkspace::nll, py::arg("values"), py::arg("asimov") = false,
           "nll(values, asimov=False) -> float\n\n"
           "-log L (with its constants) at the parameter values (1-D array in the order of .parameters), of\n"
           "the observed data, or with asimov=True of the nominal model's expectation.")
      .def("expected", &PythonWorkspace::expected, py::arg("values"),
           "expected(values) -> numpy.ndarray\n\n"
           "The expected yield of every bin (channels in workspace order) at the parameter values.");

  m.def("train", &train_run, py::arg("config"), py::arg("data") = py::none(), py::arg("out") = py::none(),
        py::arg("resume") = false, py::arg("force") = false,
        "train(config, data=None, out=None, resume=False, force=False) -> dict\n\n"
        "Trains as `agnostic train` does, by the config's method (docs/config.md), and returns the run's\n"
        "summary (summary.json). config: a dict or a path. data: columns that replace data.files (which\n"
        "may then be left out): a dict of 1-D arrays, a numpy structured array or a pandas DataFrame;\n"
        "numbers in any dtype (float32 and float64 arrays are read in place: leave them unchanged while\n"
        "it trains), strings for text labels. out: the output directory (default the config's\n"
        "output.directory); it must be missing or empty unless resume=True (continue the run in it: the\n"
        "same config and data, checked by the checkpoint's data fingerprint) or force=True (write into\n"
        "it). Progress lines go to sys.stdout. The GIL is released while it trains.");

  py::class_<PythonModel>(m, "Model", "A model file (model.json) of a training run or of `agnostic import`.")
      .def_static("load", &PythonModel::load, py::arg("path"),
                  "Model.load(path) -> Model: reads a model file (its test vector is checked).")
      .def_property_readonly(
          "feature_names", [](const PythonModel& p) { return p.model().feature_names(); },
          "The feature columns the model reads, in order (without missing-value indicators).")
      .def_property_readonly(
          "inputs", [](const PythonModel& p) { return p.model().inputs.names; },
          "The network's inputs: the features, then the missing-value indicator columns.")
      .def_property_readonly(
          "outputs", [](const PythonModel& p) { return p.model().outputs; },
          "The names of the outputs, one per column of predict's result.")
      .def_property_readonly(
          "n_parameters", [](const PythonModel& p) { return p.model().parameter_count(); },
          "Number of weights and biases (branches included).")
      .def_property_readonly(
          "training",
          [](const PythonModel& p) { return to_python(nlohmann::ordered_json(p.model().training)); },
          "The training provenance the file records (config, date, seed, ...), as a dict.")
      .def("predict", &PythonModel::predict, py::arg("X"),
           "predict(X) -> numpy.ndarray of float32, shape (events, outputs)\n\n"
           "X: a 2-D array whose columns are feature_names in order, or columns by name (a dict of 1-D\n"
           "arrays, a structured array, a DataFrame; other columns are ignored). The missing-value rules\n"
           "and the standardisation of the file are applied, as `agnostic predict` does.")
      .def("export", &PythonModel::export_to, py::arg("format"), py::arg("path"), py::arg("name") = "",
           "export(format, path, name='')\n\n"
           "Writes the model as `agnostic export` does: format 'onnx', 'lwtnn' (JSON) or 'header' (a\n"
           "standalone C++17 header; name: its namespace, default the file's stem). Parts that are not\n"
           "exported are reported as warnings.");
}
