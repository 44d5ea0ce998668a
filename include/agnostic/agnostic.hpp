#pragma once
// Umbrella header: everything agnostic offers.
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/core/threads.hpp"
#include "agnostic/io/column_selection.hpp"
#include "agnostic/io/csv.hpp"
#include "agnostic/io/data_file.hpp"
#include "agnostic/io/missing_values.hpp"
#include "agnostic/io/npy.hpp"
#include "agnostic/io/standardisation.hpp"
#include "agnostic/io/table.hpp"
