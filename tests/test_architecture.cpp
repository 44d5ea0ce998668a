// The layers of include/agnostic/: docs/architecture.md lists, for every folder, the folders it may
// include; this test reads that list and every `#include "agnostic/..."` under include/, and fails on
// an include the list does not allow, on a cycle among the folders, on a public header that
// agnostic.hpp does not reach (but instances.hpp, which it must not), on a module header
// (agnostic/<folder>.hpp) that misses a header of its folder, and on a trigger path
// (agnostic/infer.hpp) that reaches the tape, nn/ or OpenMP.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
const fs::path kInclude = fs::path(AGNOSTIC_SOURCE_DIR) / "include";
const fs::path kArchitecture = fs::path(AGNOSTIC_SOURCE_DIR) / "docs" / "architecture.md";

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read ", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// "core/rng.hpp" -> "core"; "core.hpp" (a module header) and "agnostic.hpp" -> "".
std::string folder_of(const std::string& header) {
  const auto slash = header.find('/');
  return slash == std::string::npos ? std::string() : header.substr(0, slash);
}

// Every header under include/agnostic/, as "folder/name.hpp" relative to include/agnostic/.
std::set<std::string> all_headers() {
  std::set<std::string> headers;
  for (const auto& entry : fs::recursive_directory_iterator(kInclude / "agnostic"))
    if (entry.is_regular_file() && entry.path().extension() == ".hpp")
      headers.insert(fs::relative(entry.path(), kInclude / "agnostic").generic_string());
  return headers;
}

// The agnostic headers a header includes (quoted or angled), relative to include/agnostic/.
std::vector<std::string> agnostic_includes(const std::string& header) {
  static const std::regex include_line(R"(^\s*#\s*include\s*[<"]agnostic/([^">]+)[">])");
  std::vector<std::string> includes;
  std::istringstream text(read_text(kInclude / "agnostic" / header));
  std::smatch match;
  for (std::string line; std::getline(text, line);)
    if (std::regex_search(line, match, include_line)) includes.push_back(match[1]);
  return includes;
}

// The ```layers block of docs/architecture.md: "folder: allowed allowed ...", one line a folder.
std::map<std::string, std::set<std::string>> read_layers() {
  std::istringstream text(read_text(kArchitecture));
  std::map<std::string, std::set<std::string>> layers;
  bool inside = false;
  for (std::string line; std::getline(text, line);) {
    if (line.rfind("```layers", 0) == 0) {
      inside = true;
      continue;
    }
    if (!inside) continue;
    if (line.rfind("```", 0) == 0) break;
    const auto colon = line.find(':');
    REQUIRE_MESSAGE(colon != std::string::npos, "docs/architecture.md: layer line without ':': ", line);
    std::istringstream allowed(line.substr(colon + 1));
    auto& set = layers[line.substr(0, colon)];
    for (std::string folder; allowed >> folder;) set.insert(folder);
  }
  REQUIRE_MESSAGE(!layers.empty(), "docs/architecture.md has no ```layers block");
  return layers;
}

// The headers reachable from `start` through agnostic includes (start included).
std::set<std::string> closure(const std::string& start) {
  std::set<std::string> seen;
  std::function<void(const std::string&)> visit = [&](const std::string& header) {
    if (!seen.insert(header).second) return;
    for (const auto& included : agnostic_includes(header)) visit(included);
  };
  visit(start);
  return seen;
}

}  // namespace

TEST_CASE("architecture: every folder of include/agnostic/ has a line in docs/architecture.md") {
  const auto layers = read_layers();
  for (const auto& header : all_headers()) {
    const auto folder = folder_of(header);
    if (folder.empty()) continue;
    CHECK_MESSAGE(layers.count(folder) == 1, "folder ", folder, "/ (", header,
                  ") is missing from the layers of docs/architecture.md");
  }
  for (const auto& layer : layers)  // not a structured binding: clang 14 cannot capture one in CHECK's lambda
    for (const auto& below : layer.second)
      CHECK_MESSAGE(layers.count(below) == 1, "docs/architecture.md: ", layer.first, " may include ", below,
                    ", which has no line of its own");
}

TEST_CASE("architecture: the allowed folders form no cycle") {
  const auto layers = read_layers();
  std::map<std::string, int> state;  // 0 unvisited, 1 on the path, 2 done
  std::vector<std::string> path;
  std::function<void(const std::string&)> visit = [&](const std::string& folder) {
    if (state[folder] == 2) return;
    if (state[folder] == 1) {
      std::string cycle;
      for (const auto& f : path) cycle += f + " -> ";
      FAIL("docs/architecture.md: the folders form a cycle: ", cycle, folder);
      return;
    }
    state[folder] = 1;
    path.push_back(folder);
    const auto it = layers.find(folder);
    if (it != layers.end())
      for (const auto& below : it->second) visit(below);
    path.pop_back();
    state[folder] = 2;
  };
  for (const auto& [folder, allowed] : layers) visit(folder);
}

TEST_CASE("architecture: every include points down (or within its folder)") {
  const auto layers = read_layers();
  const auto headers = all_headers();
  for (const auto& header : headers) {
    const auto folder = folder_of(header);
    for (const auto& included : agnostic_includes(header)) {
      INFO(header, " includes agnostic/", included);
      CHECK_MESSAGE(headers.count(included) == 1, "agnostic/", included, " does not exist");
      const auto target = folder_of(included);
      if (header == "agnostic.hpp" || header == "instances.hpp") {
        CHECK_MESSAGE(target.empty(), header, " includes module headers only (agnostic/<folder>.hpp)");
      } else if (folder.empty()) {  // a module header: its own folder only
        CHECK_MESSAGE(target + ".hpp" == header, "a module header includes only its own folder");
      } else if (target != folder) {
        const auto it = layers.find(folder);
        CHECK_MESSAGE((it != layers.end() && it->second.count(target) == 1), folder, "/ may not include ",
                      target, "/ (docs/architecture.md)");
      }
    }
  }
}

TEST_CASE("architecture: agnostic.hpp reaches every header, and each module header its whole folder") {
  const auto headers = all_headers();
  const auto reached = closure("agnostic.hpp");
  // instances.hpp defines agnostic's float and double instances (core/explicit_instances.hpp): one
  // translation unit of a program includes it, so agnostic.hpp must not.
  CHECK_MESSAGE(reached.count("instances.hpp") == 0, "agnostic.hpp reaches agnostic/instances.hpp");
  for (const auto& header : headers)
    if (header != "instances.hpp")
      CHECK_MESSAGE(reached.count(header) == 1, "agnostic.hpp does not reach agnostic/", header);
  for (const auto& header : headers) {
    const auto folder = folder_of(header);
    if (folder.empty()) continue;
    const auto module = folder + ".hpp";
    REQUIRE_MESSAGE(headers.count(module) == 1, "no module header agnostic/", module, " for ", header);
    CHECK_MESSAGE(closure(module).count(header) == 1, "agnostic/", module, " does not reach agnostic/",
                  header);
  }
}

TEST_CASE("architecture: the trigger path (agnostic/infer.hpp) reaches no tape, no nn/ and no OpenMP") {
  for (const auto& header : closure("infer.hpp")) {
    INFO("agnostic/infer.hpp reaches agnostic/", header);
    const auto folder = folder_of(header);
    CHECK(folder != "autodiff");
    CHECK(folder != "nn");
    CHECK(folder != "train");
    const auto text = read_text(kInclude / "agnostic" / header);
    CHECK(text.find("<omp.h>") == std::string::npos);
    CHECK(text.find("#pragma omp") == std::string::npos);
  }
}
