// The whole native surface: converts JS values to plain C++ (common.h) and
// back. No libtorch or OpenCV here; errors become JS errors with the
// native message.
#include <napi.h>

#include <cmath>
#include <cstring>

#include "common.h"

namespace {

using fm::Arg;

// libtorch messages may carry a C++ backtrace after this marker.
std::string cleanMessage(const std::string& m) {
  auto cut = m.find("\nException raised from");
  return cut == std::string::npos ? m : m.substr(0, cut);
}

template <typename Fn>
Napi::Value guarded(const Napi::Env& env, Fn fn) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, cleanMessage(e.what()));
  }
}

bool isTensorObject(const Napi::Value& v) {
  return v.IsObject() && !v.IsArray() && v.As<Napi::Object>().Has("id");
}

int64_t tensorId(const Napi::Value& v) {
  return v.As<Napi::Object>().Get("id").As<Napi::Number>().Int64Value();
}

Arg toArg(const Napi::Value& v) {
  Arg a;
  if (v.IsNull() || v.IsUndefined()) {
    a.kind = Arg::None;
  } else if (v.IsBoolean()) {
    a.kind = Arg::Bool;
    a.b = v.As<Napi::Boolean>().Value();
  } else if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && d == static_cast<double>(static_cast<int64_t>(d)) && std::abs(d) < 9007199254740992.0) {
      a.kind = Arg::Int;
      a.i = static_cast<int64_t>(d);
    } else {
      a.kind = Arg::Double;
      a.d = d;
    }
  } else if (v.IsString()) {
    a.kind = Arg::String;
    a.s = v.As<Napi::String>().Utf8Value();
  } else if (v.IsArray()) {
    auto arr = v.As<Napi::Array>();
    uint32_t n = arr.Length();
    bool tensors = n > 0 && isTensorObject(arr.Get(0u));
    bool allInts = true;
    for (uint32_t k = 0; k < n; ++k) {
      Napi::Value e = arr.Get(k);
      if (tensors) {
        if (!isTensorObject(e)) throw std::runtime_error("a list mixes tensors and other values");
        a.ints.push_back(tensorId(e));
      } else {
        if (!e.IsNumber()) throw std::runtime_error("a list must hold only numbers or only tensors");
        double d = e.As<Napi::Number>().DoubleValue();
        if (d != static_cast<double>(static_cast<int64_t>(d))) allInts = false;
        a.doubles.push_back(d);
      }
    }
    if (tensors) {
      a.kind = Arg::TensorList;
    } else if (allInts) {
      a.kind = Arg::IntList;
      for (double d : a.doubles) a.ints.push_back(static_cast<int64_t>(d));
    } else {
      a.kind = Arg::DoubleList;
    }
  } else if (isTensorObject(v)) {
    a.kind = Arg::Tensor;
    a.i = tensorId(v);
  } else {
    throw std::runtime_error("unsupported argument type");
  }
  return a;
}

Napi::Object infoToJs(Napi::Env env, const fm::TensorInfo& info) {
  auto o = Napi::Object::New(env);
  o.Set("id", Napi::Number::New(env, static_cast<double>(info.id)));
  o.Set("dtype", Napi::String::New(env, fm::dtypeName(info.dtype)));
  auto shape = Napi::Array::New(env, info.shape.size());
  for (size_t k = 0; k < info.shape.size(); ++k) shape.Set(k, Napi::Number::New(env, static_cast<double>(info.shape[k])));
  o.Set("shape", shape);
  o.Set("nbytes", Napi::Number::New(env, static_cast<double>(info.nbytes)));
  return o;
}

std::vector<int64_t> toShape(const Napi::Value& v) {
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> shape;
  for (uint32_t k = 0; k < arr.Length(); ++k) shape.push_back(arr.Get(k).As<Napi::Number>().Int64Value());
  return shape;
}

