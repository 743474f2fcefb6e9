// OpenCV side: decode and encode image files, resize, and key point
// detectors. Works on RawView so it never includes torch or napi.
#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "common.h"

namespace fm {

namespace {

int cvTypeOf(DType d) {
  switch (d) {
    case DType::UInt8: return CV_8UC1;
    case DType::Float32: return CV_32FC1;
    case DType::Float64: return CV_64FC1;
    default: throw EngineError(std::string("images must be uint8, float32 or float64, not ") + dtypeName(d));
  }
}

// A cv::Mat over a 2-D view, without copying.
cv::Mat matOf(const RawView& v) {
  if (v.shape.size() != 2) throw EngineError("images must be 2-D (H x W), got rank " + std::to_string(v.shape.size()));
  return cv::Mat(static_cast<int>(v.shape[0]), static_cast<int>(v.shape[1]), cvTypeOf(v.dtype), const_cast<void*>(v.data));
}

RawView viewOfMat(const cv::Mat& m) {
  auto holder = std::make_shared<cv::Mat>(m.isContinuous() ? m : m.clone());
  DType d;
  switch (holder->depth()) {
    case CV_8U: d = DType::UInt8; break;
    case CV_32F: d = DType::Float32; break;
    case CV_64F: d = DType::Float64; break;
    default: throw EngineError("unsupported OpenCV depth " + std::to_string(holder->depth()));
  }
  return RawView{d, {holder->rows, holder->cols}, holder->data, holder};
}

template <typename Fn>
auto guarded(const char* what, Fn fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const cv::Exception& e) {
    throw EngineError(std::string(what) + ": " + e.err);
  }
}

// Sends std::cerr to a string for as long as it lives.
class QuietCerr {
 public:
  QuietCerr() : previous_(std::cerr.rdbuf(sink_.rdbuf())) {}
  ~QuietCerr() { std::cerr.rdbuf(previous_); }

 private:
  std::ostringstream sink_;
  std::streambuf* previous_;
};

// Sends file descriptor 2 to a temporary file until finish(), which
// returns what was written (the first 4 KB). Decoding runs on the JS
// thread, which is then the only one writing to stderr.
class CapturedStderr {
 public:
  CapturedStderr() {
    std::fflush(stderr);
    file_ = std::tmpfile();
    if (!file_) return;
    saved_ = dup(2);
    if (saved_ < 0 || dup2(fileno(file_), 2) < 0) {
      if (saved_ >= 0) close(saved_);
      saved_ = -1;
      std::fclose(file_);
      file_ = nullptr;
    }
  }
  ~CapturedStderr() { finish(); }
  std::string finish() {
    std::string text;
    if (!file_) return text;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
    std::rewind(file_);
    char buffer[4096];
    text.assign(buffer, std::fread(buffer, 1, sizeof buffer, file_));
    std::fclose(file_);
    file_ = nullptr;
    return text;
  }

 private:
  FILE* file_ = nullptr;
  int saved_ = -1;
};

}  // namespace

DecodedImage decodeImage(const uint8_t* bytes, size_t length) {
  return guarded("decodeImage", [&] {
    cv::Mat raw(1, static_cast<int>(length), CV_8UC1, const_cast<uint8_t*>(bytes));
    cv::Mat img;
    std::string warnings;
    {
      // imdecode prints its codecs' complaints to std::cerr (OpenCV) and to
      // stderr (libjpeg's "Corrupt JPEG data", libpng) and still returns an
      // image or an empty one; the caller says what went wrong, in words.
      QuietCerr quiet;
      CapturedStderr captured;
      img = cv::imdecode(raw, cv::IMREAD_UNCHANGED | cv::IMREAD_ANYDEPTH);
      warnings = captured.finish();
    }
    if (img.empty()) throw EngineError("not a readable image (unknown format, truncated or corrupt)");
    DecodedImage out;
    out.warnings = warnings;
    out.channels = img.channels();
    switch (img.depth()) {
      case CV_8U: case CV_8S: out.bitDepth = 8; break;
      case CV_16U: case CV_16S: out.bitDepth = 16; break;
      case CV_32F: case CV_32S: out.bitDepth = 32; break;
      default: out.bitDepth = 64;
    }
    cv::Mat grey;
    if (img.channels() == 3) cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
    else if (img.channels() == 4) cv::cvtColor(img, grey, cv::COLOR_BGRA2GRAY);
    else grey = img;
    // Keep 8-bit images compact; widen everything else to float32 (exact
    // for 16-bit values) since libtorch has no unsigned 16-bit type.
    if (grey.depth() != CV_8U) grey.convertTo(grey, CV_32F);
    out.pixels = viewOfMat(grey);
    return out;
  });
}

