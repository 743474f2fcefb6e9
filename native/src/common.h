// Plain C++ types shared by the N-API layer (addon.cc), the libtorch side
// (tensors.cc, ops.cc) and the OpenCV side (vision.cc). Includes neither
// napi.h nor torch, so each translation unit pulls in only what it uses.
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace fm {

enum class DType { Float32, Float64, Int64, Bool, UInt8 };

const char* dtypeName(DType d);
DType dtypeFromName(const std::string& name);
size_t dtypeSize(DType d);

// What JS learns about a tensor that lives in the native handle table.
struct TensorInfo {
  int64_t id;
  DType dtype;
  std::vector<int64_t> shape;
  int64_t nbytes;  // reported to V8 as external memory
};

// One positional argument of an op, converted from a JS value.
struct Arg {
  enum Kind { None, Tensor, Int, Double, Bool, String, IntList, DoubleList, TensorList };
  Kind kind = None;
  int64_t i = 0;
  double d = 0;
  bool b = false;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<double> doubles;
};

// A borrowed, contiguous, CPU view of memory (a tensor's or an image's).
struct RawView {
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
  std::shared_ptr<void> owner;  // keeps `data` alive
};

// Errors that should reach JS with exactly this message.
struct EngineError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- tensors.cc: the handle table -------------------------------------
TensorInfo createTensor(const RawView& src);
RawView viewTensor(int64_t id);  // contiguous CPU view; owner keeps it alive
int64_t releaseTensor(int64_t id);  // returns bytes freed, 0 if unknown id
size_t liveTensorCount();
int64_t liveTensorBytes();
bool setGradEnabled(bool enabled);  // returns the previous mode
int setThreads(int n);  // n <= 0 only reads; returns the thread count
void manualSeed(uint64_t seed);
void tuneAllocator();  // once, at load
// libtorch's parallel settings and build configuration, as it prints them.
std::string engineConfig();

// ---- ops.cc: every op by name -----------------------------------------
std::vector<TensorInfo> runOp(const std::string& name, const std::vector<Arg>& args);
std::vector<std::string> opNames();

// ---- vision.cc: OpenCV ------------------------------------------------
struct DecodedImage {
  RawView pixels;  // H x W, uint8 for 8-bit files, float32 otherwise
  int bitDepth;
  int channels;  // in the file, before conversion to grey
  std::string warnings;  // what the codec libraries printed while decoding (libjpeg: corrupt data)
};
DecodedImage decodeImage(const uint8_t* bytes, size_t length);
std::vector<uint8_t> encodeImage(const RawView& image, const std::string& ext);
RawView resizeImage(const RawView& image, int width, int height, const std::string& interpolation);

struct KeypointParams {
  std::string method;  // sift | orb | akaze
  int maxFeatures = 0;
  double contrastThreshold = 0.04, edgeThreshold = 10, sigma = 1.6;
  int octaveLayers = 3;
  double scaleFactor = 1.2;
  int levels = 8, fastThreshold = 20, patchSize = 31;
  double akazeThreshold = 0.001;
  int octaves = 4;
};
// Rows of (x, y, size, angle, response), float32, shape K x 5.
RawView detectKeypoints(const RawView& image, const KeypointParams& params);

}  // namespace fm
