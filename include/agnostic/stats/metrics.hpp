#pragma once
// All classifier metrics: ROC/AUC and purity vs efficiency (roc.hpp), K-S tests and the average
// K-S across domains (ks.hpp), AMS (ams.hpp), confusion matrix and categorical accuracy
// (classification.hpp). Scores may be float or double; sums are accumulated in double.
#include "agnostic/stats/ams.hpp"
#include "agnostic/stats/classification.hpp"
#include "agnostic/stats/ks.hpp"
#include "agnostic/stats/roc.hpp"
