// The reference translation unit of docs/build-cost.md: Eigen's dense module and one product.
#include <Eigen/Dense>

int main() {
  const Eigen::MatrixXf a = Eigen::MatrixXf::Random(64, 64);
  const Eigen::MatrixXf b = a * a;
  return b(0, 0) > 100.0f;
}
