#pragma once
// y += a * b for a tall operand a (events x depth, column-major) and a small b (depth x cols, both at
// most 64): the dense layer's forward product X W^T and its input gradient G W, on layers 2 to 64
// wide. Eigen's GEMM first copies ("packs") a into panels of rows; with a few output columns that
// copy costs about as much as the arithmetic (benchmarks/README.md, W1). This kernel reads a where
// it lies, one block of rows at a time, with b's few values broadcast from L1.
//
// Same bits as Eigen. Eigen 3.4's kernel (products/GeneralBlockPanelKernel.h) computes each element
// of a block of rows as one chain of multiply-adds over k = 0, 1, ..., depth-1 starting from zero,
// then adds the chain to y, for the rows it takes three or two SIMD packets at a time; the rows left
// over at the end of each of its row blocks (fewer than two packets) it sums in other orders (even
// and odd k in two chains, or across k inside a packet). This kernel does the packet rows with the
// same chain, the same packet operations (pmadd: one fused multiply-add where the target has FMA)
// and the same final addition, and hands the left-over rows, found from Eigen's own blocking sizes,
// to Eigen's own GEMM routine with the same blocking. So it changes no bit of any result; the tests
// compare it with Eigen bit for bit (tests/test_autodiff_dense.cpp).
//
// Where it is not faster, or Eigen would take another route (a product small enough for Eigen's
// coefficient loop, a single column, Eigen's own threads, a depth Eigen splits), Eigen runs it.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <type_traits>

#include "agnostic/core/matrix.hpp"

