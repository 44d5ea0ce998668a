// End to end: the built `agnostic` binary trains on generated data, predicts, inspects, fails with
// a message and a non-zero exit code on bad input, and — the integration test of issue 3 — a run
// killed with SIGKILL in the middle of an epoch and resumed with --resume ends with the same model,
// bit for bit, as a run that was never interrupted.
#include <doctest/doctest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli_run.hpp"

#include <fcntl.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/rng.hpp"
#include "agnostic/io/csv.hpp"
#include "agnostic/io/npy.hpp"
#include "agnostic/train/dataset.hpp"
#include "train_run.hpp"  // train::run, compiled once (tools/train_run.cpp)

extern char** environ;

namespace fs = std::filesystem;

namespace {

using agnostic_test::kBinary;
using agnostic_test::Run;

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the binary with `args`, waits, returns exit code and output.
Run run(const std::vector<std::string>& args, const fs::path& log) {
  std::string command = "'" + kBinary + "'";
  for (const auto& a : args) command += " '" + a + "'";
  command += " > '" + log.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(log)};
}

// Two Gaussian blobs in 3 features; feature "c" has -999 holes; weights differ per class; the
// label is text (s/b). Row order is random.
void write_events(const fs::path& path, int n, std::uint64_t seed) {
  agnostic::Rng rng(seed);
  std::ofstream out(path);
  out << "id,a,b,c,w,Label\n";
  for (int i = 0; i < n; ++i) {
    const bool s = rng.uniform() < 0.5;
    const double shift = s ? 0.8 : -0.8;
    const double c = rng.uniform() < 0.2 ? -999.0 : rng.normal(shift * 0.5, 1.0);
    out << i << "," << rng.normal(shift, 1.0) << "," << rng.normal(0.0, 1.0) + 0.3 * shift << "," << c << ","
        << (s ? 0.01 * rng.uniform(0.5, 1.5) : rng.uniform(0.5, 1.5)) << "," << (s ? "s" : "b") << "\n";
  }
}