// createTensor(dtype, shape, typedArray) -> info. Copies the bytes.
Napi::Value CreateTensor(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    auto dtype = fm::dtypeFromName(info[0].As<Napi::String>().Utf8Value());
    auto shape = toShape(info[1]);
    auto data = info[2].As<Napi::TypedArray>();
    int64_t numel = 1;
    for (auto s : shape) numel *= s;
    size_t need = static_cast<size_t>(numel) * fm::dtypeSize(dtype);
    if (data.ByteLength() != need)
      throw std::runtime_error("createTensor: data has " + std::to_string(data.ByteLength()) + " bytes, shape needs " +
                               std::to_string(need));
    auto bytes = static_cast<const uint8_t*>(data.ArrayBuffer().Data()) + data.ByteOffset();
    return infoToJs(info.Env(), fm::createTensor(fm::RawView{dtype, shape, bytes, nullptr}));
  });
}

// op(name, args[]) -> info[]
Napi::Value Op(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::string name = info[0].As<Napi::String>().Utf8Value();
    auto jsArgs = info[1].As<Napi::Array>();
    std::vector<Arg> args;
    args.reserve(jsArgs.Length());
    for (uint32_t k = 0; k < jsArgs.Length(); ++k) args.push_back(toArg(jsArgs.Get(k)));
    auto outs = fm::runOp(name, args);
    auto result = Napi::Array::New(info.Env(), outs.size());
    for (size_t k = 0; k < outs.size(); ++k) result.Set(k, infoToJs(info.Env(), outs[k]));
    return result;
  });
}

// read(id) -> ArrayBuffer holding a contiguous copy of the tensor's bytes.
Napi::Value Read(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    auto view = fm::viewTensor(info[0].As<Napi::Number>().Int64Value());
    int64_t numel = 1;
    for (auto s : view.shape) numel *= s;
    size_t bytes = static_cast<size_t>(numel) * fm::dtypeSize(view.dtype);
    auto buf = Napi::ArrayBuffer::New(info.Env(), bytes);
    if (bytes > 0) std::memcpy(buf.Data(), view.data, bytes);
    return buf;
  });
}

Napi::Value Release(const Napi::CallbackInfo& info) {
  fm::releaseTensor(info[0].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

// externalMemory(deltaBytes): tells V8 about native memory whose release
// waits on the garbage collector (TypeScript decides which tensors count).
Napi::Value ExternalMemory(const Napi::CallbackInfo& info) {
  int64_t delta = info[0].As<Napi::Number>().Int64Value();
  return Napi::Number::New(info.Env(), static_cast<double>(Napi::MemoryManagement::AdjustExternalMemory(info.Env(), delta)));
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  o.Set("liveTensors", Napi::Number::New(info.Env(), static_cast<double>(fm::liveTensorCount())));
  o.Set("liveBytes", Napi::Number::New(info.Env(), static_cast<double>(fm::liveTensorBytes())));
  return o;
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), fm::setGradEnabled(info[0].As<Napi::Boolean>().Value()));
}

Napi::Value Threads(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    int n = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
    return Napi::Number::New(info.Env(), fm::setThreads(n));
  });
}

Napi::Value Seed(const Napi::CallbackInfo& info) {
  fm::manualSeed(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
  return info.Env().Undefined();
}

Napi::Value Config(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), fm::engineConfig());
}

Napi::Value OpNames(const Napi::CallbackInfo& info) {
  auto names = fm::opNames();
  auto arr = Napi::Array::New(info.Env(), names.size());
  for (size_t k = 0; k < names.size(); ++k) arr.Set(k, Napi::String::New(info.Env(), names[k]));
  return arr;
}

// decodeImage(bytes) -> { tensor: info, bitDepth, channels, warnings }
Napi::Value DecodeImage(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    auto data = info[0].As<Napi::Uint8Array>();
    auto img = fm::decodeImage(data.Data(), data.ByteLength());
    auto o = Napi::Object::New(info.Env());
    o.Set("tensor", infoToJs(info.Env(), fm::createTensor(img.pixels)));
    o.Set("bitDepth", Napi::Number::New(info.Env(), img.bitDepth));
    o.Set("channels", Napi::Number::New(info.Env(), img.channels));
    o.Set("warnings", Napi::String::New(info.Env(), img.warnings));
    return o;
  });
}

