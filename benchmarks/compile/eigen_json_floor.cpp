// A floor for the trigger path of docs/build-cost.md while it holds a model in Eigen's matrices: the
// reference (Eigen's dense module and one product) plus parsing a file with nlohmann/json.
#include <Eigen/Dense>
#include <fstream>
#include <nlohmann/json.hpp>

int main(int argc, char** argv) {
  std::ifstream in(argv[argc - 1]);
  const nlohmann::json j = nlohmann::json::parse(in);
  const Eigen::MatrixXf a = Eigen::MatrixXf::Random(64, 64);
  const Eigen::MatrixXf b = a * a;
  return static_cast<int>(j.size()) + (b(0, 0) > 100.0f);
}
