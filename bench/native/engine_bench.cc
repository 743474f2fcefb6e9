// The engine benchmark's work done in plain C++ on libtorch, with no
// binding in between: the same extractor network (see
// src/features/model.ts), the same Adam update, the same matmul. bench/engine
// compares fewmark's timings against these to measure the binding's cost.
//
// Usage: engine_bench REPS  -> prints JSON {train:[ms...], infer:[...], matmul:[...]}
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <malloc.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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

std::vector<at::Tensor> params;

at::Tensor param(at::Tensor t) {
  t.requires_grad_(true);
  params.push_back(t);
  return t;
}

Conv conv(int64_t cin, int64_t cout, int64_t k, bool bias) {
  double bound = 1.0 / std::sqrt(static_cast<double>(cin * k * k));
  Conv c;
  c.w = param(at::rand({cout, cin, k, k}) * (2 * bound) - bound);
  if (bias) c.b = param(at::rand({cout}) * (2 * bound) - bound);
  return c;
}

Norm norm(int64_t c) { return Norm{param(at::ones({c})), param(at::zeros({c})), at::zeros({c}), at::ones({c})}; }

DoubleConv doubleConv(int64_t cin, int64_t cout, int stride) {
  return DoubleConv{conv(cin, cout, 3, false), conv(cout, cout, 3, false), norm(cout), norm(cout), stride};
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
  Extractor() {
    std::vector<int64_t> w = {16, 32, 64, 128, 128};
    for (int i = 0; i < 5; ++i) enc.push_back(doubleConv(i == 0 ? 1 : w[i - 1], w[i], 2));
    int order[4] = {3, 2, 1, 0};
    for (int k = 0; k < 4; ++k) {
      int i = order[k];
      dec.push_back(doubleConv((k == 0 ? w[4] : w[i + 1]) + w[i], w[i], 1));
    }
    for (int64_t c : {w[4], w[3], w[2], w[1], w[0]}) heads.push_back(conv(c, 32, 1, true));
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

double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void printList(const char* name, const std::vector<double>& v, bool last) {
  std::printf("\"%s\":[", name);
  for (size_t i = 0; i < v.size(); ++i) std::printf(i ? ",%.3f" : "%.3f", v[i]);
  std::printf("]%s", last ? "" : ",");
}

}  // namespace

int main(int argc, char** argv) {
  int reps = argc > 1 ? std::atoi(argv[1]) : 10;
  int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  at::set_num_threads(threads);
  // Same allocator settings as the addon (native/src/tensors.cc).
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  at::manual_seed(0);
  Extractor net;
  AdamState adam;
  for (auto& p : params) {
    adam.m.push_back(at::zeros_like(p));
    adam.v.push_back(at::zeros_like(p));
  }
  auto x = at::randn({4, 1, 256, 256});
  auto xi = at::randn({1, 1, 384, 384});
  auto a = at::randn({128, 128});
  auto b = at::randn({128, 16384});
  std::vector<double> train, infer, mm;
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
    if (r >= 2) train.push_back(t);
  }
  for (int r = 0; r < reps + 2; ++r) {
    at::NoGradGuard guard;
    auto t0 = std::chrono::steady_clock::now();
    auto outs = net.forward(xi, false);
    double t = msSince(t0);
    if (r >= 2) infer.push_back(t);
  }
  for (int r = 0; r < reps * 5 + 2; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    auto c = at::matmul(a, b);
    double t = msSince(t0);
    if (r >= 2) mm.push_back(t);
  }
  std::printf("{");
  printList("train", train, false);
  printList("infer", infer, false);
  printList("matmul", mm, true);
  std::printf("}\n");
  return 0;
}
