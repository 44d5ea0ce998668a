// w1_products: how fast W1's matrix products can run on one core, the ceiling under issue 20's
// "W1 >= 5x PyTorch". One thread's share of W1 at 2 threads is 8192 events (the label head 4096);
// for each of W1's nine dense shapes it times, single-threaded:
//   - Eigen's three products of the fused dense layer: y = x W^T, dx = g W (both with Eigen zeroing
//     the destination first, as `noalias() =` does) and dW = g^T x;
//   - a packing-free AVX-512 kernel for the first two (rows in blocks of 128 held in L1, 8 x 3
//     register tiles, one multiply-add chain per element), checked to give Eigen's bits;
//   - Eigen's square 1024 x 1024 sgemm, the machine's GEMM rate for Eigen.
// It prints microseconds per product and GFLOP/s. Not part of the build (it needs AVX-512); from
// this folder (the -Wno- flags silence GCC 12's own avx512fintrin.h, as AGNOSTIC_NATIVE does):
//   g++ -std=c++20 -O3 -march=native -DNDEBUG -DEIGEN_DONT_PARALLELIZE -Wall -Wextra -Wpedantic
//       -Wno-ignored-attributes -Wno-uninitialized -Wno-maybe-uninitialized
//       -isystem /usr/include/eigen3 w1_products.cpp -o w1_products && ./w1_products
// Run two copies at once to see one core's rate while the other core is busy too.
#include <immintrin.h>

#include <Eigen/Dense>
#include <chrono>
#include <cstdio>
#include <vector>

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;

namespace {

double seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// y(r .. r+127, j0 .. j0+J-1) = a(r .. r+127, :) * bt(j0 .. j0+J-1, :)^T; `a` column-major with
// leading dimension lda, `bt` the n x k weights column-major. Each element is one fused
// multiply-add chain over k starting from zero, as in Eigen's 48-row panels.
template <int J>
void tile(const float* a, long lda, int k, const float* bt, int n, int j0, float* y, long ldy, long r) {
  __m512 acc[8][J];
  for (auto& row : acc)
    for (auto& v : row) v = _mm512_setzero_ps();
  for (int kk = 0; kk < k; ++kk) {
    __m512 b[J];
    for (int j = 0; j < J; ++j) b[j] = _mm512_set1_ps(bt[kk * n + j0 + j]);
    for (int q = 0; q < 8; ++q) {
      const __m512 v = _mm512_loadu_ps(a + kk * lda + r + 16 * q);
      for (int j = 0; j < J; ++j) acc[q][j] = _mm512_fmadd_ps(v, b[j], acc[q][j]);
    }
  }
  for (int q = 0; q < 8; ++q)
    for (int j = 0; j < J; ++j) _mm512_storeu_ps(y + (j0 + j) * ldy + r + 16 * q, acc[q][j]);
}

// y = a * bt^T for a row count that is a multiple of 128 (W1's are).
void packing_free_product(const Matrix& a, const Matrix& bt, Matrix& y) {
  const long rows = a.rows();
  const int k = static_cast<int>(a.cols()), n = static_cast<int>(bt.rows());
  for (long r = 0; r + 128 <= rows; r += 128) {
    int j = 0;
    for (; j + 3 <= n; j += 3) tile<3>(a.data(), rows, k, bt.data(), n, j, y.data(), rows, r);
    for (; j + 2 <= n; j += 2) tile<2>(a.data(), rows, k, bt.data(), n, j, y.data(), rows, r);
    for (; j < n; ++j) tile<1>(a.data(), rows, k, bt.data(), n, j, y.data(), rows, r);
  }
}

template <class F>
double microseconds(F&& f, int repeats) {
  f();
  const double t = seconds();
  for (int i = 0; i < repeats; ++i) f();
  return (seconds() - t) / repeats * 1e6;
}

}  // namespace

int main() {
  struct Shape {
    long rows;
    int n_in, n_out;
  };
  const std::vector<Shape> shapes = {{8192, 41, 20}, {8192, 20, 16}, {8192, 16, 13},
                                     {8192, 13, 10}, {4096, 10, 2},  {8192, 10, 20},
                                     {8192, 20, 35}, {8192, 35, 50}, {8192, 50, 2}};
  double eigen[3] = {0, 0, 0}, mine[2] = {0, 0}, flops = 0;
  bool same_bits = true;
  const int repeats = 300;
  std::printf("rows n_in n_out | Eigen y=xW^T dx=gW dW=g^Tx | packing-free y dx (us)\n");
  for (const Shape& s : shapes) {
    const Matrix x = Matrix::Random(s.rows, s.n_in), w = Matrix::Random(s.n_out, s.n_in);
    const Matrix g = Matrix::Random(s.rows, s.n_out), wt = w.transpose();
    Matrix y(s.rows, s.n_out), dx(s.rows, s.n_in), dw(s.n_out, s.n_in), y2 = y, dx2 = dx;
    const double e0 = microseconds([&] { y.noalias() = x * w.transpose(); }, repeats);
    const double e1 = microseconds([&] { dx.noalias() = g * w; }, repeats);
    const double e2 = microseconds([&] { dw.noalias() = g.transpose() * x; }, repeats);
    const double m0 = microseconds([&] { packing_free_product(x, w, y2); }, repeats);
    const double m1 = microseconds([&] { packing_free_product(g, wt, dx2); }, repeats);
    same_bits = same_bits && (y.array() == y2.array()).all() && (dx.array() == dx2.array()).all();
    std::printf("%5ld %4d %5d | %8.1f %8.1f %8.1f | %8.1f %8.1f\n", s.rows, s.n_in, s.n_out, e0, e1, e2, m0,
                m1);
    eigen[0] += e0, eigen[1] += e1, eigen[2] += e2, mine[0] += m0, mine[1] += m1;
    flops += 2.0 * static_cast<double>(s.rows) * s.n_in * s.n_out;
  }
  const double eigen_all = eigen[0] + eigen[1] + eigen[2];
  std::printf("Eigen, all three products: %.0f us, %.1f GFLOP/s (y %.1f, dx %.1f, dW %.1f)\n", eigen_all,
              3 * flops / eigen_all * 1e-3, flops / eigen[0] * 1e-3, flops / eigen[1] * 1e-3,
              flops / eigen[2] * 1e-3);
  std::printf("packing-free y and dx: %.0f us against Eigen's %.0f (%.2fx), Eigen's bits: %s\n",
              mine[0] + mine[1], eigen[0] + eigen[1], (eigen[0] + eigen[1]) / (mine[0] + mine[1]),
              same_bits ? "yes" : "NO");
  const Matrix a = Matrix::Random(1024, 1024), b = Matrix::Random(1024, 1024);
  Matrix c(1024, 1024);
  const double square = microseconds([&] { c.noalias() = a * b; }, 20);
  std::printf("Eigen 1024 x 1024 sgemm: %.1f GFLOP/s\n", 2.0 * 1024 * 1024 * 1024 / square * 1e-3);
}