// encodeImage(id, ".png") -> Buffer
Napi::Value EncodeImage(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    auto view = fm::viewTensor(info[0].As<Napi::Number>().Int64Value());
    auto bytes = fm::encodeImage(view, info[1].As<Napi::String>().Utf8Value());
    return Napi::Buffer<uint8_t>::Copy(info.Env(), bytes.data(), bytes.size());
  });
}

// resizeImage(id, width, height, interpolation) -> info
Napi::Value ResizeImage(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    auto view = fm::viewTensor(info[0].As<Napi::Number>().Int64Value());
    auto out = fm::resizeImage(view, info[1].As<Napi::Number>().Int32Value(), info[2].As<Napi::Number>().Int32Value(),
                               info[3].As<Napi::String>().Utf8Value());
    return infoToJs(info.Env(), fm::createTensor(out));
  });
}

double numberOr(const Napi::Object& o, const char* key, double fallback) {
  return o.Has(key) && o.Get(key).IsNumber() ? o.Get(key).As<Napi::Number>().DoubleValue() : fallback;
}

// detectKeypoints(id, params) -> info of a K x 5 float32 tensor
Napi::Value DetectKeypoints(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    auto view = fm::viewTensor(info[0].As<Napi::Number>().Int64Value());
    auto o = info[1].As<Napi::Object>();
    fm::KeypointParams p;
    p.method = o.Get("method").As<Napi::String>().Utf8Value();
    p.maxFeatures = static_cast<int>(numberOr(o, "maxFeatures", p.maxFeatures));
    p.contrastThreshold = numberOr(o, "contrastThreshold", p.contrastThreshold);
    p.edgeThreshold = numberOr(o, "edgeThreshold", p.edgeThreshold);
    p.sigma = numberOr(o, "sigma", p.sigma);
    p.octaveLayers = static_cast<int>(numberOr(o, "octaveLayers", p.octaveLayers));
    p.scaleFactor = numberOr(o, "scaleFactor", p.scaleFactor);
    p.levels = static_cast<int>(numberOr(o, "levels", p.levels));
    p.fastThreshold = static_cast<int>(numberOr(o, "fastThreshold", p.fastThreshold));
    p.patchSize = static_cast<int>(numberOr(o, "patchSize", p.patchSize));
    p.akazeThreshold = numberOr(o, "threshold", p.akazeThreshold);
    p.octaves = static_cast<int>(numberOr(o, "octaves", p.octaves));
    return infoToJs(info.Env(), fm::createTensor(fm::detectKeypoints(view, p)));
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  fm::tuneAllocator();
  exports.Set("createTensor", Napi::Function::New(env, CreateTensor));
  exports.Set("op", Napi::Function::New(env, Op));
  exports.Set("read", Napi::Function::New(env, Read));
  exports.Set("release", Napi::Function::New(env, Release));
  exports.Set("externalMemory", Napi::Function::New(env, ExternalMemory));
  exports.Set("stats", Napi::Function::New(env, Stats));
  exports.Set("setGradEnabled", Napi::Function::New(env, SetGradEnabled));
  exports.Set("threads", Napi::Function::New(env, Threads));
  exports.Set("seed", Napi::Function::New(env, Seed));
  exports.Set("opNames", Napi::Function::New(env, OpNames));
  exports.Set("config", Napi::Function::New(env, Config));
  exports.Set("decodeImage", Napi::Function::New(env, DecodeImage));
  exports.Set("encodeImage", Napi::Function::New(env, EncodeImage));
  exports.Set("resizeImage", Napi::Function::New(env, ResizeImage));
  exports.Set("detectKeypoints", Napi::Function::New(env, DetectKeypoints));
  return exports;
}

}  // namespace

NODE_API_MODULE(fewmark, Init)