std::vector<uint8_t> encodeImage(const RawView& image, const std::string& ext) {
  return guarded("encodeImage", [&] {
    cv::Mat m = matOf(image);
    cv::Mat out;
    if (image.dtype == DType::UInt8) out = m;
    else m.convertTo(out, ext == ".png" || ext == ".tif" || ext == ".tiff" ? CV_16U : CV_8U);
    std::vector<uint8_t> buf;
    if (!cv::imencode(ext, out, buf)) throw EngineError("cannot encode as " + ext);
    return buf;
  });
}

RawView resizeImage(const RawView& image, int width, int height, const std::string& interpolation) {
  return guarded("resizeImage", [&] {
    int flag;
    if (interpolation == "area") flag = cv::INTER_AREA;
    else if (interpolation == "linear") flag = cv::INTER_LINEAR;
    else if (interpolation == "cubic") flag = cv::INTER_CUBIC;
    else if (interpolation == "nearest") flag = cv::INTER_NEAREST;
    else throw EngineError("unknown interpolation '" + interpolation + "' (expected area, linear, cubic or nearest)");
    cv::Mat out;
    cv::resize(matOf(image), out, cv::Size(width, height), 0, 0, flag);
    return viewOfMat(out);
  });
}

RawView detectKeypoints(const RawView& image, const KeypointParams& p) {
  return guarded("detectKeypoints", [&] {
    if (image.dtype != DType::UInt8) throw EngineError("key point detection needs a uint8 image");
    cv::Ptr<cv::Feature2D> detector;
    if (p.method == "sift") {
      detector = cv::SIFT::create(p.maxFeatures, p.octaveLayers, p.contrastThreshold, p.edgeThreshold, p.sigma);
    } else if (p.method == "orb") {
      detector = cv::ORB::create(p.maxFeatures > 0 ? p.maxFeatures : 500, static_cast<float>(p.scaleFactor), p.levels,
                                 static_cast<int>(p.edgeThreshold), 0, 2, cv::ORB::HARRIS_SCORE, p.patchSize,
                                 p.fastThreshold);
    } else if (p.method == "akaze") {
      detector = cv::AKAZE::create(cv::AKAZE::DESCRIPTOR_MLDB, 0, 3, static_cast<float>(p.akazeThreshold), p.octaves,
                                   p.octaveLayers);
    } else {
      throw EngineError("unknown key point method '" + p.method + "' (expected sift, orb or akaze)");
    }
    std::vector<cv::KeyPoint> kps;
    detector->detect(matOf(image), kps);
    cv::Mat rows(static_cast<int>(kps.size()), 5, CV_32F);
    for (size_t i = 0; i < kps.size(); ++i) {
      float* r = rows.ptr<float>(static_cast<int>(i));
      r[0] = kps[i].pt.x;
      r[1] = kps[i].pt.y;
      r[2] = kps[i].size;
      r[3] = kps[i].angle;
      r[4] = kps[i].response;
    }
    auto holder = std::make_shared<cv::Mat>(rows);
    return RawView{DType::Float32, {static_cast<int64_t>(kps.size()), 5}, holder->data, holder};
  });
}

}  // namespace fm
