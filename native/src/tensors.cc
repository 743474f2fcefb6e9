// libtorch side of tensor lifetime: the handle table, creation from raw
// bytes, contiguous views for reading, grad mode, threads and seeding.
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <c10/core/GradMode.h>

#include <malloc.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "table.h"

namespace fm {

namespace {
std::mutex tableMutex;
std::unordered_map<int64_t, at::Tensor> table;
std::atomic<int64_t> nextId{1};
std::atomic<int64_t> liveBytes{0};

int64_t bytesOf(const at::Tensor& t) {
  return t.defined() ? static_cast<int64_t>(t.numel() * t.element_size()) : 0;
}
}  // namespace

const char* dtypeName(DType d) {
  switch (d) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
    case DType::UInt8: return "uint8";
  }
  return "unknown";
}

DType dtypeFromName(const std::string& name) {
  if (name == "float32") return DType::Float32;
  if (name == "float64") return DType::Float64;
  if (name == "int64") return DType::Int64;
  if (name == "bool") return DType::Bool;
  if (name == "uint8") return DType::UInt8;
  throw EngineError("unknown dtype '" + name + "' (expected float32, float64, int64, bool or uint8)");
}

size_t dtypeSize(DType d) {
  switch (d) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
    case DType::UInt8: return 1;
  }
  return 0;
}

at::ScalarType toScalarType(DType d) {
  switch (d) {
    case DType::Float32: return at::kFloat;
    case DType::Float64: return at::kDouble;
    case DType::Int64: return at::kLong;
    case DType::Bool: return at::kBool;
    case DType::UInt8: return at::kByte;
  }
  return at::kFloat;
}

DType fromScalarType(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return DType::Float32;
    case at::kDouble: return DType::Float64;
    case at::kLong: return DType::Int64;
    case at::kBool: return DType::Bool;
    case at::kByte: return DType::UInt8;
    default:
      throw EngineError(std::string("op produced unsupported dtype ") + c10::toString(t));
  }
}

at::Tensor getTensor(int64_t id) {
  std::lock_guard<std::mutex> lock(tableMutex);
  auto it = table.find(id);
  if (it == table.end()) throw EngineError("tensor " + std::to_string(id) + " was already disposed");
  return it->second;
}

TensorInfo registerTensor(const at::Tensor& t) {
  TensorInfo info;
  info.dtype = fromScalarType(t.scalar_type());
  info.shape = t.sizes().vec();
  info.nbytes = bytesOf(t);
  info.id = nextId++;
  {
    std::lock_guard<std::mutex> lock(tableMutex);
    table.emplace(info.id, t);
  }
  liveBytes += info.nbytes;
  return info;
}

TensorInfo createTensor(const RawView& src) {
  auto t = at::empty(src.shape, at::TensorOptions().dtype(toScalarType(src.dtype)));
  size_t bytes = static_cast<size_t>(t.numel()) * dtypeSize(src.dtype);
  if (bytes > 0) std::memcpy(t.data_ptr(), src.data, bytes);
  return registerTensor(t);
}

RawView viewTensor(int64_t id) {
  auto t = getTensor(id).detach().contiguous();
  auto holder = std::make_shared<at::Tensor>(t);
  return RawView{fromScalarType(t.scalar_type()), t.sizes().vec(), t.data_ptr(), holder};
}

int64_t releaseTensor(int64_t id) {
  at::Tensor t;
  {
    std::lock_guard<std::mutex> lock(tableMutex);
    auto it = table.find(id);
    if (it == table.end()) return 0;
    t = std::move(it->second);
    table.erase(it);
  }
  int64_t bytes = bytesOf(t);
  liveBytes -= bytes;
  return bytes;
}

size_t liveTensorCount() {
  std::lock_guard<std::mutex> lock(tableMutex);
  return table.size();
}

int64_t liveTensorBytes() { return liveBytes.load(); }

bool setGradEnabled(bool enabled) {
  bool previous = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(enabled);
  return previous;
}

int setThreads(int n) {
  if (n > 0) at::set_num_threads(n);
  return at::get_num_threads();
}

void manualSeed(uint64_t seed) { at::manual_seed(seed); }

std::string engineConfig() { return at::get_parallel_info() + at::show_config(); }

void tuneAllocator() {
  // glibc serves blocks over 128 KiB-32 MiB with fresh mmap pages and trims
  // the heap eagerly, so every training step page-faults its activations
  // anew. Keeping them on the heap cut a 4x256x256 extractor step from
  // ~175 ms to ~120 ms on the 2-core machine (bench/engine).
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
}

}  // namespace fm
