#pragma once
// read_json_file: a whole JSON document from a file, for every reader of the project's JSON files
// (configs, workspaces, patchsets, model files, ensembles), so that each says the same two things
// when it fails: "cannot open <what> '<path>'" and "<what> '<path>' is not valid JSON: <line,
// column and reason from the parser>".
#include <fstream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"

namespace agnostic {

// `what` names the kind of file in messages ("workspace file", "config file"); `comments` lets
// /* ... */ and // comments through (configs are written by hand).
inline nlohmann::json read_json_file(const std::string& path, std::string_view what, bool comments = false) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot open ", what, " '", path, "'");
  try {
    return nlohmann::json::parse(in, nullptr, true, comments);
  } catch (const nlohmann::json::exception& e) {
    fail(what, " '", path, "' is not valid JSON: ", e.what());
  }
}

}  // namespace agnostic
