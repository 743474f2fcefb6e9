// Every tensor op the TypeScript side can call, by name, with positional
// arguments. Each entry only unpacks arguments and calls ATen: shapes and
// dtypes are checked by ATen itself (its messages reach JS unchanged) and,
// for the common mistakes, earlier in TypeScript.
#include <c10/core/GradMode.h>

#include <cmath>
#include <functional>
#include <unordered_map>

#include "table.h"

namespace fm {

namespace {

using Args = std::vector<Arg>;
using Tensors = std::vector<at::Tensor>;
using OpFn = std::function<Tensors(const Args&)>;

const Arg& at_(const Args& a, size_t i) {
  if (i >= a.size()) throw EngineError("expected at least " + std::to_string(i + 1) + " arguments");
  return a[i];
}

at::Tensor T(const Args& a, size_t i) {
  const Arg& x = at_(a, i);
  if (x.kind != Arg::Tensor) throw EngineError("argument " + std::to_string(i) + " must be a tensor");
  return getTensor(x.i);
}

// An optional tensor: null/undefined give an undefined tensor.
at::Tensor OT(const Args& a, size_t i) {
  if (i >= a.size() || a[i].kind == Arg::None) return at::Tensor();
  return T(a, i);
}

int64_t I(const Args& a, size_t i) {
  const Arg& x = at_(a, i);
  if (x.kind == Arg::Int) return x.i;
  if (x.kind == Arg::Double && std::floor(x.d) == x.d) return static_cast<int64_t>(x.d);
  if (x.kind == Arg::Bool) return x.b ? 1 : 0;
  throw EngineError("argument " + std::to_string(i) + " must be an integer");
}

double D(const Args& a, size_t i) {
  const Arg& x = at_(a, i);
  if (x.kind == Arg::Double) return x.d;
  if (x.kind == Arg::Int) return static_cast<double>(x.i);
  throw EngineError("argument " + std::to_string(i) + " must be a number");
}

bool B(const Args& a, size_t i) {
  const Arg& x = at_(a, i);
  if (x.kind == Arg::Bool) return x.b;
  if (x.kind == Arg::Int) return x.i != 0;
  throw EngineError("argument " + std::to_string(i) + " must be a boolean");
}

std::string S(const Args& a, size_t i) {
  const Arg& x = at_(a, i);
  if (x.kind != Arg::String) throw EngineError("argument " + std::to_string(i) + " must be a string");
  return x.s;
}

std::vector<int64_t> IL(const Args& a, size_t i) {
  const Arg& x = at_(a, i);
  if (x.kind == Arg::IntList) return x.ints;
  if (x.kind == Arg::Int) return {x.i};
  throw EngineError("argument " + std::to_string(i) + " must be a list of integers");
}

bool isNone(const Args& a, size_t i) { return i >= a.size() || a[i].kind == Arg::None; }

Tensors TL(const Args& a, size_t i) {
  const Arg& x = at_(a, i);
  if (x.kind != Arg::TensorList) throw EngineError("argument " + std::to_string(i) + " must be a list of tensors");
  Tensors out;
  for (int64_t id : x.ints) out.push_back(getTensor(id));
  return out;
}

// A tensor or a plain number as the second operand of a binary op.
bool isScalar(const Args& a, size_t i) {
  const Arg& x = at_(a, i);
  return x.kind == Arg::Int || x.kind == Arg::Double || x.kind == Arg::Bool;
}
at::Scalar SC(const Args& a, size_t i) {
  const Arg& x = at_(a, i);
  if (x.kind == Arg::Int) return at::Scalar(x.i);
  if (x.kind == Arg::Bool) return at::Scalar(x.b);
  return at::Scalar(D(a, i));
}

at::TensorOptions dtypeOpt(const Args& a, size_t i, DType fallback = DType::Float32) {
  DType d = isNone(a, i) ? fallback : dtypeFromName(S(a, i));
  return at::TensorOptions().dtype(toScalarType(d));
}

c10::optional<at::IntArrayRef> optDims(const Args& a, size_t i, std::vector<int64_t>& store) {
  if (isNone(a, i)) return c10::nullopt;
  store = IL(a, i);
  return at::IntArrayRef(store);
}

Tensors one(const at::Tensor& t) { return {t}; }

#define BINARY(name, fn)                                                  \
  {name, [](const Args& a) {                                              \
     return isScalar(a, 1) ? one(fn(T(a, 0), SC(a, 1))) : one(fn(T(a, 0), T(a, 1))); \
   }}
#define UNARY(name, expr) \
  {name, [](const Args& a) { auto x = T(a, 0); return one(expr); }}

int64_t interpolationMode(const std::string& m) {
  if (m == "bilinear") return 0;
  if (m == "nearest") return 1;
  if (m == "bicubic") return 2;
  throw EngineError("unknown grid_sample mode '" + m + "' (expected bilinear, nearest or bicubic)");
}
int64_t paddingMode(const std::string& m) {
  if (m == "zeros") return 0;
  if (m == "border") return 1;
  if (m == "reflection") return 2;
  throw EngineError("unknown padding mode '" + m + "' (expected zeros, border or reflection)");
}
int64_t reduction(const Args& a, size_t i) {
  std::string r = isNone(a, i) ? "mean" : S(a, i);
  if (r == "none") return 0;
  if (r == "mean") return 1;
  if (r == "sum") return 2;
  throw EngineError("unknown reduction '" + r + "' (expected none, mean or sum)");
}

const std::unordered_map<std::string, OpFn>& registry() {
  static const std::unordered_map<std::string, OpFn> ops = {
      // ---- creation (random ones draw from the seeded global generator)
      {"zeros", [](const Args& a) { return one(at::zeros(IL(a, 0), dtypeOpt(a, 1))); }},
      {"ones", [](const Args& a) { return one(at::ones(IL(a, 0), dtypeOpt(a, 1))); }},
      {"full", [](const Args& a) { return one(at::full(IL(a, 0), SC(a, 1), dtypeOpt(a, 2))); }},
      {"arange", [](const Args& a) { return one(at::arange(SC(a, 0), SC(a, 1), SC(a, 2), dtypeOpt(a, 3))); }},
      {"linspace", [](const Args& a) { return one(at::linspace(SC(a, 0), SC(a, 1), I(a, 2), dtypeOpt(a, 3))); }},
      {"eye", [](const Args& a) { return one(at::eye(I(a, 0), dtypeOpt(a, 1))); }},
      {"rand", [](const Args& a) { return one(at::rand(IL(a, 0), dtypeOpt(a, 1))); }},
      {"randn", [](const Args& a) { return one(at::randn(IL(a, 0), dtypeOpt(a, 1))); }},
      {"randint", [](const Args& a) { return one(at::randint(I(a, 0), I(a, 1), IL(a, 2), dtypeOpt(a, 3, DType::Int64))); }},
      {"randperm", [](const Args& a) { return one(at::randperm(I(a, 0), dtypeOpt(a, 1, DType::Int64))); }},

      // ---- shape
      {"reshape", [](const Args& a) { return one(T(a, 0).reshape(IL(a, 1))); }},
      {"permute", [](const Args& a) { return one(T(a, 0).permute(IL(a, 1))); }},
      {"transpose", [](const Args& a) { return one(T(a, 0).transpose(I(a, 1), I(a, 2))); }},
      {"narrow", [](const Args& a) { return one(T(a, 0).narrow(I(a, 1), I(a, 2), I(a, 3))); }},
      {"slice", [](const Args& a) {
         c10::optional<int64_t> start = isNone(a, 2) ? c10::nullopt : c10::optional<int64_t>(I(a, 2));
         c10::optional<int64_t> end = isNone(a, 3) ? c10::nullopt : c10::optional<int64_t>(I(a, 3));
         return one(T(a, 0).slice(I(a, 1), start, end, isNone(a, 4) ? 1 : I(a, 4)));
       }},
      {"select", [](const Args& a) { return one(T(a, 0).select(I(a, 1), I(a, 2))); }},
      {"squeeze", [](const Args& a) { return one(isNone(a, 1) ? T(a, 0).squeeze() : T(a, 0).squeeze(I(a, 1))); }},
      {"unsqueeze", [](const Args& a) { return one(T(a, 0).unsqueeze(I(a, 1))); }},
      {"flatten", [](const Args& a) { return one(T(a, 0).flatten(I(a, 1), I(a, 2))); }},
      {"expand", [](const Args& a) { return one(T(a, 0).expand(IL(a, 1))); }},
      {"repeat", [](const Args& a) { return one(T(a, 0).repeat(IL(a, 1))); }},
      {"flip", [](const Args& a) { return one(T(a, 0).flip(IL(a, 1))); }},
      {"roll", [](const Args& a) { return one(T(a, 0).roll(IL(a, 1), IL(a, 2))); }},
      {"cat", [](const Args& a) { return one(at::cat(TL(a, 0), I(a, 1))); }},
      {"stack", [](const Args& a) { return one(at::stack(TL(a, 0), I(a, 1))); }},
      {"index_select", [](const Args& a) { return one(T(a, 0).index_select(I(a, 1), T(a, 2))); }},
      {"gather", [](const Args& a) { return one(T(a, 0).gather(I(a, 1), T(a, 2))); }},
      {"scatter", [](const Args& a) { return one(T(a, 0).scatter(I(a, 1), T(a, 2), T(a, 3))); }},
      {"scatter_add", [](const Args& a) { return one(T(a, 0).scatter_add(I(a, 1), T(a, 2), T(a, 3))); }},
      {"where", [](const Args& a) {
         auto c = T(a, 0);
         if (isScalar(a, 1) && isScalar(a, 2)) return one(at::where(c, SC(a, 1), SC(a, 2)));
         if (isScalar(a, 1)) return one(at::where(c, SC(a, 1), T(a, 2)));
         if (isScalar(a, 2)) return one(at::where(c, T(a, 1), SC(a, 2)));
         return one(at::where(c, T(a, 1), T(a, 2)));
       }},
      {"masked_fill", [](const Args& a) { return one(T(a, 0).masked_fill(T(a, 1), SC(a, 2))); }},
      {"masked_select", [](const Args& a) { return one(T(a, 0).masked_select(T(a, 1))); }},
      {"nonzero", [](const Args& a) { return one(T(a, 0).nonzero()); }},
      {"pad", [](const Args& a) {
         std::string mode = isNone(a, 2) ? "constant" : S(a, 2);
         auto x = T(a, 0);
         auto pads = IL(a, 1);
         if (mode == "constant") return one(at::constant_pad_nd(x, pads, isNone(a, 3) ? at::Scalar(0) : SC(a, 3)));
         if (mode == "reflect") return one(at::reflection_pad2d(x, pads));
         if (mode == "replicate") return one(at::replication_pad2d(x, pads));
         throw EngineError("unknown pad mode '" + mode + "' (expected constant, reflect or replicate)");
       }},
      {"contiguous", [](const Args& a) { return one(T(a, 0).contiguous()); }},
      {"clone", [](const Args& a) { return one(T(a, 0).clone()); }},
      {"detach", [](const Args& a) { return one(T(a, 0).detach()); }},
      {"to", [](const Args& a) { return one(T(a, 0).to(toScalarType(dtypeFromName(S(a, 1))))); }},

      // ---- element-wise
      BINARY("add", at::add), BINARY("sub", at::sub), BINARY("mul", at::mul), BINARY("div", at::div),
      BINARY("pow", at::pow), BINARY("remainder", at::remainder), BINARY("eq", at::eq),
      BINARY("ne", at::ne), BINARY("lt", at::lt), BINARY("le", at::le), BINARY("gt", at::gt),
      BINARY("ge", at::ge),
      {"maximum", [](const Args& a) { return one(at::maximum(T(a, 0), T(a, 1))); }},
      {"minimum", [](const Args& a) { return one(at::minimum(T(a, 0), T(a, 1))); }},
      {"atan2", [](const Args& a) { return one(at::atan2(T(a, 0), T(a, 1))); }},
      {"logical_and", [](const Args& a) { return one(at::logical_and(T(a, 0), T(a, 1))); }},
      {"logical_or", [](const Args& a) { return one(at::logical_or(T(a, 0), T(a, 1))); }},
      {"lerp", [](const Args& a) { return one(at::lerp(T(a, 0), T(a, 1), SC(a, 2))); }},
      UNARY("neg", x.neg()), UNARY("abs", x.abs()), UNARY("exp", x.exp()), UNARY("log", x.log()),
      UNARY("log1p", x.log1p()), UNARY("sqrt", x.sqrt()), UNARY("rsqrt", x.rsqrt()),
      UNARY("sin", x.sin()), UNARY("cos", x.cos()), UNARY("tanh", x.tanh()),
      UNARY("floor", x.floor()), UNARY("ceil", x.ceil()), UNARY("round", x.round()),
      UNARY("sign", x.sign()), UNARY("reciprocal", x.reciprocal()), UNARY("square", x.square()),
      UNARY("logical_not", x.logical_not()), UNARY("isnan", x.isnan()), UNARY("isfinite", x.isfinite()),
      UNARY("erf", x.erf()),
      {"clamp", [](const Args& a) {
         c10::optional<at::Scalar> lo = isNone(a, 1) ? c10::nullopt : c10::optional<at::Scalar>(SC(a, 1));
         c10::optional<at::Scalar> hi = isNone(a, 2) ? c10::nullopt : c10::optional<at::Scalar>(SC(a, 2));
         return one(at::clamp(T(a, 0), lo, hi));
       }},

      // ---- activations and normalisation of vectors
      UNARY("relu", at::relu(x)), UNARY("sigmoid", at::sigmoid(x)), UNARY("gelu", at::gelu(x)),
      {"leaky_relu", [](const Args& a) { return one(at::leaky_relu(T(a, 0), isNone(a, 1) ? 0.01 : D(a, 1))); }},
      {"elu", [](const Args& a) { return one(at::elu(T(a, 0), isNone(a, 1) ? 1.0 : D(a, 1))); }},
      {"softmax", [](const Args& a) { return one(at::softmax(T(a, 0), I(a, 1))); }},
      {"log_softmax", [](const Args& a) { return one(at::log_softmax(T(a, 0), I(a, 1))); }},
      {"normalize", [](const Args& a) {
         // Same as torch.nn.functional.normalize: x / max(||x||_p, eps).
         auto x = T(a, 0);
         double p = isNone(a, 1) ? 2.0 : D(a, 1);
         int64_t dim = isNone(a, 2) ? 1 : I(a, 2);
         double eps = isNone(a, 3) ? 1e-12 : D(a, 3);
         return one(x / x.norm(p, dim, true).clamp_min(eps).expand_as(x));
       }},

      // ---- reductions
      {"sum", [](const Args& a) {
         std::vector<int64_t> d;
         auto dims = optDims(a, 1, d);
         return one(dims ? T(a, 0).sum(*dims, !isNone(a, 2) && B(a, 2)) : T(a, 0).sum());
       }},
      {"mean", [](const Args& a) {
         std::vector<int64_t> d;
         auto dims = optDims(a, 1, d);
         return one(dims ? T(a, 0).mean(*dims, !isNone(a, 2) && B(a, 2)) : T(a, 0).mean());
       }},
      {"amax", [](const Args& a) {
         std::vector<int64_t> d;
         auto dims = optDims(a, 1, d);
         return one(dims ? T(a, 0).amax(*dims, !isNone(a, 2) && B(a, 2)) : T(a, 0).max());
       }},
      {"amin", [](const Args& a) {
         std::vector<int64_t> d;
         auto dims = optDims(a, 1, d);
         return one(dims ? T(a, 0).amin(*dims, !isNone(a, 2) && B(a, 2)) : T(a, 0).min());
       }},
      {"max_dim", [](const Args& a) {
         auto r = T(a, 0).max(I(a, 1), !isNone(a, 2) && B(a, 2));
         return Tensors{std::get<0>(r), std::get<1>(r)};
       }},
      {"min_dim", [](const Args& a) {
         auto r = T(a, 0).min(I(a, 1), !isNone(a, 2) && B(a, 2));
         return Tensors{std::get<0>(r), std::get<1>(r)};
       }},
      {"argmax", [](const Args& a) {
         c10::optional<int64_t> dim = isNone(a, 1) ? c10::nullopt : c10::optional<int64_t>(I(a, 1));
         return one(T(a, 0).argmax(dim, !isNone(a, 2) && B(a, 2)));
       }},
      {"argmin", [](const Args& a) {
         c10::optional<int64_t> dim = isNone(a, 1) ? c10::nullopt : c10::optional<int64_t>(I(a, 1));
         return one(T(a, 0).argmin(dim, !isNone(a, 2) && B(a, 2)));
       }},
      {"topk", [](const Args& a) {
         auto r = T(a, 0).topk(I(a, 1), isNone(a, 2) ? -1 : I(a, 2), isNone(a, 3) || B(a, 3), true);
         return Tensors{std::get<0>(r), std::get<1>(r)};
       }},
      {"sort", [](const Args& a) {
         auto r = T(a, 0).sort(isNone(a, 1) ? -1 : I(a, 1), !isNone(a, 2) && B(a, 2));
         return Tensors{std::get<0>(r), std::get<1>(r)};
       }},
      {"logsumexp", [](const Args& a) { return one(T(a, 0).logsumexp(IL(a, 1), !isNone(a, 2) && B(a, 2))); }},
      {"std", [](const Args& a) {
         std::vector<int64_t> d;
         auto dims = optDims(a, 1, d);
         bool unbiased = isNone(a, 2) || B(a, 2);
         return one(dims ? T(a, 0).std(*dims, unbiased, !isNone(a, 3) && B(a, 3)) : T(a, 0).std(unbiased));
       }},
      {"var", [](const Args& a) {
         std::vector<int64_t> d;
         auto dims = optDims(a, 1, d);
         bool unbiased = isNone(a, 2) || B(a, 2);
         return one(dims ? T(a, 0).var(*dims, unbiased, !isNone(a, 3) && B(a, 3)) : T(a, 0).var(unbiased));
       }},
      {"norm", [](const Args& a) {
         std::vector<int64_t> d;
         auto dims = optDims(a, 2, d);
         at::Scalar p = isNone(a, 1) ? at::Scalar(2.0) : SC(a, 1);
         return one(dims ? T(a, 0).norm(p, *dims, !isNone(a, 3) && B(a, 3)) : T(a, 0).norm(p));
       }},
      {"cumsum", [](const Args& a) { return one(T(a, 0).cumsum(I(a, 1))); }},
      {"all", [](const Args& a) { return one(T(a, 0).all()); }},
      {"any", [](const Args& a) { return one(T(a, 0).any()); }},

      // ---- linear algebra
      {"matmul", [](const Args& a) { return one(at::matmul(T(a, 0), T(a, 1))); }},
      {"mm", [](const Args& a) { return one(at::mm(T(a, 0), T(a, 1))); }},
      {"bmm", [](const Args& a) { return one(at::bmm(T(a, 0), T(a, 1))); }},
      {"einsum", [](const Args& a) { return one(at::einsum(S(a, 0), TL(a, 1))); }},
      {"linear", [](const Args& a) { return one(at::linear(T(a, 0), T(a, 1), OT(a, 2))); }},

      // ---- convolution, pooling, resampling
      {"conv2d", [](const Args& a) {
         return one(at::conv2d(T(a, 0), T(a, 1), OT(a, 2), IL(a, 3), IL(a, 4), IL(a, 5), I(a, 6)));
       }},
      {"conv_transpose2d", [](const Args& a) {
         return one(at::conv_transpose2d(T(a, 0), T(a, 1), OT(a, 2), IL(a, 3), IL(a, 4), IL(a, 5), I(a, 6), IL(a, 7)));
       }},
      {"max_pool2d", [](const Args& a) {
         return one(at::max_pool2d(T(a, 0), IL(a, 1), IL(a, 2), IL(a, 3), IL(a, 4), B(a, 5)));
       }},
      {"avg_pool2d", [](const Args& a) {
         return one(at::avg_pool2d(T(a, 0), IL(a, 1), IL(a, 2), IL(a, 3), B(a, 4), B(a, 5)));
       }},
      {"adaptive_avg_pool2d", [](const Args& a) { return one(at::adaptive_avg_pool2d(T(a, 0), IL(a, 1))); }},
      {"interpolate", [](const Args& a) {
         // (x, [outH, outW], mode, alignCorners)
         auto x = T(a, 0);
         auto size = IL(a, 1);
         std::string mode = S(a, 2);
         if (mode == "bilinear") return one(at::upsample_bilinear2d(x, size, B(a, 3)));
         if (mode == "bicubic") return one(at::upsample_bicubic2d(x, size, B(a, 3)));
         if (mode == "nearest") return one(at::upsample_nearest2d(x, size));
         throw EngineError("unknown interpolation mode '" + mode + "' (expected bilinear, bicubic or nearest)");
       }},
      {"affine_grid", [](const Args& a) { return one(at::affine_grid_generator(T(a, 0), IL(a, 1), B(a, 2))); }},
      {"grid_sample", [](const Args& a) {
         return one(at::grid_sampler(T(a, 0), T(a, 1), interpolationMode(S(a, 2)), paddingMode(S(a, 3)), B(a, 4)));
       }},

      // ---- normalisation layers
      {"batch_norm", [](const Args& a) {
         // (x, weight?, bias?, runningMean?, runningVar?, training, momentum, eps)
         return one(at::batch_norm(T(a, 0), OT(a, 1), OT(a, 2), OT(a, 3), OT(a, 4), B(a, 5), D(a, 6), D(a, 7), false));
       }},
      {"instance_norm", [](const Args& a) {
         return one(at::instance_norm(T(a, 0), OT(a, 1), OT(a, 2), at::Tensor(), at::Tensor(), true, 0.1, D(a, 3), false));
       }},
      {"group_norm", [](const Args& a) { return one(at::group_norm(T(a, 0), I(a, 1), OT(a, 2), OT(a, 3), D(a, 4), false)); }},
      {"layer_norm", [](const Args& a) { return one(at::layer_norm(T(a, 0), IL(a, 1), OT(a, 2), OT(a, 3), D(a, 4), false)); }},
      {"dropout", [](const Args& a) { return one(at::dropout(T(a, 0), D(a, 1), B(a, 2))); }},

      // ---- losses
      {"cross_entropy", [](const Args& a) {
         return one(at::cross_entropy_loss(T(a, 0), T(a, 1), OT(a, 2), reduction(a, 3), -100, 0.0));
       }},
      {"mse_loss", [](const Args& a) { return one(at::mse_loss(T(a, 0), T(a, 1), reduction(a, 2))); }},
      {"l1_loss", [](const Args& a) { return one(at::l1_loss(T(a, 0), T(a, 1), reduction(a, 2))); }},
      {"smooth_l1_loss", [](const Args& a) {
         return one(at::smooth_l1_loss(T(a, 0), T(a, 1), reduction(a, 2), isNone(a, 3) ? 1.0 : D(a, 3)));
       }},
      {"bce_with_logits", [](const Args& a) {
         return one(at::binary_cross_entropy_with_logits(T(a, 0), T(a, 1), OT(a, 2), OT(a, 3), reduction(a, 4)));
       }},

      // ---- in place (no outputs: the caller's handle sees the change)
      {"copy_", [](const Args& a) { at::NoGradGuard g; T(a, 0).copy_(T(a, 1)); return Tensors{}; }},
      {"fill_", [](const Args& a) { at::NoGradGuard g; T(a, 0).fill_(SC(a, 1)); return Tensors{}; }},
      {"requires_grad_", [](const Args& a) { T(a, 0).requires_grad_(B(a, 1)); return Tensors{}; }},

      // ---- autograd
      {"backward", [](const Args& a) {
         auto t = T(a, 0);
         t.backward(OT(a, 1), isNone(a, 2) ? c10::optional<bool>() : c10::optional<bool>(B(a, 2)));
         return Tensors{};
       }},
      {"grad", [](const Args& a) {
         auto g = T(a, 0).grad();
         return g.defined() ? one(g) : Tensors{};
       }},
      {"zero_grad", [](const Args& a) {
         auto t = T(a, 0);
         if (t.grad().defined()) t.mutable_grad().reset();
         return Tensors{};
       }},
      {"requires_grad", [](const Args& a) { return one(at::scalar_tensor(T(a, 0).requires_grad(), at::kBool)); }},

      // ---- optimiser steps, in place on parameter and state
      {"adam_step", [](const Args& a) {
         // (param, expAvg, expAvgSq, step, lr, beta1, beta2, eps, weightDecay, decoupled)
         at::NoGradGuard guard;
         auto p = T(a, 0);
         auto g = p.grad();
         if (!g.defined()) return Tensors{};
         auto m = T(a, 1), v = T(a, 2);
         double step = D(a, 3), lr = D(a, 4), b1 = D(a, 5), b2 = D(a, 6), eps = D(a, 7), wd = D(a, 8);
         if (wd != 0) {
           if (B(a, 9)) p.mul_(1 - lr * wd);
           else g = g.add(p, wd);
         }
         m.mul_(b1).add_(g, 1 - b1);
         v.mul_(b2).addcmul_(g, g, 1 - b2);
         double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
         auto denom = (v.sqrt() / std::sqrt(bc2)).add_(eps);
         p.addcdiv_(m, denom, -lr / bc1);
         return Tensors{};
       }},
      {"sgd_step", [](const Args& a) {
         // (param, momentumBuffer?, lr, momentum, weightDecay)
         at::NoGradGuard guard;
         auto p = T(a, 0);
         auto g = p.grad();
         if (!g.defined()) return Tensors{};
         double lr = D(a, 2), mom = D(a, 3), wd = D(a, 4);
         if (wd != 0) g = g.add(p, wd);
         auto buf = OT(a, 1);
         if (buf.defined() && mom != 0) {
           buf.mul_(mom).add_(g);
           g = buf;
         }
         p.add_(g, -lr);
         return Tensors{};
       }},
  };
  return ops;
}

}  // namespace

std::vector<TensorInfo> runOp(const std::string& name, const std::vector<Arg>& args) {
  const auto& ops = registry();
  auto it = ops.find(name);
  if (it == ops.end()) throw EngineError("unknown op '" + name + "'");
  Tensors outs;
  try {
    outs = it->second(args);
  } catch (const c10::Error& e) {
    // Keep ATen's message, drop its C++ backtrace.
    throw EngineError(e.what_without_backtrace());
  }
  std::vector<TensorInfo> infos;
  infos.reserve(outs.size());
  for (const auto& t : outs) infos.push_back(registerTensor(t));
  return infos;
}

std::vector<std::string> opNames() {
  std::vector<std::string> names;
  for (const auto& kv : registry()) names.push_back(kv.first);
  return names;
}

}  // namespace fm
