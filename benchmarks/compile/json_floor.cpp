// A floor for the trigger path of docs/build-cost.md: what reading a model file's numbers with
// nlohmann/json costs alone (parse a file, one array of floats, one string), without Eigen.
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  std::ifstream in(argv[argc - 1]);
  const nlohmann::json j = nlohmann::json::parse(in);
  const std::vector<float> w = j.at("layers").at(0).at("weights").get<std::vector<float>>();
  const std::string name = j.at("outputs").at(0).get<std::string>();
  return static_cast<int>(w.size() + name.size());
}
