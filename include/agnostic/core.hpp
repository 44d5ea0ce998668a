#pragma once
// The whole core/ module: matrices and the storage convention, Rng, errors, the parallel-chunk helper and
// thread settings, files, the explicit process settings (docs/architecture.md).
#include "agnostic/core/activation_function.hpp"
#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/batch_shard.hpp"
#include "agnostic/core/communicator.hpp"
#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/config_section.hpp"
#include "agnostic/core/dense_rows.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/index.hpp"
#include "agnostic/core/json_file.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/core/number_text.hpp"
#include "agnostic/core/process.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/core/thread_pool.hpp"
#include "agnostic/core/threads.hpp"