nlohmann::json config_for(const fs::path& data, int epochs) {
  return {{"data",
           {{"files", {data.string()}},
            {"features", {"a", "b", "c"}},
            {"label", "Label"},
            {"label_classes", {{"b", 0}, {"s", 1}}},
            {"weight", "w"},
            {"missing", {{"marker", -999.0}, {"indicators", true}}},
            {"balance_classes", true}}},
          {"model", {{"hidden", {8}}, {"activation", "tanh"}}},
          {"optimiser", {{"name", "adam"}, {"learning_rate", 0.01}}},
          {"training", {{"epochs", epochs}, {"batch_size", 32}, {"seed", 3}, {"threads", 1}}},
          {"output", {{"progress", "silent"}}}};
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("agnostic_test_cli_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_json(const fs::path& p, const nlohmann::json& j) {
  std::ofstream(p) << j.dump(1);
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("agnostic train + predict + inspect, end to end on generated data") {
  REQUIRE_MESSAGE(fs::exists(kBinary), "build the agnostic command first: " << kBinary);
  const fs::path dir = fresh_dir("e2e");
  write_events(dir / "events.csv", 1000, 5);
  write_json(dir / "config.json", config_for(dir / "events.csv", 8));
  const fs::path out = dir / "out";
  const Run train = run({"train", (dir / "config.json").string(), "--out", out.string()}, dir / "train.log");
  INFO(train.output);
  REQUIRE(train.code == 0);
  for (const char* f :
       {"model.json", "history.json", "checkpoint.json", "predictions.csv", "summary.json", "config.json"})
    CHECK_MESSAGE(fs::exists(out / f), f);
  const auto summary = nlohmann::json::parse(read_text(out / "summary.json"));
  CHECK(summary["validation_events"] == 300);
  CHECK(summary["validation_auc"].get<double>() > 0.75);  // the blobs are well separated
  const auto history = nlohmann::json::parse(read_text(out / "history.json"));
  CHECK(history["epochs"].size() >= 1);

  // predict on the same file: the held-out rows get exactly the scores train wrote.
  const Run predict =
      run({"predict", "--model", (out / "model.json").string(), "--input", (dir / "events.csv").string(),
           "--output", (dir / "scores.csv").string(), "--keep", "id"},
          dir / "predict.log");
  INFO(predict.output);
  REQUIRE(predict.code == 0);
  const auto scores = lines_of(dir / "scores.csv");
  REQUIRE(scores.size() == 1001);
  CHECK(scores[0] == "id,score");  // the column predictions.csv gives the same score
  const agnostic::io::Table events = agnostic::io::read_csv((dir / "events.csv").string());
  std::vector<agnostic::Index> labels;
  for (const auto& l : events.text_column("Label")) labels.push_back(l == "s" ? 1 : 0);
  const auto split = agnostic::train::split_rows(labels, {0.3, 3, true});
  const auto held_out = lines_of(out / "predictions.csv");
  REQUIRE(held_out.size() == split.validation.size() + 1);
  CHECK(held_out[0] == "label,weight,score");
  for (std::size_t k = 0; k < split.validation.size(); ++k) {
    const std::string& row = held_out[k + 1];
    const std::string train_score = row.substr(row.rfind(',') + 1);
    const std::string& p = scores[static_cast<std::size_t>(split.validation[k]) + 1];
    CHECK(p.substr(p.find(',') + 1) == train_score);
    CHECK(row.substr(0, 1) == std::to_string(labels[static_cast<std::size_t>(split.validation[k])]));
  }

  // The same events as a plain .npy (features a, b, c in the model's order) give the same scores.
  agnostic::MatrixD abc(1000, 3);
  for (agnostic::Index r = 0; r < 1000; ++r)
    for (agnostic::Index j = 0; j < 3; ++j)
      abc(r, j) = events.column(std::string(1, static_cast<char>('a' + j)))[r];
  agnostic::io::write_npy((dir / "events.npy").string(), abc);
  const Run from_npy = run({"predict", "--model", (out / "model.json").string(), "--input",
                            (dir / "events.npy").string(), "--output", (dir / "scores_npy.csv").string()},
                           dir / "predict_npy.log");
  INFO(from_npy.output);
  REQUIRE(from_npy.code == 0);
  const auto npy_scores = lines_of(dir / "scores_npy.csv");
  REQUIRE(npy_scores.size() == 1001);
  for (std::size_t r = 1; r < 1001; ++r) CHECK(npy_scores[r] == scores[r].substr(scores[r].find(',') + 1));

  // inspect: inputs a, b, c and the indicator c_missing; 4 -> 8 -> 1 has 4*8+8 + 8+1 = 49 parameters.
  const Run inspect = run({"inspect", (out / "model.json").string()}, dir / "inspect.log");
  CHECK(inspect.code == 0);
  CHECK(inspect.output.find("c_missing") != std::string::npos);
  CHECK(inspect.output.find("0: dense 4 -> 8, tanh") != std::string::npos);
  CHECK(inspect.output.find("1: dense 8 -> 1, sigmoid") != std::string::npos);
  CHECK(inspect.output.find("parameters: 49") != std::string::npos);

  // epochs: 0 writes the initialised model (and fine-tuning starts from a model file).
  auto zero = config_for(dir / "events.csv", 0);
  write_json(dir / "zero.json", zero);
  const Run init =
      run({"train", (dir / "zero.json").string(), "--out", (dir / "zero").string()}, dir / "zero.log");
  INFO(init.output);
  CHECK(init.code == 0);
  const auto model0 = nlohmann::json::parse(read_text(dir / "zero" / "model.json"));
  CHECK(model0["agnostic"]["training"]["epochs"] == 0);
  CHECK(model0["layers"][0]["bias"] ==
        nlohmann::json::array({0, 0, 0, 0, 0, 0, 0, 0}));  // zero biases: untrained
  // A directory that holds a run is refused without --resume or --force, and both together too.
  const Run again =
      run({"train", (dir / "zero.json").string(), "--out", (dir / "zero").string()}, dir / "again.log");
  CHECK(again.code != 0);
  CHECK_MESSAGE(again.output.find("the output directory '" + (dir / "zero").string() +
                                  "' is not empty (it holds ") != std::string::npos,
                again.output);
  CHECK(again.output.find("give --resume to continue the run in it, --force to write into it anyway") !=
        std::string::npos);
  const Run both =
      run({"train", (dir / "zero.json").string(), "--out", (dir / "zero").string(), "--resume", "--force"},
          dir / "both.log");
  CHECK(both.code != 0);
  CHECK(both.output.find("--resume and --force together") != std::string::npos);
  const Run forced = run({"train", (dir / "zero.json").string(), "--out", (dir / "zero").string(), "--force"},
                         dir / "forced.log");
  INFO(forced.output);
  CHECK(forced.code == 0);
  auto tune = config_for(dir / "events.csv", 2);
  tune["model"] = {{"start_from", (out / "model.json").string()}};
  tune["data"].erase("missing");  // the start model brings its own missing-value rules
  write_json(dir / "tune.json", tune);
  const Run fine =
      run({"train", (dir / "tune.json").string(), "--out", (dir / "tune").string()}, dir / "tune.log");
  INFO(fine.output);
  CHECK(fine.code == 0);
  const auto tuned = nlohmann::json::parse(read_text(dir / "tune" / "model.json"));
  const auto trained = nlohmann::json::parse(read_text(out / "model.json"));
  CHECK(tuned["inputs"] == trained["inputs"]);  // the start model's standardisation is kept
  CHECK(tuned["layers"] != trained["layers"]);  // and its weights moved on
  fs::remove_all(dir);
}

TEST_CASE("agnostic commands exit non-zero with a message on bad input") {
  REQUIRE(fs::exists(kBinary));
  const fs::path dir = fresh_dir("errors");
  write_events(dir / "events.csv", 50, 1);
  auto bad = config_for(dir / "events.csv", 1);
  bad["training"]["epoch"] = 3;
  write_json(dir / "bad.json", bad);
  Run r = run({"train", (dir / "bad.json").string(), "--out", (dir / "o").string()}, dir / "1.log");
  CHECK(r.code != 0);
  CHECK(r.output.find("key 'training.epoch' is not a known key") != std::string::npos);

  auto missing = config_for(dir / "events.csv", 1);
  missing["data"]["features"] = {"a", "nope"};
  write_json(dir / "missing.json", missing);
  r = run({"train", (dir / "missing.json").string(), "--out", (dir / "o").string()}, dir / "2.log");
  CHECK(r.code != 0);
  CHECK(r.output.find("no column named 'nope'") != std::string::npos);

  r = run({"train", (dir / "missing.json").string(), "--resume", "--out", (dir / "none").string()},
          dir / "3.log");
  CHECK(r.code != 0);
  CHECK(r.output.find("--resume: there is no checkpoint") != std::string::npos);

  r = run({"predict", "--model", (dir / "absent.json").string(), "--input", (dir / "events.csv").string(),
           "--output", (dir / "y.csv").string()},
          dir / "4.log");
  CHECK(r.code != 0);
  CHECK(r.output.find("cannot open model file") != std::string::npos);

  r = run({"predict", "--model", "m.json"}, dir / "5.log");
  CHECK(r.code != 0);
  CHECK(r.output.find("missing option --input") != std::string::npos);

  r = run({"inspect", (dir / "events.csv").string()}, dir / "6.log");
  CHECK(r.code != 0);
  CHECK(r.output.find("is not valid JSON") != std::string::npos);

  r = run({"train", "--bogus"}, dir / "7.log");
  CHECK(r.code != 0);
  CHECK(r.output.find("unknown option '--bogus'") != std::string::npos);
  fs::remove_all(dir);
}

namespace {

// The epoch recorded in a checkpoint file, or -1 if there is none yet.
long checkpoint_epoch(const fs::path& p) {
  if (!fs::exists(p)) return -1;
  try {
    return nlohmann::json::parse(read_text(p))["epoch"].get<long>();
  } catch (const std::exception&) {
    return -1;
  }
}

// Starts `agnostic train CONFIG --out OUT`, waits for the checkpoint of epoch 2, waits half an
// epoch more and kills the run with SIGKILL, in the middle of epoch 3. `exited` says the run ended
// on its own before it could be killed (too fast, or a crash); `status` is its wait status.
struct KilledRun {
  int status = 0;
  bool exited = false;
};

KilledRun train_and_kill_in_epoch_three(const std::string& config_path, const fs::path& out) {
  const fs::path checkpoint = out / "checkpoint.json";
  std::vector<std::string> args = {kBinary, "train", config_path, "--out", out.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, kBinary.c_str(), &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  using clock = std::chrono::steady_clock;
  KilledRun r;
  auto wait_for_epoch = [&](long epoch) {
    const auto deadline = clock::now() + std::chrono::minutes(10);
    while (!r.exited && checkpoint_epoch(checkpoint) < epoch && clock::now() < deadline) {
      r.exited = ::waitpid(pid, &r.status, WNOHANG) == pid;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return clock::now();
  };
  const auto t1 = wait_for_epoch(1);
  const auto t2 = wait_for_epoch(2);
  if (!r.exited) std::this_thread::sleep_for((t2 - t1) / 2);
  if (!r.exited) r.exited = ::waitpid(pid, &r.status, WNOHANG) == pid;
  if (!r.exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &r.status, 0);
  }
  return r;
}

}  // namespace

TEST_CASE("a run killed with SIGKILL mid-epoch and resumed ends bit for bit like an uninterrupted run") {
  REQUIRE(fs::exists(kBinary));
  const fs::path dir = fresh_dir("resume");
  write_events(dir / "events.csv", 20000, 9);
  auto config = config_for(dir / "events.csv", 8);
  config["model"]["hidden"] = {32, 32};
  config["training"]["early_stopping"] = false;  // every run does all 8 epochs
  write_json(dir / "config.json", config);

  const Run whole =
      run({"train", (dir / "config.json").string(), "--out", (dir / "whole").string()}, dir / "whole.log");
  INFO(whole.output);
  REQUIRE(whole.code == 0);

  // The interrupted run: start it, wait for the checkpoint of epoch 2, wait half an epoch, kill.
  const fs::path out = dir / "killed";
  const fs::path checkpoint = out / "checkpoint.json";
  const std::string config_path = (dir / "config.json").string(), out_path = out.string();
  const KilledRun killed = train_and_kill_in_epoch_three(config_path, out);
  const int status = killed.status;
  const bool exited = killed.exited;
  REQUIRE_MESSAGE(!exited, "the run ended before it could be killed (exit status "
                               << status << "); make the epochs longer");
  CHECK(WIFSIGNALED(status));
  const long epoch_at_kill = checkpoint_epoch(checkpoint);
  // The first epoch's wall time, as the checkpoint recorded it: a resumed run carries it over, a
  // run that silently started afresh would measure its own.
  const auto seconds_at_kill =
      nlohmann::json::parse(read_text(checkpoint))["history"]["epochs"][0]["seconds"];
  CHECK(epoch_at_kill >= 2);
  CHECK(epoch_at_kill < 8);
  CHECK_FALSE(fs::exists(out / "model.json"));

  const Run resumed = run({"train", config_path, "--out", out_path, "--resume"}, dir / "resumed.log");
  INFO(resumed.output);
  REQUIRE(resumed.code == 0);
  const auto a = nlohmann::json::parse(read_text(dir / "whole" / "model.json"));
  const auto b = nlohmann::json::parse(read_text(out / "model.json"));
  CHECK(b["agnostic"]["training"]["resumed"] == true);
  CHECK(nlohmann::json::parse(read_text(out / "history.json"))["epochs"][0]["seconds"] == seconds_at_kill);
  CHECK(a["agnostic"]["training"]["epochs"] == 8);
  CHECK(b["agnostic"]["training"]["epochs"] == 8);
  // The written numbers read back bit for bit (test_io_model_file), so equal text is equal weights.
  CHECK(a["layers"].dump() == b["layers"].dump());
  CHECK(a["inputs"].dump() == b["inputs"].dump());
  CHECK(read_text(dir / "whole" / "predictions.csv") == read_text(out / "predictions.csv"));
  const auto ha = nlohmann::json::parse(read_text(dir / "whole" / "history.json"));
  const auto hb = nlohmann::json::parse(read_text(out / "history.json"));
  REQUIRE(ha["epochs"].size() == hb["epochs"].size());
  for (std::size_t e = 0; e < ha["epochs"].size(); ++e)
    CHECK(ha["epochs"][e]["validation_loss"] == hb["epochs"][e]["validation_loss"]);

  // A changed config is refused on resume.
  config["optimiser"]["learning_rate"] = 0.02;
  write_json(dir / "config.json", config);
  const Run changed = run({"train", config_path, "--out", out_path, "--resume"}, dir / "changed.log");
  CHECK(changed.code != 0);
  CHECK(changed.output.find("the config differs from the one the checkpoint was written with") !=
        std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("agnostic train with three classes: softmax outputs, one score column per class") {
  REQUIRE(fs::exists(kBinary));
  const fs::path dir = fresh_dir("multi");
  {
    agnostic::Rng rng(4);
    std::ofstream out(dir / "events.csv");
    out << "x,y,class\n";
    for (int i = 0; i < 600; ++i) {
      const int k = static_cast<int>(rng.below(3));
      out << rng.normal(2.0 * k, 0.7) << "," << rng.normal(k == 1 ? 2.0 : 0.0, 0.7) << "," << k << "\n";
    }
  }
  const nlohmann::json config = {
      {"data", {{"files", {"events.csv"}}, {"features", {"x", "y"}}, {"label", "class"}}},
      {"loss", "categorical_cross_entropy"},
      {"model", {{"hidden", {6}}}},
      {"training", {{"epochs", 5}, {"batch_size", 50}, {"threads", 1}}},
      {"output", {{"progress", "silent"}}}};
  write_json(dir / "config.json", config);  // data path relative to the config's directory
  const Run r =
      run({"train", (dir / "config.json").string(), "--out", (dir / "out").string()}, dir / "train.log");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto model = nlohmann::json::parse(read_text(dir / "out" / "model.json"));
  CHECK(model["outputs"] == nlohmann::json::array({"class_0", "class_1", "class_2"}));
  CHECK(model["layers"][1]["activation"] == "softmax");
  const auto rows = lines_of(dir / "out" / "predictions.csv");
  REQUIRE(rows.size() == 181);  // 30 % of 600 held out
  CHECK(rows[0] == "label,weight,score_class_0,score_class_1,score_class_2");
  const Run predicted =
      run({"predict", "--model", (dir / "out" / "model.json").string(), "--input",
           (dir / "events.csv").string(), "--output", (dir / "scores.csv").string(), "--keep", "class"},
          dir / "predict.log");
  INFO(predicted.output);
  REQUIRE(predicted.code == 0);
  CHECK(lines_of(dir / "scores.csv")[0] == "class,score_class_0,score_class_1,score_class_2");
  std::istringstream row(rows[1]);
  std::string cell;
  std::vector<double> cells;
  while (std::getline(row, cell, ',')) cells.push_back(std::stod(cell));
  REQUIRE(cells.size() == 5);
  CHECK(cells[2] + cells[3] + cells[4] == doctest::Approx(1.0).epsilon(1e-6));
  fs::remove_all(dir);
}

TEST_CASE("train::run from C++: validation_fraction 0 writes no held-out events and says so") {
  const fs::path dir = fresh_dir("no_validation");
  write_events(dir / "events.csv", 300, 7);
  nlohmann::json j = config_for(dir / "events.csv", 2);
  j["data"]["validation_fraction"] = 0;
  j["output"]["directory"] = (dir / "out").string();
  const agnostic::train::TrainConfig config = agnostic::train::config_from_json(j, "c.json");
  std::ostringstream log;
  const agnostic::train::RunResult result = agnostic::train::run(config, {.out = &log});
  CHECK(result.summary["validation_events"] == 0);
  CHECK(!result.summary.contains("validation_auc"));
  CHECK(result.directory == dir / "out");
  for (const char* f : {"model.json", "history.json", "checkpoint.json", "predictions.csv", "summary.json"}) {
    bool listed = false;
    for (const auto& p : result.files) listed = listed || p == dir / "out" / f;
    CHECK_MESSAGE(listed, f);
  }
  const auto lines = lines_of(dir / "out" / "predictions.csv");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "label,weight,score");
}

TEST_CASE("training.chunks: the same seed trains the same bits on 1, 2 and 3 threads") {
  const fs::path dir = fresh_dir("chunks");
  write_events(dir / "events.csv", 5000, 11);
  // Batches of 4096 events through 64-wide layers: above the threshold for splitting a kernel
  // (parallel_min_work), so the chunks are really there.
  const auto weights_after = [&](int threads, int chunks) {
    nlohmann::json j = config_for(dir / "events.csv", 3);
    j["model"]["hidden"] = {64, 64};
    j["training"]["batch_size"] = 4096;
    j["training"]["threads"] = threads;
    j["training"]["early_stopping"] = false;
    if (chunks > 0) j["training"]["chunks"] = chunks;
    j["output"]["directory"] =
        (dir / ("out_" + std::to_string(threads) + "_" + std::to_string(chunks))).string();
    std::ostringstream log;
    const agnostic::train::TrainConfig config = agnostic::train::config_from_json(j, "c.json");
    const agnostic::train::RunResult result = agnostic::train::run(config, {.out = &log});
    const auto model = nlohmann::json::parse(read_text(result.directory / "model.json"));
    CHECK(model["agnostic"]["training"]["chunks"] == chunks);  // the provenance says how kernels were split
    CHECK(model["agnostic"]["training"]["threads"] == threads);
    return model["layers"].dump();
  };
  const int before = agnostic::threads();
  const std::string one = weights_after(1, 6);
  CHECK(weights_after(2, 6) == one);
  CHECK(weights_after(3, 6) == one);
  // One chunk per thread (the default): the weight gradients' partial sums follow the thread count.
  CHECK(weights_after(2, 0) != weights_after(3, 0));
  agnostic::set_threads(before);
  agnostic::set_fixed_chunks(0);
  // A bad value is named with its key.
  nlohmann::json j = config_for(dir / "events.csv", 1);
  j["training"]["chunks"] = -2;
  CHECK_THROWS_WITH_AS(agnostic::train::config_from_json(j, "c.json"), doctest::Contains("training.chunks"),
                       agnostic::Error);
}

TEST_CASE("a bad value in the second of two data files is reported with that file's name and line") {
  REQUIRE_MESSAGE(fs::exists(kBinary), "build the agnostic command first: " << kBinary);
  const fs::path dir = fresh_dir("two_files");
  write_events(dir / "a.csv", 50, 1);
  {
    std::ofstream out(dir / "b.csv");
    out << "id,a,b,c,w,Label\n1,0.5,0.1,0.2,1,s\n2,inf,0.1,0.2,1,b\n";
  }
  nlohmann::json j = config_for(dir / "a.csv", 1);
  j["data"]["files"] = {(dir / "a.csv").string(), (dir / "b.csv").string()};
  j["data"]["validation_fraction"] = 0;
  write_json(dir / "config.json", j);
  const Run r = run({"train", (dir / "config.json").string(), "--out", (dir / "out").string()}, dir / "log");
  CHECK(r.code == 1);
  CHECK_MESSAGE(r.output.find("file '" + (dir / "b.csv").string() + "', row 2 (line 3), column 'a'") !=
                    std::string::npos,
                r.output);
}

TEST_CASE(
    "method dann: killed with SIGKILL mid-epoch and resumed, ends bit for bit like an uninterrupted run") {
  REQUIRE(fs::exists(kBinary));
  const fs::path dir = fresh_dir("dann_resume");
  {  // source (g = 0) labelled s/b; target (g = 1) with a shifted background and the label "?"
    agnostic::Rng rng(4);
    std::ofstream out(dir / "events.csv");
    out << "a,b,c,w,Label,g\n";
    for (int i = 0; i < 16000; ++i) {
      const bool s = rng.uniform() < 0.5, target = i % 2 == 1;
      const double shift = s ? 0.8 : -0.8;
      out << rng.normal(shift, 1.0) << "," << rng.normal(target && !s ? 0.7 : 0.0, 1.0) << "," << rng.normal()
          << "," << rng.uniform(0.5, 1.5) << ","
          << (target ? "?"
              : s    ? "s"
                     : "b")
          << "," << (target ? 1 : 0) << "\n";
    }
  }
  auto config = config_for(dir / "events.csv", 6);
  config["method"] = "dann";
  config["data"].erase("missing");
  config["data"]["domain"] = "g";
  config["model"]["hidden"] = {32, 32};
  config["training"]["early_stopping"] = false;
  config["dann"] = {{"lambda", 2.0}, {"target_signal_fraction", 0.5}, {"domain_hidden", {16}}};
  write_json(dir / "config.json", config);
  const std::string config_path = (dir / "config.json").string();

  const Run whole = run({"train", config_path, "--out", (dir / "whole").string()}, dir / "whole.log");
  INFO(whole.output);
  REQUIRE(whole.code == 0);
  // The outputs of a DANN run: both domains held out, the target's label as in the file, the
  // domain head under agnostic.branches, the per-epoch figures.
  const std::vector<std::string> predictions = lines_of(dir / "whole" / "predictions.csv");
  REQUIRE(predictions.size() > 1);
  CHECK(predictions[0] == "label,weight,domain,score");
  bool target_seen = false;
  for (const auto& line : predictions) target_seen = target_seen || line.rfind("?,", 0) == 0;
  CHECK(target_seen);
  const auto model = nlohmann::json::parse(read_text(dir / "whole" / "model.json"));
  REQUIRE(model["agnostic"]["branches"].size() == 1);
  CHECK(model["agnostic"]["branches"][0]["name"] == "domain");
  CHECK(model["agnostic"]["branches"][0]["input_layer"] == 2);
  const auto history = nlohmann::json::parse(read_text(dir / "whole" / "history.json"));
  for (const char* key : {"train_label_loss", "train_domain_loss", "lambda", "domain_accuracy",
                          "ks_source_target", "validation_loss", "validation_auc"})
    CHECK_MESSAGE(history["epochs"][5].contains(key), key);
  // agnostic predict gives the classifier's scores.
  const Run predicted = run({"predict", "--model", (dir / "whole" / "model.json").string(), "--input",
                             (dir / "events.csv").string(), "--output", (dir / "scores.csv").string()},
                            dir / "predict.log");
  INFO(predicted.output);
  CHECK(predicted.code == 0);

  const fs::path out = dir / "killed", checkpoint = out / "checkpoint.json";
  const KilledRun killed = train_and_kill_in_epoch_three(config_path, out);
  const int status = killed.status;
  const bool exited = killed.exited;
  REQUIRE_MESSAGE(!exited, "the run ended before it could be killed (exit status " << status << ")");
  CHECK(WIFSIGNALED(status));
  CHECK(checkpoint_epoch(checkpoint) >= 2);
  CHECK(checkpoint_epoch(checkpoint) < 6);
  const Run resumed = run({"train", config_path, "--out", out.string(), "--resume"}, dir / "resumed.log");
  INFO(resumed.output);
  REQUIRE(resumed.code == 0);
  const auto b = nlohmann::json::parse(read_text(out / "model.json"));
  CHECK(b["agnostic"]["training"]["resumed"] == true);
  CHECK(model["layers"].dump() == b["layers"].dump());
  CHECK(model["agnostic"]["branches"].dump() == b["agnostic"]["branches"].dump());
  CHECK(read_text(dir / "whole" / "predictions.csv") == read_text(out / "predictions.csv"));
  const auto hb = nlohmann::json::parse(read_text(out / "history.json"));
  REQUIRE(history["epochs"].size() == hb["epochs"].size());
  for (std::size_t e = 0; e < hb["epochs"].size(); ++e)
    for (const char* key : {"train_domain_loss", "ks_source_target", "validation_loss"})
      CHECK(history["epochs"][e][key] == hb["epochs"][e][key]);
  fs::remove_all(dir);
}

// ADNN: the same SIGKILL/resume check for "method": "adnn" (pre-training phases, two optimisers,
// the adversary's branch in the model file): killed in its third epoch, resumed, bit for bit.
namespace {
void write_adnn_events(const fs::path& path, int n, std::uint64_t seed) {
  agnostic::Rng rng(seed);
  std::ofstream out(path);
  out << "a,b,c,process,model\n";
  for (int i = 0; i < n; ++i) {
    const int y = static_cast<int>(rng.below(3)), d = static_cast<int>(rng.below(3));
    const double shift = 0.7 * (y - 1) + (y == 2 ? 0.5 * d : 0.0);
    out << rng.normal(shift, 1.0) << "," << rng.normal(-shift, 1.0) << "," << rng.normal(0.0, 1.0) << ","
        << (y == 0   ? "bkg"
            : y == 1 ? "ggh"
                     : "sig")
        << "," << (y == 2 ? std::to_string(d) : "n/a") << "\n";
  }
}
}  // namespace

TEST_CASE(
    "method adnn: a run killed with SIGKILL mid-epoch and resumed ends bit for bit like an uninterrupted "
    "run") {
  REQUIRE(fs::exists(kBinary));
  const fs::path dir = fresh_dir("adnn_resume");
  write_adnn_events(dir / "events.csv", 40000, 9);
  const nlohmann::json config = {
      {"method", "adnn"},
      {"data",
       {{"files", {(dir / "events.csv").string()}},
        {"features", {"a", "b", "c"}},
        {"label", "process"},
        {"label_classes", {{"bkg", 0}, {"ggh", 1}, {"sig", 2}}},
        {"domain", "model"},
        {"domain_classes", {{"0", 0}, {"1", 1}, {"2", 2}}}}},
      {"model", {{"hidden", {32, 32}}, {"activation", "tanh"}}},
      {"optimiser", {{"name", "adam"}, {"learning_rate", 0.005}}},
      {"adnn",
       {{"adversary_class", "sig"},
        {"alpha", 3},
        {"alpha_schedule", "linear"},
        {"adversary_hidden", {16}},
        {"adversary_steps", 3},
        {"pretrain_classifier_epochs", 2},
        {"pretrain_adversary_epochs", 2},
        {"adversary_batch_size", 64},  // A's own batch (the default 8192 would be slow here)
        {"adversary_optimiser", {{"name", "rmsprop"}, {"learning_rate", 0.002}}}}},
      {"training",
       {{"epochs", 4}, {"batch_size", 32}, {"seed", 3}, {"threads", 1}, {"early_stopping", false}}},
      {"output", {{"progress", "silent"}}}};
  write_json(dir / "config.json", config);
  const std::string config_path = (dir / "config.json").string();
  const Run whole = run({"train", config_path, "--out", (dir / "whole").string()}, dir / "whole.log");
  INFO(whole.output);
  REQUIRE(whole.code == 0);

  const fs::path out = dir / "killed", checkpoint = out / "checkpoint.json";
  const std::string out_path = out.string();
  const KilledRun killed = train_and_kill_in_epoch_three(config_path, out);
  const int status = killed.status;
  const bool exited = killed.exited;
  REQUIRE_MESSAGE(!exited, "the run ended before it could be killed (exit status " << status << ")");
  CHECK(WIFSIGNALED(status));
  CHECK(checkpoint_epoch(checkpoint) >= 2);
  CHECK(checkpoint_epoch(checkpoint) < 8);
  CHECK_FALSE(fs::exists(out / "model.json"));

  const Run resumed = run({"train", config_path, "--out", out_path, "--resume"}, dir / "resumed.log");
  INFO(resumed.output);
  REQUIRE(resumed.code == 0);
  const auto a = nlohmann::json::parse(read_text(dir / "whole" / "model.json"));
  const auto b = nlohmann::json::parse(read_text(out / "model.json"));
  CHECK(b["agnostic"]["training"]["resumed"] == true);
  CHECK(a["agnostic"]["training"]["epochs"] == 8);
  CHECK(b["agnostic"]["training"]["epochs"] == 8);
  CHECK(a["layers"].dump() == b["layers"].dump());
  CHECK(a["agnostic"]["branches"].dump() == b["agnostic"]["branches"].dump());
  CHECK(a["agnostic"]["branches"][0]["name"] == "adversary");
  CHECK(read_text(dir / "whole" / "predictions.csv") == read_text(out / "predictions.csv"));
  const auto ha = nlohmann::json::parse(read_text(dir / "whole" / "history.json"));
  const auto hb = nlohmann::json::parse(read_text(out / "history.json"));
  REQUIRE(ha["epochs"].size() == hb["epochs"].size());
  for (std::size_t e = 0; e < ha["epochs"].size(); ++e)
    for (const char* key :
         {"validation_loss", "mean_ks", "adversary_accuracy", "alpha", "train_adversary_loss"})
      CHECK(ha["epochs"][e][key] == hb["epochs"][e][key]);

  // agnostic predict on the ADNN model gives the classifier's scores like any model.
  const Run predicted = run({"predict", "--model", (out / "model.json").string(), "--input",
                             (dir / "events.csv").string(), "--output", (dir / "scores.csv").string()},
                            dir / "predict.log");
  INFO(predicted.output);
  CHECK(predicted.code == 0);
  CHECK(lines_of(dir / "scores.csv").size() == 40001);
  fs::remove_all(dir);
}

TEST_CASE("agnostic tune: a grid over two keys, the table, the best config; bad spaces are named") {
  const fs::path dir = fresh_dir("tune");
  write_events(dir / "events.csv", 400, 12);
  write_json(dir / "config.json", config_for(dir / "events.csv", 2));
  // 2 x 2 grid, the alphabetically first key ("/model/hidden") slowest; 3 trials take its first
  // three points.
  write_json(dir / "space.json", {{"search", "grid"},
                                  {"parameters",
                                   {{"optimiser.learning_rate", {{"values", {0.002, 0.05}}}},
                                    {"/model/hidden", {{"values", {{4}, {8}}}}}}}});
  const fs::path out = dir / "tune";
  const Run r = run({"tune", (dir / "config.json").string(), "--space", (dir / "space.json").string(),
                     "--trials", "3", "--out", out.string()},
                    dir / "tune.log");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto rows = lines_of(out / "tune.csv");
  REQUIRE(rows.size() == 4);
  CHECK(rows[0] ==
        "trial,/model/hidden,optimiser.learning_rate,validation_accuracy,validation_auc,mean_ks,epochs");
  CHECK(rows[1].rfind("0,[4],0.002,", 0) == 0);
  CHECK(rows[2].rfind("1,[4],0.05,", 0) == 0);
  CHECK(rows[3].rfind("2,[8],0.002,", 0) == 0);
  CHECK(r.output.find("validation:") == std::string::npos);  // the trials print nothing
  // Each trial trained with its values: its config.json copy says so.
  const auto trial2 = nlohmann::json::parse(read_text(out / "trial-2" / "config.json"));
  CHECK(trial2["optimiser"]["learning_rate"] == 0.002);
  CHECK(trial2["model"]["hidden"] == nlohmann::json({8}));
  // The best trial is the one with the highest validation accuracy, and best_config.json is the
  // config with its values.
  const auto summary = nlohmann::json::parse(read_text(out / "tune.json"));
  int best = 0;
  for (int t = 1; t < 3; ++t)
    if (summary["trials"][t]["validation_accuracy"].get<double>() >
        summary["trials"][best]["validation_accuracy"].get<double>())
      best = t;
  CHECK(summary["best_trial"] == best);
  const auto trial_config =
      nlohmann::json::parse(read_text(out / ("trial-" + std::to_string(best)) / "config.json"));
  const auto best_config = nlohmann::json::parse(read_text(out / "best_config.json"));
  CHECK(best_config["optimiser"] == trial_config["optimiser"]);
  CHECK(best_config["model"] == trial_config["model"]);
  // The same directory again: refused (tune has no --resume).
  const Run again = run({"tune", (dir / "config.json").string(), "--space", (dir / "space.json").string(),
                         "--trials", "1", "--out", out.string()},
                        dir / "again.log");
  CHECK(again.code != 0);
  CHECK_MESSAGE(again.output.find("is not empty (it holds ") != std::string::npos, again.output);
  CHECK(again.output.find("--force to write into it anyway") != std::string::npos);
  CHECK(again.output.find("--resume") == std::string::npos);

  // A bad space names the key; a value the config refuses names the trial and the config's complaint.
  write_json(dir / "bad.json", {{"parameters", {{"optimiser.learning_rate", {{"value", {0.1}}}}}}});
  Run bad =
      run({"tune", (dir / "config.json").string(), "--space", (dir / "bad.json").string(), "--trials", "1"},
          dir / "bad.log");
  CHECK(bad.code != 0);
  CHECK_MESSAGE(
      bad.output.find("parameter \"optimiser.learning_rate\": unknown key \"value\"") != std::string::npos,
      bad.output);
  write_json(dir / "refused.json", {{"parameters", {{"optimiser.learning_rate", {{"values", {"fast"}}}}}}});
  bad = run({"tune", (dir / "config.json").string(), "--space", (dir / "refused.json").string(), "--trials",
             "1", "--out", (dir / "refused").string()},
            dir / "refused.log");
  CHECK(bad.code != 0);
  CHECK_MESSAGE(bad.output.find("tune trial 0 ({\"optimiser.learning_rate\":\"fast\"})") != std::string::npos,
                bad.output);
  CHECK_MESSAGE(bad.output.find("learning_rate") != std::string::npos, bad.output);
  fs::remove_all(dir);
}
