#pragma once
// The W5 peer: a hand-written forward pass of the W5 network with Eigen fixed-size matrices (the
// limit the issue sets: "Eigen fixed-size, 319 ns per event"), in either storage order. It does
// what infer::Network does for one event: standardise (in float here), four ReLU layers, softmax.
#include <Eigen/Core>

#include "agnostic/io/model_file.hpp"

template <int StorageOrder>
class W5EigenPeer {
 public:
  explicit W5EigenPeer(const agnostic::io::ModelFile<float>& m) {
    for (int j = 0; j < 26; ++j) {
      offset_(j) = static_cast<float>(m.inputs.offset[static_cast<std::size_t>(j)]);
      scale_(j) = static_cast<float>(m.inputs.scale[static_cast<std::size_t>(j)]);
    }
    w0_ = m.layers[0].weights;
    w1_ = m.layers[1].weights;
    w2_ = m.layers[2].weights;
    w3_ = m.layers[3].weights;
    w4_ = m.layers[4].weights;
    b0_ = m.layers[0].bias.transpose();
    b1_ = m.layers[1].bias.transpose();
    b2_ = m.layers[2].bias.transpose();
    b3_ = m.layers[3].bias.transpose();
    b4_ = m.layers[4].bias.transpose();
  }

  void evaluate(const float* raw, float* out) const noexcept {
    const Eigen::Map<const Eigen::Array<float, 26, 1>> x(raw);
    const Eigen::Matrix<float, 26, 1> s = ((x + offset_) * scale_).matrix();
    const Eigen::Matrix<float, 48, 1> h0 = (w0_ * s + b0_).cwiseMax(0.0f);
    const Eigen::Matrix<float, 48, 1> h1 = (w1_ * h0 + b1_).cwiseMax(0.0f);
    const Eigen::Matrix<float, 48, 1> h2 = (w2_ * h1 + b2_).cwiseMax(0.0f);
    const Eigen::Matrix<float, 48, 1> h3 = (w3_ * h2 + b3_).cwiseMax(0.0f);
    Eigen::Array<float, 3, 1> z = (w4_ * h3 + b4_).array();
    z = (z - z.maxCoeff()).exp();
    Eigen::Map<Eigen::Array<float, 3, 1>> result(out);
    result = z / z.sum();
  }

 private:
  Eigen::Array<float, 26, 1> offset_, scale_;
  Eigen::Matrix<float, 48, 26, StorageOrder> w0_;
  Eigen::Matrix<float, 48, 48, StorageOrder> w1_, w2_, w3_;
  Eigen::Matrix<float, 3, 48, StorageOrder> w4_;
  Eigen::Matrix<float, 48, 1> b0_, b1_, b2_, b3_;
  Eigen::Matrix<float, 3, 1> b4_;
};

using W5EigenColMajor = W5EigenPeer<Eigen::ColMajor>;
using W5EigenRowMajor = W5EigenPeer<Eigen::RowMajor>;
