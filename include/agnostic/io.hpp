#pragma once
// The whole io/ module: CSV and .npy readers and writers, missing values, standardisation, model files, lwtnn
// and ONNX exchange (docs/architecture.md).
#include "agnostic/io/column_selection.hpp"
#include "agnostic/io/csv.hpp"
#include "agnostic/io/csv_writer.hpp"
#include "agnostic/io/data_file.hpp"
#include "agnostic/io/fingerprint.hpp"
#include "agnostic/io/hdf5.hpp"  // empty without AGNOSTIC_HDF5
#include "agnostic/io/lwtnn.hpp"
#include "agnostic/io/missing_values.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/io/model_forward.hpp"
#include "agnostic/io/model_inputs.hpp"
#include "agnostic/io/model_reader.hpp"
#include "agnostic/io/model_types.hpp"
#include "agnostic/io/model_writer.hpp"
#include "agnostic/io/npy.hpp"
#include "agnostic/io/onnx_export.hpp"
#include "agnostic/io/onnx_import.hpp"
#include "agnostic/io/onnx_proto.hpp"
#include "agnostic/io/protobuf.hpp"
#include "agnostic/io/standardisation.hpp"
#include "agnostic/io/table.hpp"