namespace agnostic {

// The largest depth and number of columns the narrow kernel takes, and the fewest rows (below it
// the packing it saves is small, and Eigen's coefficient loop takes the smallest products).
inline constexpr Index narrow_product_max_width = 64;
inline constexpr Index narrow_product_min_rows = 64;

// Whether the narrow kernel beats Eigen's GEMM on a depth x cols right operand, as measured side by
// side on W1's products (`agnostic-bench --workload narrow`, benchmarks/README.md): it does except
// at a depth under 4 (too little work per block of rows to pay for reading y) and at a depth under
// 32 with more than 32 columns (Eigen's packed panels are then reused over more columns).
inline bool narrow_product_pays(Index depth, Index cols) {
  return depth >= 4 && (depth >= 32 || cols <= 32);
}

// Switch for the side-by-side benchmark and the tests: false sends every product to Eigen. One
// switch for the process (the products run on the kernels' worker threads).
inline std::atomic<bool>& narrow_product_switch() {
  static std::atomic<bool> enabled{true};
  return enabled;
}
inline bool narrow_product_enabled() {
  return narrow_product_switch().load(std::memory_order_relaxed);
}
inline void set_narrow_product_enabled(bool on) {
  narrow_product_switch().store(on, std::memory_order_relaxed);
}

// Whether add_product / set_product give a (rows x depth) * (depth x cols) product to the narrow
// kernel (where Eigen's own threads do not take it, Parallelizer.h).
inline bool narrow_product_applies(Index rows, Index depth, Index cols) {
  return narrow_product_enabled() && rows >= narrow_product_min_rows && depth <= narrow_product_max_width &&
         cols >= 2 && cols <= narrow_product_max_width && narrow_product_pays(depth, cols);
}

namespace detail {

// Eigen's blocking object with given sizes (its members are protected, with no setter).
template <class T>
struct GivenBlocking : Eigen::internal::level3_blocking<T, T> {
  GivenBlocking(Index mc, Index nc, Index kc) {
    this->m_mc = mc;
    this->m_nc = nc;
    this->m_kc = kc;
  }
};

// Keeps a packet in a register: GCC otherwise reloads it from memory inside each multiply-add
// when the accumulators take all the vector registers (Eigen's kernel does the same).
template <class Packet>
inline void keep_in_register(Packet& p) {
#if defined(__GNUC__) && (defined(__SSE2__) || defined(__AVX__))
  __asm__("" : "+x"(p));
#else
  (void)p;
#endif
}

// Rows [0, MP packets) of y (column stride y_stride) += a * b for NC columns: a(i, k) =
// a[i + k * a_stride], b(k, c) = b[k * NC + c] (the columns' panel, packed by narrow_row_block).
template <class T, int MP, int NC>
void narrow_block(const T* a, Index a_stride, Index depth, const T* b, T* y, Index y_stride) {
  using Traits = Eigen::internal::gebp_traits<T, T>;
  using Packet = typename Traits::ResPacket;
  namespace ei = Eigen::internal;
  constexpr int P = Traits::LhsProgress;
  Packet acc[MP][NC];
  for (int p = 0; p < MP; ++p)
    for (int c = 0; c < NC; ++c) acc[p][c] = ei::pset1<Packet>(T(0));
  // y's block is read after the products: asked for now, it is in L1 by then.
  for (int c = 0; c < NC; ++c)
    for (int line = 0; line < int(MP * P * sizeof(T)); line += 64)
      __builtin_prefetch(reinterpret_cast<const char*>(y + c * y_stride) + line);
  for (Index k = 0; k < depth; ++k) {
    const T* ak = a + k * a_stride;
    const T* bk = b + k * NC;
    Packet av[MP];
    for (int p = 0; p < MP; ++p) {
      av[p] = ei::ploadu<Packet>(ak + p * P);
      if constexpr (MP * NC + MP + 1 <= 16) keep_in_register(av[p]);
    }
    for (int c = 0; c < NC; ++c) {
      const Packet bv = ei::pset1<Packet>(bk[c]);
      for (int p = 0; p < MP; ++p) acc[p][c] = ei::pmadd(av[p], bv, acc[p][c]);
    }
  }
  for (int c = 0; c < NC; ++c)
    for (int p = 0; p < MP; ++p) {
      T* yc = y + c * y_stride + p * P;
      ei::pstoreu(yc, ei::padd(ei::ploadu<Packet>(yc), acc[p][c]));
    }
}

// The column tile: this many columns at a time (12 accumulators with 3 packets of rows), then the rest.
inline constexpr int narrow_tile_columns = 4;

// Rows [0, rows) of y (rows a multiple of the packet size) += a * b for NC columns: blocks of
// enough packets of rows for 8 to 12 independent multiply-add chains (a chain waits for the
// previous multiply-add's result), then blocks of three, two, one.
template <class T, int NC>
void narrow_column_tile(const T* a, Index a_stride, Index depth, const T* b, Index rows, T* y,
                        Index y_stride) {
  constexpr Index P = Eigen::internal::gebp_traits<T, T>::LhsProgress;
  constexpr int MP = NC >= 3 ? 3 : NC == 2 ? 4 : 8;
  Index i = 0;
  for (; i + MP * P <= rows; i += MP * P) narrow_block<T, MP, NC>(a + i, a_stride, depth, b, y + i, y_stride);
  for (; i + 3 * P <= rows; i += 3 * P) narrow_block<T, 3, NC>(a + i, a_stride, depth, b, y + i, y_stride);
  if (i + 2 * P <= rows) {
    narrow_block<T, 2, NC>(a + i, a_stride, depth, b, y + i, y_stride);
    i += 2 * P;
  }
  if (i < rows) narrow_block<T, 1, NC>(a + i, a_stride, depth, b, y + i, y_stride);
}

// Rows [0, rows) of y += a * b, all columns; `packed` holds b's column tiles (pack_narrow_rhs).
// The rows go in panels whose part of a stays in L1 while every column tile passes over it, and
// each column tile walks down the panel (few streams of y at a time for the prefetcher).
template <class T>
void narrow_rows(const T* a, Index a_stride, Index depth, const T* packed, Index cols, Index rows, T* y,
                 Index y_stride) {
  constexpr int NC = narrow_tile_columns;
  constexpr Index P = Eigen::internal::gebp_traits<T, T>::LhsProgress;
  constexpr Index l1_share = 16 * 1024;  // bytes of a kept in L1
  const Index panel = std::max<Index>(1, l1_share / (depth * Index(sizeof(T)) * 3 * P)) * 3 * P;
  for (Index i = 0; i < rows; i += panel) {
    const Index m = std::min(panel, rows - i);
    const T* ai = a + i;
    T* yi = y + i;
    Index j = 0;
    for (; j + NC <= cols; j += NC)
      narrow_column_tile<T, NC>(ai, a_stride, depth, packed + j * depth, m, yi + j * y_stride, y_stride);
    const T* rest = packed + j * depth;
    T* yr = yi + j * y_stride;
    switch (cols - j) {
      case 3:
        narrow_column_tile<T, 3>(ai, a_stride, depth, rest, m, yr, y_stride);
        break;
      case 2:
        narrow_column_tile<T, 2>(ai, a_stride, depth, rest, m, yr, y_stride);
        break;
      case 1:
        narrow_column_tile<T, 1>(ai, a_stride, depth, rest, m, yr, y_stride);
        break;
      default:
        break;
    }
  }
}

// b (depth x cols, b(k, j) = b[k * b_row + j * b_col]) as the panels narrow_row_block reads: the
// columns in tiles of narrow_tile_columns (the last tile narrower), each tile k by k.
template <class T>
void pack_narrow_rhs(const T* b, Index b_row, Index b_col, Index depth, Index cols, T* packed) {
  for (Index j = 0; j < cols; j += narrow_tile_columns) {
    const Index width = std::min<Index>(narrow_tile_columns, cols - j);
    T* panel = packed + j * depth;
    for (Index k = 0; k < depth; ++k)
      for (Index c = 0; c < width; ++c) panel[k * width + c] = b[k * b_row + (j + c) * b_col];
  }
}

template <class E>
constexpr bool direct_column_major() {
  using D = std::remove_cvref_t<E>;
  return (int(D::Flags) & Eigen::DirectAccessBit) && !(int(D::Flags) & Eigen::RowMajorBit);
}
template <class E>
constexpr bool direct_access() {
  return int(std::remove_cvref_t<E>::Flags) & Eigen::DirectAccessBit;
}

// Whether Eigen's `y += a * b` (rows x depth times depth x cols) would run its single-threaded
// GEMM (Parallelizer.h: its thread count from the work and Eigen's thread setting).
inline bool eigen_gemm_runs_serially(Index rows, Index cols, Index depth) {
  if (omp_get_num_threads() > 1) return true;
  const double work = static_cast<double>(rows) * static_cast<double>(cols) * static_cast<double>(depth);
  Index most = std::max<Index>(1, cols / 4);
  most = std::max<Index>(1, std::min<Index>(most, static_cast<Index>(work / 50000)));
  return std::min<Index>(Eigen::nbThreads(), most) == 1;
}

}  // namespace detail

namespace detail {

// y += a * b by the narrow kernel, whatever narrow_product_pays says, where the operands' layout
// allows it and Eigen would compute it single-threaded with an unsplit depth; false (y untouched)
// otherwise.
template <class A, class B, class Y>
bool try_narrow_product(const A& a, const B& b, Y&& y) {
  using T = typename std::remove_cvref_t<Y>::Scalar;
  using Traits = Eigen::internal::gebp_traits<T, T>;
  const Index rows = a.rows(), depth = a.cols(), cols = b.cols();
  if constexpr (Traits::Vectorizable && detail::direct_column_major<A>() && detail::direct_access<B>() &&
                detail::direct_column_major<Y>()) {
    if (rows >= narrow_product_min_rows && cols >= 2 && depth <= narrow_product_max_width &&
        cols <= narrow_product_max_width && a.innerStride() == 1 && b.innerStride() == 1 &&
        y.innerStride() == 1 && detail::eigen_gemm_runs_serially(rows, cols, depth)) {
      // Eigen's blocking for this product (as its GEMM builds it: one thread, L3 blocking on).
      Eigen::internal::gemm_blocking_space<Eigen::ColMajor, T, T, Eigen::Dynamic, Eigen::Dynamic,
                                           Eigen::Dynamic>
          blocking(rows, cols, depth, 1, true);
      if (blocking.kc() == depth) {
        constexpr Index P = Traits::LhsProgress;
        constexpr bool three = Traits::mr >= 3 * P, two = Traits::mr >= 2 * P;
        constexpr int order =
            (int(std::remove_cvref_t<B>::Flags) & Eigen::RowMajorBit) ? Eigen::RowMajor : Eigen::ColMajor;
        using Gemm = Eigen::internal::general_matrix_matrix_product<Index, T, Eigen::ColMajor, false, T,
                                                                    order, false, Eigen::ColMajor, 1>;
        const Index mc = std::min(rows, blocking.mc()), nc = std::min(cols, blocking.nc());
        detail::GivenBlocking<T> given(mc, nc, depth);
        const T* ad = a.data();
        const T* bd = b.data();
        T* yd = y.data();
        const Index as = a.outerStride(), ys = y.outerStride();
        alignas(64) T packed[narrow_product_max_width * narrow_product_max_width];
        detail::pack_narrow_rhs(bd, b.rowStride(), b.colStride(), depth, cols, packed);
        for (Index i2 = 0; i2 < rows; i2 += mc) {
          const Index m = std::min(i2 + mc, rows) - i2;
          // Eigen's split of a row block: packets of 3, then of 2, then the rest.
          const Index in3 = three ? (m / (3 * P)) * (3 * P) : 0;
          const Index in2 = two ? in3 + ((m - in3) / (2 * P)) * (2 * P) : 0;
          detail::narrow_rows(ad + i2, as, depth, packed, cols, in2, yd + i2, ys);
          if (m > in2)
            Gemm::run(m - in2, cols, depth, ad + i2 + in2, as, bd, b.outerStride(), yd + i2 + in2, 1, ys,
                      T(1), given);
        }
        return true;
      }
    }
  }
  return false;
}

}  // namespace detail

// y += a * b, the bits of Eigen's `y.noalias() += a * b`. a: column-major with direct access
// (a matrix or a block of rows of one); b: any direct-access matrix expression (W or W.transpose());
// y: a column-major block.
template <class A, class B, class Y>
void add_product(const A& a, const B& b, Y&& y) {
  if (narrow_product_applies(a.rows(), a.cols(), b.cols()) && detail::try_narrow_product(a, b, y)) return;
  y.noalias() += a * b;
}

// y = a * b, the bits of Eigen's `y.noalias() = a * b` (which, for a product this kernel takes,
// zeroes y and adds the product).
template <class A, class B, class Y>
void set_product(const A& a, const B& b, Y&& y) {
  const Index rows = a.rows(), depth = a.cols(), cols = b.cols();
  if (narrow_product_applies(rows, depth, cols)) {
    y.setZero();
    add_product(a, b, y);
  } else {
    y.noalias() = a * b;
  }
}

}  // namespace agnostic
