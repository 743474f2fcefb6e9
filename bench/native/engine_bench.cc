// The engine benchmark's work done in plain C++ on libtorch, with no
// binding in between: the same extractor network (src/features/model.ts,
// its widths and embedding given on the command line), the same Adam
// update, the same matmul. bench/engine compares fewmark's timings against
// these to measure the binding's cost, and first checks that both sides do
// the same work: it hands over fewmark's initial weights and inputs (STATE,
// raw float32 in this program's parameter order) and compares the losses
// and outputs printed here with its own.
//
// Usage: engine_bench REPS THREADS WIDTHS EMBEDDING STATE
//   WIDTHS: five encoder widths, e.g. 32,64,128,128,128
//   prints JSON {train:[ms...], infer:[...], matmul:[...], losses:[...], outputSums:[...], config:"..."}
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <c10/core/GradMode.h>

#include <malloc.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Conv {
  at::Tensor w, b;
};
struct Norm {
  at::Tensor w, b, mean, var;
};
struct DoubleConv {
  Conv c1, c2;
  Norm n1, n2;
  int stride;
};

// Every tensor the state file fills, in file order.
std::vector<at::Tensor> params;

at::Tensor param(at::Tensor t) {
  t.requires_grad_(true);
  params.push_back(t);
  return t;
}

Conv conv(int64_t cin, int64_t cout, int64_t k, bool bias) {
  Conv c;
  c.w = param(at::empty({cout, cin, k, k}));
  if (bias) c.b = param(at::empty({cout}));
  return c;
}

DoubleConv doubleConv(int64_t cin, int64_t cout, int stride) {
  DoubleConv d;
  d.stride = stride;
  d.c1 = conv(cin, cout, 3, false);
  d.c2 = conv(cout, cout, 3, false);
  d.n1 = Norm{param(at::empty({cout})), param(at::empty({cout})), at::zeros({cout}), at::ones({cout})};
  d.n2 = Norm{param(at::empty({cout})), param(at::empty({cout})), at::zeros({cout}), at::ones({cout})};
  return d;
}

at::Tensor bnRelu(const at::Tensor& x, const Norm& n, bool training) {
  return at::relu(at::batch_norm(x, n.w, n.b, n.mean, n.var, training, 0.1, 1e-5, false));
}

at::Tensor run(const DoubleConv& d, const at::Tensor& x, bool training) {
  auto h = bnRelu(at::conv2d(x, d.c1.w, {}, {d.stride, d.stride}, {1, 1}), d.n1, training);
  return bnRelu(at::conv2d(h, d.c2.w, {}, {1, 1}, {1, 1}), d.n2, training);
}

struct Extractor {
  std::vector<DoubleConv> enc, dec;
  std::vector<Conv> heads;
  Extractor(const std::vector<int64_t>& w, int64_t embedding) {
    for (int i = 0; i < 5; ++i) enc.push_back(doubleConv(i == 0 ? 1 : w[i - 1], w[i], 2));
    int order[4] = {3, 2, 1, 0};
    for (int k = 0; k < 4; ++k) {
      int i = order[k];
      dec.push_back(doubleConv((k == 0 ? w[4] : w[i + 1]) + w[i], w[i], 1));
    }
    for (int64_t c : {w[4], w[3], w[2], w[1], w[0]}) heads.push_back(conv(c, embedding, 1, true));
  }
  std::vector<at::Tensor> forward(const at::Tensor& x, bool training) {
    std::vector<at::Tensor> skips;
    at::Tensor h = x;
    for (auto& e : enc) {
      h = run(e, h, training);
      skips.push_back(h);
    }
    std::vector<at::Tensor> outs = {at::conv2d(h, heads[0].w, heads[0].b)};
    for (int k = 0; k < 4; ++k) {
      auto& skip = skips[3 - k];
      auto up = at::upsample_bilinear2d(h, {skip.size(2), skip.size(3)}, false);
      h = run(dec[k], at::cat({up, skip}, 1), training);
      outs.push_back(at::conv2d(h, heads[k + 1].w, heads[k + 1].b));
    }
    return outs;
  }
};

struct AdamState {
  std::vector<at::Tensor> m, v;
  int step = 0;
};

