// The handle table: JS holds integer ids, native code owns the tensors.
// Shared by tensors.cc and ops.cc (both libtorch translation units).
#pragma once
#include <ATen/ATen.h>

#include "common.h"

namespace fm {

at::Tensor getTensor(int64_t id);  // throws EngineError for a released id
TensorInfo registerTensor(const at::Tensor& t);
at::ScalarType toScalarType(DType d);
DType fromScalarType(at::ScalarType t);

}  // namespace fm
