#pragma once
// What a training run prints: one line per epoch (epoch, losses, metrics, learning rate, time),
// one line per rollback, and — only when the output is a terminal — a live bar within the epoch
// redrawn in place with '\r'. Silent mode prints nothing (tests).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <ostream>
#include <sstream>
#include <string>

#include "agnostic/core/matrix.hpp"
#include "agnostic/train/history.hpp"

namespace agnostic::train {

enum class Verbosity { silent, epochs };

class Progress {
 public:
  Progress() = default;
  // The bar is drawn only when `out` is std::cout and standard output is a terminal.
  Progress(std::ostream* out, Verbosity verbosity)
      : out_(out), verbosity_(verbosity), bar_(out == &std::cout && ::isatty(STDOUT_FILENO) == 1) {}

  bool silent() const { return out_ == nullptr || verbosity_ == Verbosity::silent; }

  // Called after each batch; redraws at most ~50 times per epoch.
  void batch(Index epoch, Index done, Index batches, double running_loss) {
    if (silent() || !bar_ || batches < 2) return;
    const Index step = std::max<Index>(1, batches / 50);
    if (done % step != 0 && done != batches) return;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / batches);
    std::ostringstream line;
    line << "\repoch " << epoch << " [" << std::string(static_cast<std::size_t>(filled), '=')
         << std::string(static_cast<std::size_t>(kWidth - filled), ' ') << "] " << done << "/" << batches
         << "  loss " << std::setprecision(5) << running_loss;
    *out_ << line.str() << std::flush;
    drawn_ = true;
  }

  void epoch(const EpochRecord& r, Index max_epochs, bool best) {
    if (silent()) return;
    clear_bar();
    std::ostringstream line;
    line << "epoch " << std::setw(static_cast<int>(std::to_string(max_epochs).size())) << r.epoch << "/"
         << max_epochs;
    for (const auto& [name, value] : r.figures) line << "  " << name << " " << std::setprecision(5) << value;
    line << "  lr " << std::setprecision(3) << r.learning_rate << "  " << std::fixed << std::setprecision(2)
         << r.seconds << " s" << (best ? "  *" : "");
    *out_ << line.str() << "\n" << std::flush;
  }

  void message(const std::string& text) {
    if (silent()) return;
    clear_bar();
    *out_ << text << "\n" << std::flush;
  }

 private:
  void clear_bar() {
    if (!drawn_) return;
    *out_ << "\r" << std::string(78, ' ') << "\r";
    drawn_ = false;
  }

  std::ostream* out_ = nullptr;
  Verbosity verbosity_ = Verbosity::silent;
  bool bar_ = false;
  bool drawn_ = false;
};

}  // namespace agnostic::train
