// Tests for stats/workspace_build.hpp (templates from scored events, against numbers worked out by
// hand in the comments) and for stats/workspace_tools.hpp (pyhf's inspect, prune, rename, combine, sort and
// digest) and the `agnostic workspace` command: each output is compared byte for byte with what pyhf's own
// command line printed for the same input (tests/data/workspace_tools/pyhf/, made by
// make_references.sh there); the Python-style JSON writer and SHA-256 against published values.
#include <doctest/doctest.h>

#include <agnostic/stats/workspace_build.hpp>
#include <agnostic/stats/workspace_tools.hpp>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

using namespace agnostic;
using namespace agnostic::stats;

namespace {

const std::string kToolsData = AGNOSTIC_SOURCE_DIR "/tests/data/workspace_tools/";

std::string tools_file_text(const std::string& name) {
  std::ifstream in(kToolsData + name, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open ", name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

nlohmann::json tools_workspace(const std::string& name) {
  return nlohmann::json::parse(tools_file_text(name));
}

// pyhf's command line prints the JSON and a newline (click.echo).
std::string pyhf_printed(const std::string& name) {
  std::string text = tools_file_text("pyhf/" + name);
  REQUIRE(!text.empty());
  REQUIRE(text.back() == '\n');
  text.pop_back();
  return text;
}

template <class F>
std::string tools_error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

struct WorkspaceCommandRun {
  int code;
  std::string output;  // standard output and error together
};

// Runs `agnostic workspace ARGUMENTS` in the data folder.
WorkspaceCommandRun run_workspace_command(const std::string& arguments) {
  const auto log =
      std::filesystem::temp_directory_path() / ("agnostic_test_workspace_" + std::to_string(::getpid()));
  const std::string command = "cd '" + kToolsData +
                              "' && '" AGNOSTIC_BINARY_DIR "/tools/agnostic' workspace " + arguments +
                              " > '" + log.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(log);
  std::ostringstream text;
  text << in.rdbuf();
  std::filesystem::remove(log);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str()};
}

}  // namespace

TEST_CASE("python_json_text writes numbers and strings as Python's json.dumps") {
  using nlohmann::json;
  const json numbers = json::array({50.0, 1e-05, 0.0001, 1e16, 1.5e16, 123456789.0, 1e15, 0.1, -2.5, 100, -7,
                                    0.0, -0.0, 2.5e-07, 1.0 / 3.0});
  // Values from Python 3: json.dumps([...]) of the same list.
  CHECK(
      python_json_text(numbers, -1) ==
      "[50.0, 1e-05, 0.0001, 1e+16, 1.5e+16, 123456789.0, 1000000000000000.0, 0.1, -2.5, 100, -7, 0.0, -0.0, "
      "2.5e-07, 0.3333333333333333]");
  const json strings = {{"b", "caf\xc3\xa9 \"q\"\n"}, {"a", json::array()}, {"c", json::object()}};
  CHECK(python_json_text(strings, -1, false) ==
        "{\"a\": [], \"b\": \"caf\xc3\xa9 \\\"q\\\"\\n\", \"c\": {}}");
  CHECK(python_json_text(strings, 2) ==
        "{\n  \"a\": [],\n  \"b\": \"caf\\u00e9 \\\"q\\\"\\n\",\n  \"c\": {}\n}");
}

TEST_CASE("workspace_digest is pyhf's sha256 digest") {
  using workspace_tools_detail::sha256_hex;
  // FIPS 180-4 examples.
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // pyhf.utils.digest's docstring example.
  CHECK(workspace_digest(nlohmann::json{{"a", 2.0}, {"b", 3.0}, {"c", 1.0}}) ==
        "a38f6093800189b79bc22ef677baf90c75705af2cfc7ff594159eca54eaa7928");
  CHECK("sha256:" + workspace_digest(tools_workspace("two_channels.json")) ==
        pyhf_printed("digest_two_channels.txt"));
  CHECK("sha256:" + workspace_digest(tools_workspace("other_channel.json")) ==
        pyhf_printed("digest_other_channel.txt"));
}

TEST_CASE("inspect, sort, prune and rename give pyhf's outputs") {
  const auto ws = tools_workspace("two_channels.json");
  const auto inspection = inspect_workspace(ws);
  CHECK(inspect_text(inspection) == tools_file_text("pyhf/inspect_two_channels.txt"));
  CHECK(python_json_text(to_json(inspection)) == tools_file_text("pyhf/inspect_two_channels.json"));
  CHECK(inspect_text(inspect_workspace(tools_workspace("other_channel.json"))) ==
        tools_file_text("pyhf/inspect_other_channel.txt"));

  CHECK(python_json_text(sorted_workspace(ws)) == pyhf_printed("sort_two_channels.json"));

  WorkspacePrune prune;
  prune.channels = {"CR"};
  prune.modifier_types = {"lumi"};
  prune.measurements = {"alt"};
  CHECK(python_json_text(prune_workspace(ws, prune)) == pyhf_printed("prune_channel_type_measurement.json"));
  WorkspacePrune prune2;
  prune2.samples = {"signal"};
  prune2.modifiers = {"bkg_shape", "staterror_SR"};
  CHECK(python_json_text(prune_workspace(ws, prune2)) == pyhf_printed("prune_sample_modifiers.json"));

  WorkspaceRename rename;
  rename.channels = {{"SR", "SignalRegion"}};
  rename.samples = {{"background", "bkg"}};
  rename.modifiers = {{"mu", "mu_sig"}, {"sig_theory", "theory_sig"}};
  rename.measurements = {{"nominal", "main"}};
  CHECK(python_json_text(rename_workspace(ws, rename)) == pyhf_printed("rename_all.json"));
}

TEST_CASE("prune and rename name what they cannot find or would break") {
  const auto ws = tools_workspace("two_channels.json");
  WorkspacePrune prune;
  prune.channels = {"SR2"};
  CHECK(tools_error_of([&] { prune_workspace(ws, prune); }) ==
        "prune: no channel named 'SR2' (channels: CR, SR)");
  WorkspacePrune by_type;
  by_type.modifier_types = {"shapefactor"};
  CHECK(tools_error_of([&] { prune_workspace(ws, by_type); }) ==
        "prune: no modifier type named 'shapefactor' (modifier types: histosys, lumi, normfactor, normsys, "
        "shapesys, "
        "staterror)");
  WorkspacePrune everything;
  everything.channels = {"SR", "CR"};
  CHECK(tools_error_of([&] { prune_workspace(ws, everything); }).find("prune's output") != std::string::npos);
  WorkspaceRename lumi;
  lumi.modifiers = {{"lumi", "luminosity"}};
  CHECK(tools_error_of([&] { rename_workspace(ws, lumi); }) ==
        "rename: modifier 'lumi' is of type lumi, which pyhf's schema requires to be named 'lumi'");
  WorkspaceRename collide;
  collide.samples = {{"signal", "background"}};
  CHECK(tools_error_of([&] { rename_workspace(ws, collide); }).find("duplicate sample name") !=
        std::string::npos);
  WorkspaceRename unknown;
  unknown.measurements = {{"nominl", "x"}};
  CHECK(tools_error_of([&] { rename_workspace(ws, unknown); }) ==
        "rename: no measurement named 'nominl' (measurements: nominal, alt)");
}

TEST_CASE("combine_workspaces joins as pyhf's combine") {
  const auto ws = tools_workspace("two_channels.json");
  const auto other = tools_workspace("other_channel.json");
  const auto overlapping = tools_workspace("overlapping.json");
  CHECK(python_json_text(combine_workspaces(ws, other, WorkspaceJoin::none)) ==
        pyhf_printed("combine_none.json"));
  CHECK(python_json_text(combine_workspaces(ws, overlapping, WorkspaceJoin::outer, true)) ==
        pyhf_printed("combine_outer_merge.json"));
  CHECK(python_json_text(combine_workspaces(ws, overlapping, parse_workspace_join("left outer"))) ==
        pyhf_printed("combine_left_outer.json"));
  CHECK(python_json_text(combine_workspaces(ws, overlapping, parse_workspace_join("right outer"))) ==
        pyhf_printed("combine_right_outer.json"));
  CHECK(python_json_text(combine_workspaces(ws, overlapping, WorkspaceJoin::right_outer, true)) ==
        pyhf_printed("combine_right_outer_merge.json"));

  CHECK(tools_error_of([&] { combine_workspaces(ws, overlapping, WorkspaceJoin::none); }) ==
        "combine: both workspaces have channel SR (join none needs distinct names; try --join outer, 'left "
        "outer' or "
        "'right outer')");
  CHECK(
      tools_error_of([&] { combine_workspaces(ws, overlapping, WorkspaceJoin::outer); }) ==
      "combine: both workspaces have channel SR but they differ (join outer needs identical items of a name; "
      "--merge-channels merges their samples)");
  CHECK(tools_error_of([&] { combine_workspaces(ws, other, WorkspaceJoin::none, true); }) ==
        "combine: --merge-channels needs join outer, 'left outer' or 'right outer' (not none)");
  CHECK(tools_error_of([&] { parse_workspace_join("inner"); }) ==
        "combine: unknown join 'inner' (joins: none, outer, left outer, right outer)");
  auto other_poi = overlapping;
  other_poi["measurements"][0]["config"]["poi"] = "ttbar_xsec";
  CHECK(tools_error_of([&] { combine_workspaces(ws, other_poi, WorkspaceJoin::outer, true); }) ==
        "combine: both workspaces have measurement 'nominal' with different POIs (mu and ttbar_xsec)");
}

TEST_CASE("agnostic workspace: pyhf's options, outputs and messages") {
  auto run =
      run_workspace_command("prune two_channels.json --channel CR --modifier-type lumi --measurement alt");
  CHECK(run.code == 0);
  CHECK(run.output == pyhf_printed("prune_channel_type_measurement.json") + "\n");
  run = run_workspace_command(
      "rename two_channels.json --channel SR SignalRegion --sample background bkg --modifier mu mu_sig "
      "--modifier sig_theory theory_sig --measurement nominal main");
  CHECK(run.code == 0);
  CHECK(run.output == pyhf_printed("rename_all.json") + "\n");
  run = run_workspace_command(
      "combine two_channels.json overlapping.json --join 'right outer' --merge-channels");
  CHECK(run.code == 0);
  CHECK(run.output == pyhf_printed("combine_right_outer_merge.json") + "\n");
  run = run_workspace_command("digest - < two_channels.json");
  CHECK(run.code == 0);
  CHECK(run.output == pyhf_printed("digest_two_channels.txt") + "\n");
  run = run_workspace_command("inspect other_channel.json");
  CHECK(run.code == 0);
  CHECK(run.output == tools_file_text("pyhf/inspect_other_channel.txt"));
  run = run_workspace_command("prune two_channels.json --channel SR2");
  CHECK(run.code == 1);
  CHECK(run.output == "agnostic workspace: error: prune: no channel named 'SR2' (channels: CR, SR)\n");
  run = run_workspace_command("rename two_channels.json --sample signal");
  CHECK(run.code == 1);
  CHECK(run.output == "agnostic workspace: error: option --sample needs two values (--sample OLD NEW)\n");
  const auto built =
      std::filesystem::temp_directory_path() / ("agnostic_test_built_" + std::to_string(::getpid()));
  run = run_workspace_command("build build/two_bins.json --output '" + built.string() + "'");
  CHECK(run.code == 0);
  CHECK(run.output ==
        "agnostic workspace build: 1 channels, 2 bins, 2 samples, 7 modifiers -> " + built.string() + "\n");
  std::ifstream built_file(built);
  std::ostringstream built_text;
  built_text << built_file.rdbuf();
  CHECK(built_text.str() ==
        python_json_text(build_workspace(tools_workspace("build/two_bins.json"), kToolsData + "build")) +
            "\n");
  std::filesystem::remove(built);
  run = run_workspace_command("split two_channels.json");
  CHECK(run.code == 1);
  CHECK(run.output.find(
            "unknown workspace tool 'split' (tools: inspect, prune, rename, combine, digest, sort") !=
        std::string::npos);
}

TEST_CASE("smooth_variation and equal_population_edges by hand") {
  // d = [0.1, 0, 0.3, 0, 0.1] -> median of three [0.1, 0.1, 0, 0.1, 0.1] -> hanning [0.1, 0.075, 0.05, 0.075,
  // 0.1]
  const std::vector<double> nominal(5, 10.0);
  const auto smoothed = smooth_variation(nominal, {11.0, 10.0, 13.0, 10.0, 11.0});
  const std::vector<double> expected = {11.0, 10.75, 10.5, 10.75, 11.0};
  REQUIRE(smoothed.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) CHECK(smoothed[i] == doctest::Approx(expected[i]).epsilon(1e-14));
  CHECK(smooth_variation({1.0, 2.0}, {3.0, 1.0}) == std::vector<double>{3.0, 1.0});
  // Values 1..8 of weight 1 in four bins: the cumulative weight reaches 2, 4, 6 at 2, 4, 6.
  const std::vector<double> values = {8, 3, 1, 5, 2, 7, 4, 6};
  CHECK(equal_population_edges(values, std::vector<double>(8, 1.0), 4, 0.0, 9.0, "test") ==
        std::vector<double>{0.0, 2.5, 4.5, 6.5, 9.0});
  // Weights 3, 1, 1, 1 at 1..4: half the weight is reached at the first value.
  CHECK(equal_population_edges({1, 2, 3, 4}, {3, 1, 1, 1}, 2, 0.0, 5.0, "test") ==
        std::vector<double>{0.0, 1.5, 5.0});
  CHECK(tools_error_of([] {
          equal_population_edges({1, 1, 1, 1, 2}, {1, 1, 1, 1, 1}, 4, 0.0, 5.0, "binning");
        }) == "binning: 4 bins of equal population need more distinct values (two edges coincide at 1)");
}

TEST_CASE("build_workspace: one bin, every modifier, by hand") {
  const auto ws =
      build_workspace(tools_workspace("build/one_bin.json"), kToolsData + "build", "one_bin.json");
  const Workspace parsed = parse_workspace(ws, "built");
  REQUIRE(parsed.channels.size() == 1);
  const auto& samples = parsed.channels[0].samples;
  REQUIRE(samples.size() == 2);
  // signal: events 0.7 (w 0.5) and 0.9 (w 1.5) in [0.5, 1]; 0.2 is outside.
  CHECK(samples[0].data == std::vector<double>{2.0});
  REQUIRE(samples[0].modifiers.size() == 4);
  CHECK(samples[0].modifiers[0].type == "normfactor");
  CHECK(samples[0].modifiers[0].name == "mu");
  CHECK(samples[0].modifiers[1].name == "xsec");
  CHECK(samples[0].modifiers[1].hi == 1.1);
  CHECK(samples[0].modifiers[1].lo == 0.9);
  CHECK(samples[0].modifiers[2].name == "sig_w");  // (0.6 + 1.65) / 2 and (0.45 + 1.35) / 2
  CHECK(samples[0].modifiers[2].hi == doctest::Approx(1.125).epsilon(1e-14));
  CHECK(samples[0].modifiers[2].lo == doctest::Approx(0.9).epsilon(1e-14));
  CHECK(samples[0].modifiers[3].name == "staterror_SR");  // sqrt(0.5^2 + 1.5^2)
  CHECK(samples[0].modifiers[3].values[0] == doctest::Approx(std::sqrt(2.5)).epsilon(1e-14));
  // background: 3 + 4 + 1; the shifted file moves the weight-1 event out: up 7, mirrored down 9.
  CHECK(samples[1].data == std::vector<double>{8.0});
  REQUIRE(samples[1].modifiers.size() == 2);
  CHECK(samples[1].modifiers[0].type == "histosys");
  CHECK(samples[1].modifiers[0].hi_data == std::vector<double>{7.0});
  CHECK(samples[1].modifiers[0].lo_data == std::vector<double>{9.0});
  CHECK(samples[1].modifiers[1].values[0] == doctest::Approx(std::sqrt(26.0)).epsilon(1e-14));
  // data: 0.6, 0.7, 0.95, 0.52 and 1.0 (the upper edge is in the last bin); 0.3 is outside.
  CHECK(parsed.observations[0].data == std::vector<double>{5.0});
  CHECK(parsed.measurements[0].name == "one_bin");
  CHECK(parsed.measurements[0].poi == "mu");
}

TEST_CASE("build_workspace: two equal-population bins, shape variations, by hand") {
  const auto ws =
      build_workspace(tools_workspace("build/two_bins.json"), kToolsData + "build", "two_bins.json");
  const Workspace parsed = parse_workspace(ws, "built");
  const auto& samples = parsed.channels[0].samples;
  // Signal at 0.1, 0.3, 0.6, 0.8 (weight 1): half the weight at 0.3 -> edges [0, 0.45, 1].
  CHECK(samples[0].data == std::vector<double>{2.0, 2.0});
  REQUIRE(samples[0].modifiers.size() == 4);
  // normplusshape, one-sided: up [1.2 + 1.1, 0.9 + 1.0] = [2.3, 1.9]; normsys hi 4.2 / 4, lo 1;
  // histosys: up scaled to the nominal sum 4, down = nominal.
  CHECK(samples[0].modifiers[1].type == "normsys");
  CHECK(samples[0].modifiers[1].hi == doctest::Approx(1.05).epsilon(1e-14));
  CHECK(samples[0].modifiers[1].lo == 1.0);
  CHECK(samples[0].modifiers[2].type == "histosys");
  CHECK(samples[0].modifiers[2].hi_data[0] == doctest::Approx(2.3 * 4.0 / 4.2).epsilon(1e-14));
  CHECK(samples[0].modifiers[2].hi_data[1] == doctest::Approx(1.9 * 4.0 / 4.2).epsilon(1e-14));
  CHECK(samples[0].modifiers[2].lo_data == std::vector<double>{2.0, 2.0});
  CHECK(samples[0].modifiers[3].values[1] == doctest::Approx(std::sqrt(2.0)).epsilon(1e-14));
  // Background in x: [2 + 3, 1 + 2]; up [2, 6], down [6, 2]; averaged: nominal +- [-2, 2].
  CHECK(samples[1].data == std::vector<double>{5.0, 3.0});
  CHECK(samples[1].modifiers[0].name == "k_bkg");
  CHECK(samples[1].modifiers[1].hi_data == std::vector<double>{3.0, 5.0});
  CHECK(samples[1].modifiers[1].lo_data == std::vector<double>{7.0, 1.0});
  CHECK(samples[1].modifiers[2].values[0] == doctest::Approx(std::sqrt(13.0)).epsilon(1e-14));
  CHECK(samples[1].modifiers[2].values[1] == doctest::Approx(std::sqrt(5.0)).epsilon(1e-14));
  CHECK(parsed.observations[0].data == std::vector<double>{7.0, 5.0});  // asimov: the samples' sum
  CHECK(parsed.measurements[0].name == "measurement");
  REQUIRE(parsed.measurements[0].parameters.size() == 1);
  CHECK(ws["measurements"][0]["config"]["parameters"][0]["bounds"] == nlohmann::json::parse("[[0.0, 5.0]]"));
}

TEST_CASE("build_workspace: spec errors name the key") {
  const auto spec = tools_workspace("build/one_bin.json");
  const auto folder = kToolsData + "build";
  auto typo = spec;
  typo["channels"][0]["bining"] = typo["channels"][0]["binning"];
  CHECK(tools_error_of([&] { build_workspace(typo, folder, "s.json"); }) ==
        "s.json.channels[0] (channel 'SR'): unknown key 'bining' (keys: name, binning, samples, data)");
  auto top = spec;
  top["weights"] = "w";
  CHECK(tools_error_of([&] { build_workspace(top, folder, "s.json"); }) ==
        "s.json: unknown key 'weights' (keys: channels, measurement, variable, weight)");
  auto type = spec;
  type["channels"][0]["samples"][1]["systematics"][0]["type"] = "shapesys";
  CHECK(
      tools_error_of([&] { build_workspace(type, folder, "s.json"); }) ==
      "s.json.channels[0] (channel 'SR').samples[1] (sample 'background').systematics[0] ('bkg_shift').type: "
      "unknown type 'shapesys' (types: histosys, normsys, normplusshape)");
  auto poi = spec;
  poi["measurement"]["poi"] = "mu_sig";
  CHECK(tools_error_of([&] { build_workspace(poi, folder, "s.json"); }) ==
        "s.json.measurement.poi: 'mu_sig' is no modifier of the built samples (give it in a sample's "
        "\"normfactors\")");
  auto column = spec;
  column["channels"][0]["samples"][0]["systematics"][0]["up"]["weight"] = "w_upp";
  CHECK(tools_error_of([&] { build_workspace(column, folder, "s.json"); }).find("w_upp") !=
        std::string::npos);
}

TEST_CASE("build_workspace: a NaN value or a non-finite weight is an error naming the file and column") {
  const auto folder = kToolsData + "build";
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "agnostic_test_build_nan";
  std::filesystem::create_directories(dir);
  const auto write = [&](const char* name, const char* text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  auto nan_score = tools_workspace("build/one_bin.json");
  nan_score["channels"][0]["samples"][0]["file"] =
      write("nan_score.csv", "score,weight,w_up,w_down\n0.7,0.5,0.6,0.45\nnan,1.5,1.65,1.35\n");
  const std::string nan_message = tools_error_of([&] { build_workspace(nan_score, folder, "s.json"); });
  CHECK(nan_message.find("is NaN") != std::string::npos);
  CHECK(nan_message.find("nan_score.csv, column 'score' weighted by 'weight', event 2: ") !=
        std::string::npos);
  auto inf_weight = tools_workspace("build/one_bin.json");
  inf_weight["channels"][0]["samples"][0]["file"] =
      write("inf_weight.csv", "score,weight,w_up,w_down\n0.7,inf,0.6,0.45\n0.9,1.5,1.65,1.35\n");
  CHECK(tools_error_of([&] {
          build_workspace(inf_weight, folder, "s.json");
        }).find("weights must be finite") != std::string::npos);
  std::filesystem::remove_all(dir);
}