void adamStep(AdamState& s, double lr) {
  at::NoGradGuard guard;
  s.step++;
  double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  for (size_t i = 0; i < params.size(); ++i) {
    auto& p = params[i];
    auto g = p.grad();
    if (!g.defined()) continue;
    s.m[i].mul_(b1).add_(g, 1 - b1);
    s.v[i].mul_(b2).addcmul_(g, g, 1 - b2);
    double bc1 = 1 - std::pow(b1, s.step), bc2 = 1 - std::pow(b2, s.step);
    auto denom = (s.v[i].sqrt() / std::sqrt(bc2)).add_(eps);
    p.addcdiv_(s.m[i], denom, -lr / bc1);
  }
}

// Fills the parameters, then the two inputs, from fewmark's raw float32 file.
void loadState(const char* path, at::Tensor& x, at::Tensor& xi) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot open ") + path);
  std::vector<at::Tensor> all = params;
  all.push_back(x);
  all.push_back(xi);
  at::NoGradGuard guard;
  for (auto& t : all) {
    auto bytes = static_cast<std::streamsize>(t.numel() * sizeof(float));
    if (!in.read(static_cast<char*>(t.data_ptr()), bytes))
      throw std::runtime_error(std::string(path) + " is shorter than the network and inputs need");
  }
  if (in.peek() != EOF) throw std::runtime_error(std::string(path) + " is longer than the network and inputs need");
}

std::vector<int64_t> parseWidths(const std::string& s) {
  std::vector<int64_t> w;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) w.push_back(std::atoll(item.c_str()));
  if (w.size() != 5) throw std::runtime_error("WIDTHS needs five numbers, got '" + s + "'");
  return w;
}

double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void printList(const char* name, const std::vector<double>& v) {
  std::printf("\"%s\":[", name);
  for (size_t i = 0; i < v.size(); ++i) std::printf(i ? ",%.9g" : "%.9g", v[i]);
  std::printf("],");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: engine_bench REPS THREADS WIDTHS EMBEDDING STATE\n");
    return 2;
  }
  int reps = std::atoi(argv[1]);
  at::set_num_threads(std::atoi(argv[2]));
  // Same allocator settings as the addon (native/src/tensors.cc).
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  Extractor net(parseWidths(argv[3]), std::atoll(argv[4]));
  auto x = at::empty({4, 1, 256, 256});
  auto xi = at::empty({1, 1, 384, 384});
  loadState(argv[5], x, xi);
  AdamState adam;
  for (auto& p : params) {
    adam.m.push_back(at::zeros_like(p));
    adam.v.push_back(at::zeros_like(p));
  }
  at::manual_seed(0);
  auto a = at::randn({128, 128});
  auto b = at::randn({128, 16384});
  std::vector<double> train, infer, mm, losses, outputSums;
  for (int r = 0; r < reps + 2; ++r) {  // first two are warm-up
    auto t0 = std::chrono::steady_clock::now();
    auto outs = net.forward(x, true);
    auto loss = outs[0].square().mean();
    for (size_t k = 1; k < outs.size(); ++k) loss = loss + outs[k].square().mean();
    for (auto& p : params)
      if (p.grad().defined()) p.mutable_grad().reset();
    loss.backward();
    adamStep(adam, 1e-3);
    double t = msSince(t0);
    losses.push_back(loss.item<double>());
    if (r >= 2) train.push_back(t);
  }
  for (int r = 0; r < reps + 2; ++r) {
    at::NoGradGuard guard;
    auto t0 = std::chrono::steady_clock::now();
    auto outs = net.forward(xi, false);
    double t = msSince(t0);
    if (r >= 2) infer.push_back(t);
    if (r == 0)
      for (auto& o : outs) outputSums.push_back(o.abs().sum().item<double>());
  }
  for (int r = 0; r < reps * 5 + 2; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    auto c = at::matmul(a, b);
    double t = msSince(t0);
    if (r >= 2) mm.push_back(t);
  }
  std::printf("{");
  printList("train", train);
  printList("infer", infer);
  printList("matmul", mm);
  printList("losses", losses);
  printList("outputSums", outputSums);
  std::string config = at::get_parallel_info();
  std::string escaped;
  for (char c : config) {
    if (c == '\n') escaped += "\\n";
    else if (c == '"' || c == '\\') escaped += std::string("\\") + c;
    else if (static_cast<unsigned char>(c) >= 0x20) escaped += c;
  }
  std::printf("\"config\":\"%s\"}\n", escaped.c_str());
  return 0;
}
