#pragma once
// Shared by the allocation tests (each its own executable): counters, Eigen's heap check routed
// to a counter (EIGEN_RUNTIME_NO_MALLOC), and the global operator new / delete replaced by
// counting versions. Include it first: it must configure Eigen before Eigen is seen.
#ifdef EIGEN_WORLD_VERSION
#error "Eigen was included before this file could configure it (a forced or precompiled header?)"
#endif
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> g_new_calls{0};
std::atomic<long> g_eigen_heap_calls{0};
std::atomic<bool> g_counting{false};
}  // namespace

// Eigen's check: count instead of aborting (only the heap check can fail in a correct program).
inline void count_eigen_assert(bool ok) {
  if (!ok && g_counting.load(std::memory_order_relaxed)) g_eigen_heap_calls.fetch_add(1);
}
#define EIGEN_RUNTIME_NO_MALLOC
#define eigen_assert(x) count_eigen_assert(static_cast<bool>(x))

// ---- global operator new / delete, counted
namespace {
void* counted_alloc(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_new_calls.fetch_add(1);
  void* p = std::malloc(n == 0 ? 1 : n);
  if (!p) throw std::bad_alloc();
  return p;
}
void* counted_aligned_alloc(std::size_t n, std::align_val_t a) {
  if (g_counting.load(std::memory_order_relaxed)) g_new_calls.fetch_add(1);
  const std::size_t alignment = static_cast<std::size_t>(a);
  void* p = std::aligned_alloc(alignment, (n + alignment - 1) / alignment * alignment);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) {
  return counted_alloc(n);
}
void* operator new[](std::size_t n) {
  return counted_alloc(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a) {
  return counted_aligned_alloc(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return counted_aligned_alloc(n, a);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
