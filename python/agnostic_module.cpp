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
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/distributed/world.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/workspace.hpp"
#include "fit_command.hpp"

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
}
