#pragma once
// HEPData likelihoods: a background-only pyhf workspace plus a patchset, one JSON Patch (RFC 6902) per
// signal point. pyhf's patchset format 1.0.0:
//   {"metadata": {"description", "digests", "labels": [...], "references"},
//    "patches": [{"metadata": {"name": "...", "values": [one per label]}, "patch": [operations]}],
//    "version": "1.0.0"}
// The operations are applied with nlohmann::json::patch. A failing patch is reported with the patch's
// name, the number and text of the failing operation and nlohmann's reason. The sha256 digest of the
// background-only workspace is not checked (it hashes Python's own serialisation of the document).
#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/json_file.hpp"
#include "agnostic/stats/workspace.hpp"

namespace agnostic::stats {

struct Patch {
  std::string name;
  nlohmann::json values;      // the signal point's coordinates, one per label of the patchset
  nlohmann::json operations;  // the RFC 6902 operations
};

struct PatchSet {
  std::string source;  // file name, for messages
  std::string version = "1.0.0";
  std::string description;
  std::vector<std::string> labels;
  nlohmann::json metadata;
  std::vector<Patch> patches;

  std::string where() const { return source.empty() ? std::string("patchset") : source; }
  const Patch& patch(const std::string& name) const {
    std::string known;
    for (const auto& p : patches) {
      if (p.name == name) return p;
      known += (known.empty() ? "" : ", ") + p.name;
    }
    fail(where(), ": no patch named '", name, "' (the patchset has: ", known, ")");
  }
};

AGNOSTIC_COMPILED_WHEN_USED
inline PatchSet parse_patchset(const nlohmann::json& j, std::string source = "") {
  using namespace workspace_detail;
  PatchSet ps;
  ps.source = std::move(source);
  const std::string top = ps.where();
  require(j.is_object(), top, ": a patchset must be a JSON object, got ", j.type_name());
  only_keys(j, {"metadata", "patches", "version"}, top);
  ps.version = text(member(j, "version", top), top + ".version");
  require(ps.version == "1.0.0", top, ": unsupported patchset version '", ps.version, "' (supported: 1.0.0)");
  ps.metadata = member(j, "metadata", top);
  require(ps.metadata.is_object(), top, ".metadata: expected an object");
  if (ps.metadata.contains("description"))
    ps.description = text(ps.metadata["description"], top + ".metadata.description");
  const auto& labels = member(ps.metadata, "labels", top + ".metadata");
  require(labels.is_array(), top, ".metadata.labels: expected an array of strings");
  for (std::size_t i = 0; i < labels.size(); ++i)
    ps.labels.push_back(text(labels[i], top + ".metadata.labels[" + std::to_string(i) + "]"));
  const auto& patches = member(j, "patches", top);
  require(patches.is_array() && !patches.empty(), top, ".patches: expected a non-empty array");
  std::set<std::string> names;
  std::set<std::string> values_seen;
  for (std::size_t i = 0; i < patches.size(); ++i) {
    const std::string at = top + ".patches[" + std::to_string(i) + "]";
    only_keys(patches[i], {"metadata", "patch"}, at);
    const auto& meta = member(patches[i], "metadata", at);
    Patch p;
    p.name = text(member(meta, "name", at + ".metadata"), at + ".metadata.name");
    const std::string here = at + " (patch '" + p.name + "')";
    require(names.insert(p.name).second, here, ": duplicate patch name");
    p.values = member(meta, "values", here + ".metadata");
    require(p.values.is_array() && p.values.size() == ps.labels.size(), here, ".metadata.values: expected ",
            ps.labels.size(), " values (one per label), got ", p.values.dump());
    for (const auto& v : p.values)
      require(v.is_number() || v.is_string(), here, ".metadata.values: expected numbers or strings, got ",
              v.dump());
    require(values_seen.insert(p.values.dump()).second, here, ".metadata.values: ", p.values.dump(),
            " are the values of another patch");
    p.operations = member(patches[i], "patch", here);
    require(p.operations.is_array(), here, ".patch: expected an array of JSON Patch operations");
    for (std::size_t k = 0; k < p.operations.size(); ++k) {
      const auto& op = p.operations[k];
      const std::string ok = here + ".patch[" + std::to_string(k) + "]";
      (void)text(member(op, "op", ok), ok + ".op");
      (void)text(member(op, "path", ok), ok + ".path");
    }
    ps.patches.push_back(std::move(p));
  }
  return ps;
}

AGNOSTIC_COMPILED_WHEN_USED
inline PatchSet read_patchset(const std::string& path) {
  return parse_patchset(read_json_file(path, "patchset file"), path);
}

// The document with the patch applied. On failure the message names the patch and the failing operation.
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json apply_patch(const nlohmann::json& document, const Patch& patch,
                                  const std::string& where = "patchset") {
  try {
    return document.patch(patch.operations);
  } catch (const nlohmann::json::exception&) {
    // find the first operation that fails on the document as the earlier ones left it
  }
  nlohmann::json current = document;
  for (std::size_t k = 0; k < patch.operations.size(); ++k) {
    const auto& op = patch.operations[k];
    try {
      current = current.patch(nlohmann::json::array({op}));
    } catch (const nlohmann::json::exception& e) {
      fail(where, ": patch '", patch.name, "': operation ", k, " of ", patch.operations.size(), " (",
           op.dump(), ") failed: ", e.what());
    }
  }
  fail(where, ": patch '", patch.name, "' failed as a whole but each operation applies on its own");
}

// The background-only workspace with one patch applied, parsed and checked; messages name both files
// and the patch.
AGNOSTIC_COMPILED_WHEN_USED
inline Workspace patched_workspace(const Workspace& background_only, const PatchSet& patchset,
                                   const std::string& patch_name) {
  const Patch& patch = patchset.patch(patch_name);
  const nlohmann::json patched = apply_patch(background_only.json, patch, patchset.where());
  return parse_workspace(patched,
                         background_only.where() + " + patch '" + patch_name + "' of " + patchset.where());
}

}  // namespace agnostic::stats
