//===- depthwise_conv.cpp - depthwise convolutions against oneDNN ---------===//
//
// The depthwise convolutions of MobileNetV2/V3 and EfficientNet-B0 (their
// shapes at 224x224, channels-last, bias and SiLU fused) on dinfer's own
// kernel and on oneDNN's (the kernel the runtime used before), side by side
// in one run, and each against the memory limit: the time to stream the
// same bytes in and out (the input once, the output once) with memcpy.
// Prints per shape the time of each, oneDNN's time over ours, and the
// geometric mean and worst case.
//
//   dinfer-bench-depthwise [--threads N] [--runs N] [--activation silu|relu6|none]
//
//===----------------------------------------------------------------------===//

#include "dinfer/Runtime/Interpreter.h"
#include "dinfer/Runtime/Kernels.h"

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace {

struct Shape {
  const char *model;
  int64_t channels, size, kernel, stride;
};

// The depthwise layers of the zoo's convolutional networks (channels,
// input size, kernel, stride; padding kernel / 2).
const Shape kShapes[] = {
    {"efficientnet_b0", 32, 112, 3, 1},  {"efficientnet_b0", 96, 112, 3, 2},  {"efficientnet_b0", 144, 56, 3, 1},
    {"efficientnet_b0", 144, 56, 5, 2},  {"efficientnet_b0", 240, 28, 5, 1},  {"efficientnet_b0", 240, 28, 3, 2},
    {"efficientnet_b0", 480, 14, 3, 1},  {"efficientnet_b0", 480, 14, 5, 1},  {"efficientnet_b0", 672, 14, 5, 1},
    {"efficientnet_b0", 672, 14, 5, 2},  {"efficientnet_b0", 1152, 7, 5, 1}, {"efficientnet_b0", 1152, 7, 3, 1},
    {"mobilenet_v2", 384, 14, 3, 1},     {"mobilenet_v2", 576, 14, 3, 2},     {"mobilenet_v2", 960, 7, 3, 1},
    {"mobilenet_v3_large", 72, 56, 3, 1}, {"mobilenet_v3_large", 72, 56, 5, 2}, {"mobilenet_v3_large", 120, 28, 5, 1},
    {"mobilenet_v3_large", 200, 14, 3, 1}, {"mobilenet_v3_large", 184, 14, 3, 1}, {"mobilenet_v3_large", 960, 7, 5, 1},
};

double medianMs(int runs, const std::function<void()> &body) {
  body(); // warm: caches, packing, primitive creation
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    auto begin = std::chrono::steady_clock::now();
    body();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  int threads = 1, runs = 200;
  std::string activation = "silu";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--activation"))
      activation = argv[i + 1];
    else if (!std::strcmp(argv[i], "--runs"))
      runs = std::atoi(argv[i + 1]);
  }
  dinfer::setKernelThreads(threads);
  using dnnl::memory;
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  std::printf("%-20s %5s %4s %2s %2s  %9s %9s %9s  %10s %10s\n", "model", "C", "HW", "k", "s", "dinfer ms",
              "oneDNN ms", "memcpy ms", "oneDNN/us", "limit/us");
  double logSum = 0, worst = 1e9, logLimit = 0, worstLimit = 1e9;
  int count = 0;
  for (const Shape &s : kShapes) {
    int64_t pad = s.kernel / 2, out = (s.size + 2 * pad - s.kernel) / s.stride + 1;
    std::vector<float> x(s.channels * s.size * s.size), w(s.channels * s.kernel * s.kernel), bias(s.channels),
        y(s.channels * out * out), filters(w.size()), copy(std::max(x.size(), y.size()));
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = std::sin(0.01f * i);
    for (size_t i = 0; i < w.size(); ++i)
      w[i] = std::cos(0.1f * i);
    int64_t taps = s.kernel * s.kernel;
    for (int64_t c = 0; c < s.channels; ++c)
      for (int64_t t = 0; t < taps; ++t)
        filters[t * s.channels + c] = w[c * taps + t];
    dinfer::kernels::Conv2DParams p{{s.stride, s.stride}, {1, 1}, {pad, pad}, {pad, pad}, s.channels};
    p.bias = bias.data();
    if (activation == "silu") {
      p.activation = dinfer::kernels::Conv2DParams::Activation::SiLU;
    } else if (activation == "relu6") {
      p.activation = dinfer::kernels::Conv2DParams::Activation::Clip;
      p.beta = 6.0f;
    }
    double ours = medianMs(runs, [&] {
      dinfer::kernels::depthwiseConv2dChannelsLast(x.data(), {1, s.channels, s.size, s.size}, filters.data(), s.kernel,
                                                   s.kernel, y.data(), {1, s.channels, out, out}, p);
    });
    memory::desc src({1, s.channels, s.size, s.size}, memory::data_type::f32, memory::format_tag::nhwc),
        weights({s.channels, 1, 1, s.kernel, s.kernel}, memory::data_type::f32, memory::format_tag::any),
        plainWeights({s.channels, 1, 1, s.kernel, s.kernel}, memory::data_type::f32, memory::format_tag::goihw),
        biasDesc({s.channels}, memory::data_type::f32, memory::format_tag::x),
        dst({1, s.channels, out, out}, memory::data_type::f32, memory::format_tag::nhwc);
    dnnl::post_ops ops;
    if (activation == "silu")
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.0f, 0);
    else if (activation == "relu6")
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, 0.0f, 6.0f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    dnnl::convolution_forward::primitive_desc pd(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src,
                                        weights, biasDesc, dst, {s.stride, s.stride}, {0, 0}, {pad, pad}, {pad, pad}),
        attr, engine);
    memory packed(pd.weights_desc(), engine), given(plainWeights, engine, w.data());
    dnnl::reorder(given, packed).execute(stream, given, packed);
    dnnl::convolution_forward conv(pd);
    memory xm(pd.src_desc(), engine, x.data()), ym(pd.dst_desc(), engine, y.data()),
        bm(biasDesc, engine, bias.data());
    double theirs = medianMs(runs, [&] {
      conv.execute(stream, {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, packed}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, ym}});
      stream.wait();
    });
    // The bytes a memory-bound kernel must move: read x, write y.
    double limit = medianMs(runs, [&] {
      std::memcpy(copy.data(), x.data(), x.size() * sizeof(float));
      std::memcpy(y.data(), copy.data(), y.size() * sizeof(float));
    }) / 2;
    std::printf("%-20s %5ld %4ld %2ld %2ld  %9.4f %9.4f %9.4f  %10.2f %10.2f\n", s.model, (long)s.channels,
                (long)s.size, (long)s.kernel, (long)s.stride, ours, theirs, limit, theirs / ours, limit / ours);
    logSum += std::log(theirs / ours);
    worst = std::min(worst, theirs / ours);
    logLimit += std::log(limit / ours);
    worstLimit = std::min(worstLimit, limit / ours);
    ++count;
  }
  std::printf("speed over oneDNN: geometric mean %.2fx, worst %.2fx (threads %d)\n", std::exp(logSum / count), worst,
              threads);
  std::printf("memcpy time over ours (1.0 = at memory speed): geometric mean %.2f, worst %.2f\n",
              std::exp(logLimit / count), worstLimit);
  return 0;
}
