// `agnostic plot PATH... [--output DIR] [--format png|pdf|svg]`: draws the figures of training runs,
// fits and examples' results; `agnostic plot --trade-off RUN...`: the decorrelation trade-off of a
// set of runs. The drawing is done by tools/agnostic_plot.py with Debian's python3 and
// matplotlib (the plotting library HEP users already have); this command only finds the script and
// the interpreter and hands every argument over unread (the script parses them and prints --help).
// Figures and record formats: docs/plot.md.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "agnostic/core/error.hpp"
#include "commands.hpp"

// Where CMake puts things: the script in the source tree (for a build directory) and its install path
// relative to the installed binary (tools/CMakeLists.txt).
#ifndef AGNOSTIC_PLOT_SCRIPT_SOURCE
#define AGNOSTIC_PLOT_SCRIPT_SOURCE ""
#endif
#ifndef AGNOSTIC_PLOT_SCRIPT_FROM_BINARY
#define AGNOSTIC_PLOT_SCRIPT_FROM_BINARY "../share/agnostic/agnostic_plot.py"
#endif

namespace agnostic::tools {
namespace {

constexpr const char* kPlotInstallHint =
    "install python3 with matplotlib and numpy: apt-get install python3-matplotlib python3-numpy";

// The places the script may be, most specific first: $AGNOSTIC_PLOT_SCRIPT, next to the installed
// binary, next to the binary itself, the source tree this binary was built from.
std::vector<std::filesystem::path> plot_script_candidates() {
  namespace fs = std::filesystem;
  std::vector<fs::path> out;
  if (const char* env = std::getenv("AGNOSTIC_PLOT_SCRIPT"); env && *env) out.emplace_back(env);
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back(self.parent_path() / AGNOSTIC_PLOT_SCRIPT_FROM_BINARY);
    out.push_back(self.parent_path() / "agnostic_plot.py");
  }
  if (std::strlen(AGNOSTIC_PLOT_SCRIPT_SOURCE) > 0) out.emplace_back(AGNOSTIC_PLOT_SCRIPT_SOURCE);
  return out;
}

std::filesystem::path find_plot_script() {
  std::string looked;
  for (const auto& p : plot_script_candidates()) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) return p;
    looked += "\n  " + p.lexically_normal().string();
  }
  fail("cannot find the plotting script agnostic_plot.py; looked in:", looked,
       "\n(set AGNOSTIC_PLOT_SCRIPT to its path, or reinstall agnostic)");
}

// Debian's interpreter first: the python3 first on PATH may be another one without matplotlib.
std::string find_python() {
  if (const char* env = std::getenv("AGNOSTIC_PYTHON"); env && *env) return env;
  if (::access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
  if (const char* path = std::getenv("PATH")) {
    std::string dirs = path;
    for (std::size_t start = 0; start <= dirs.size();) {
      const std::size_t end = std::min(dirs.find(':', start), dirs.size());
      const std::string candidate = dirs.substr(start, end - start) + "/python3";
      if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
      start = end + 1;
    }
  }
  fail("agnostic plot needs python3, which was not found; ", kPlotInstallHint);
}

}  // namespace

// Replaces this process by `python3 agnostic_plot.py ARGS...`: the script's output and exit status
// become the command's (0: drawn; 1: a record could not be read; 3: matplotlib or numpy missing).
int plot_main(int argc, char** argv) {
  const std::string python = find_python();
  const std::string script = find_plot_script().string();
  std::vector<std::string> args = {python, script};
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<char*> raw;
  for (auto& a : args) raw.push_back(a.data());
  raw.push_back(nullptr);
  std::cout.flush();
  ::execv(python.c_str(), raw.data());
  fail("cannot run ", python, " ", script, ": ", std::strerror(errno), "; ", kPlotInstallHint);
}

}  // namespace agnostic::tools
