//===- Elementwise.cpp - unary and binary arithmetic, select, cast ----------===//

#include "../InterpreterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace dinfer;
using namespace dinfer::interp;

namespace {
double gelu(double x, bool tanhForm) {
  if (tanhForm)
    return 0.5 * x * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
}
// Elementwise functions without a vectorised kernel, in double precision.
double logOf(double x) { return std::log(x); }
double floorOf(double x) { return std::floor(x); }
double ceilOf(double x) { return std::ceil(x); }
double roundOf(double x) { return std::nearbyint(x); } // halves to even, as numpy and ONNX
double sinOf(double x) { return std::sin(x); }
double cosOf(double x) { return std::cos(x); }
double tanOf(double x) { return std::tan(x); }
double asinOf(double x) { return std::asin(x); }
double acosOf(double x) { return std::acos(x); }
double atanOf(double x) { return std::atan(x); }
double sinhOf(double x) { return std::sinh(x); }
double coshOf(double x) { return std::cosh(x); }
double asinhOf(double x) { return std::asinh(x); }
double acoshOf(double x) { return std::acosh(x); }
double atanhOf(double x) { return std::atanh(x); }
double reciprocalOf(double x) { return 1 / x; }
double signOf(double x) { return static_cast<double>((x > 0) - (x < 0)); }
double softplusOf(double x) { return x > 30 ? x : std::log1p(std::exp(x)); }
double softsignOf(double x) { return x / (1 + std::abs(x)); }
double mishOf(double x) { return x * std::tanh(softplusOf(x)); }
double hswishOf(double x) { return x * std::min(std::max(x + 3, 0.0), 6.0) / 6; }
double notOf(double x) { return x == 0; }
double isNanOf(double x) { return std::isnan(x); }
double isInfOf(double x) { return std::isinf(x); }

double maximumOf(double a, double b, bool) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); }
double minimumOf(double a, double b, bool) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); }
double floorModOf(double a, double b, bool integral) {
  if (integral) {
    if (b == 0)
      return 0;
    double r = std::fmod(a, b);
    return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
  }
  double r = std::fmod(a, b);
  return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
}
double modOf(double a, double b, bool integral) { return integral && b == 0 ? 0 : std::fmod(a, b); }
double equalOf(double a, double b, bool) { return a == b; }
double notEqualOf(double a, double b, bool) { return a != b; }
double lessOf(double a, double b, bool) { return a < b; }
double lessEqualOf(double a, double b, bool) { return a <= b; }
double greaterOf(double a, double b, bool) { return a > b; }
double greaterEqualOf(double a, double b, bool) { return a >= b; }
double andOf(double a, double b, bool) { return a != 0 && b != 0; }
double orOf(double a, double b, bool) { return a != 0 || b != 0; }

template <double (*F)(double)>
Kernel unaryKernel() {
  return [](Interpreter &self, Operation *op) -> llvm::Error {
    self.unary(op, F);
    return llvm::Error::success();
  };
}

template <double (*F)(double, double, bool)>
Kernel binaryKernel() {
  return [](Interpreter &self, Operation *op) -> llvm::Error {
    self.binary(op, F);
    return llvm::Error::success();
  };
}

/// The same with a vectorised float32 kernel.
template <double (*F)(double, double, bool), kernels::Binary fast>
Kernel fastBinaryKernel() {
  return [](Interpreter &self, Operation *op) -> llvm::Error {
    self.binary(op, F, fast);
    return llvm::Error::success();
  };
}
} // namespace

Kernel dinfer::interp::selectElementwiseKernel(Operation *op) {
  return llvm::TypeSwitch<Operation *, Kernel>(op)
      .Case([](nn::LogOp) { return unaryKernel<logOf>(); })
      .Case([](nn::FloorOp) { return unaryKernel<floorOf>(); })
      .Case([](nn::CeilOp) { return unaryKernel<ceilOf>(); })
      .Case([](nn::RoundOp) { return unaryKernel<roundOf>(); })
      .Case([](nn::SinOp) { return unaryKernel<sinOf>(); })
      .Case([](nn::CosOp) { return unaryKernel<cosOf>(); })
      .Case([](nn::TanOp) { return unaryKernel<tanOf>(); })
      .Case([](nn::AsinOp) { return unaryKernel<asinOf>(); })
      .Case([](nn::AcosOp) { return unaryKernel<acosOf>(); })
      .Case([](nn::AtanOp) { return unaryKernel<atanOf>(); })
      .Case([](nn::SinhOp) { return unaryKernel<sinhOf>(); })
      .Case([](nn::CoshOp) { return unaryKernel<coshOf>(); })
      .Case([](nn::AsinhOp) { return unaryKernel<asinhOf>(); })
      .Case([](nn::AcoshOp) { return unaryKernel<acoshOf>(); })
      .Case([](nn::AtanhOp) { return unaryKernel<atanhOf>(); })
      .Case([](nn::ReciprocalOp) { return unaryKernel<reciprocalOf>(); })
      .Case([](nn::SignOp) { return unaryKernel<signOf>(); })
      .Case([](nn::SoftplusOp) { return unaryKernel<softplusOf>(); })
      .Case([](nn::SoftsignOp) { return unaryKernel<softsignOf>(); })
      .Case([](nn::MishOp) { return unaryKernel<mishOf>(); })
      .Case([](nn::HSwishOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.unary(op, hswishOf, kernels::Unary::HSwish), llvm::Error::success();
        };
      })
      .Case([](nn::LogicalNotOp) { return unaryKernel<notOf>(); })
      .Case([](nn::IsNanOp) { return unaryKernel<isNanOf>(); })
      .Case([](nn::IsInfOp) { return unaryKernel<isInfOf>(); })
      .Case([](nn::MaximumOp) { return fastBinaryKernel<maximumOf, kernels::Binary::Max>(); })
      .Case([](nn::MinimumOp) { return fastBinaryKernel<minimumOf, kernels::Binary::Min>(); })
      .Case([](nn::FloorModOp) { return binaryKernel<floorModOf>(); })
      .Case([](nn::ModOp) { return binaryKernel<modOf>(); })
      .Case([](nn::EqualOp) { return binaryKernel<equalOf>(); })
      .Case([](nn::NotEqualOp) { return binaryKernel<notEqualOf>(); })
      .Case([](nn::LessOp) { return binaryKernel<lessOf>(); })
      .Case([](nn::LessEqualOp) { return binaryKernel<lessEqualOf>(); })
      .Case([](nn::GreaterOp) { return binaryKernel<greaterOf>(); })
      .Case([](nn::GreaterEqualOp) { return binaryKernel<greaterEqualOf>(); })
      .Case([](nn::LogicalAndOp) { return binaryKernel<andOf>(); })
      .Case([](nn::LogicalOrOp) { return binaryKernel<orOf>(); })
      .Case([](nn::SqrtOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.unary(
                     op, [](double x) { return std::sqrt(x); }, kernels::Unary::Sqrt),
                 llvm::Error::success();
        };
      })
      .Case([](nn::NegOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.unary(
                     op, [](double x) { return -x; }, kernels::Unary::Neg),
                 llvm::Error::success();
        };
      })
      .Case([](nn::ExpOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.unary(
                     op, [](double x) { return std::exp(x); }, kernels::Unary::Exp),
                 llvm::Error::success();
        };
      })
      .Case([](nn::ErfOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.unary(
                     op, [](double x) { return std::erf(x); }, kernels::Unary::Erf),
                 llvm::Error::success();
        };
      })
      .Case([](nn::TanhOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.unary(
                     op, [](double x) { return std::tanh(x); }, kernels::Unary::Tanh),
                 llvm::Error::success();
        };
      })
      .Case([](nn::SigmoidOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.unary(
                     op, [](double x) { return 1 / (1 + std::exp(-x)); }, kernels::Unary::Sigmoid),
                 llvm::Error::success();
        };
      })
      .Case([](nn::ReLUOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.unary(
                     op, [](double x) { return x > 0 ? x : 0.0; }, kernels::Unary::ReLU),
                 llvm::Error::success();
        };
      })
      .Case([](nn::SiLUOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.unary(
                     op, [](double x) { return x / (1 + std::exp(-x)); }, kernels::Unary::SiLU),
                 llvm::Error::success();
        };
      })
      .Case([](nn::FastGeLUOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.unary(
                     op,
                     [](double x) {
                       return x / (1 + std::exp(-1.702 * std::abs(x))) * std::exp(0.851 * (x - std::abs(x)));
                     },
                     kernels::Unary::FastGeLU),
                 llvm::Error::success();
        };
      })
      .Case([](nn::GeLUOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto g = llvm::cast<nn::GeLUOp>(op);

          bool tanhForm = g.getApproximate() == "tanh";
          return self.unary(
                     op, [&](double x) { return gelu(x, tanhForm); },
                     tanhForm ? kernels::Unary::GeLUTanh : kernels::Unary::GeLU),
                 llvm::Error::success();
        };
      })
      .Case([](nn::AddOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.binary(
                     op, [](double a, double b, bool) { return a + b; }, kernels::Binary::Add),
                 llvm::Error::success();
        };
      })
      .Case([](nn::SubOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.binary(
                     op, [](double a, double b, bool) { return a - b; }, kernels::Binary::Sub),
                 llvm::Error::success();
        };
      })
      .Case([](nn::MulOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.binary(
                     op, [](double a, double b, bool) { return a * b; }, kernels::Binary::Mul),
                 llvm::Error::success();
        };
      })
      .Case([](nn::DivOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          self.binary(
              op, [](double a, double b, bool integral) { return integral ? (b == 0 ? 0 : std::trunc(a / b)) : a / b; },
              kernels::Binary::Div);
          return llvm::Error::success();
        };
      })
      .Case([](nn::PowOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          return self.binary(
                     op, [](double a, double b, bool) { return std::pow(a, b); }, kernels::Binary::Pow),
                 llvm::Error::success();
        };
      })
      .Case([](nn::BroadcastToOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          const Buffer &x = self.in(op->getOperand(0));
          Buffer &y = self.define(op->getResult(0));
          if (y.numElements() > 0 && x.numElements() > 0)
            kernels::broadcastTo(x.bytes(), x.shape, y.data.data(), y.shape, y.elementBytes());
          return llvm::Error::success();
        };
      })
      .Case([](nn::TileOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          const Buffer &x = self.in(op->getOperand(0));
          Buffer &y = self.define(op->getResult(0));
          size_t rank = y.shape.size();
          // Row-major strides of x, and the running index of y.
          llvm::SmallVector<int64_t, 6> strides(rank, 1), index(rank, 0);
          for (size_t d = rank; d-- > 1;)
            strides[d - 1] = strides[d] * x.shape[d];
          for (int64_t i = 0, n = y.numElements(); i < n; ++i) {
            int64_t source = 0;
            for (size_t d = 0; d < rank; ++d)
              source += (index[d] % x.shape[d]) * strides[d];
            y.set(i, x.get(source));
            for (size_t d = rank; d-- > 0;) {
              if (++index[d] < y.shape[d])
                break;
              index[d] = 0;
            }
          }
          return llvm::Error::success();
        };
      })
      .Case([](nn::SelectOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto s = llvm::cast<nn::SelectOp>(op);

          const Buffer &c = self.in(s.getCond()), &x = self.in(s.getX()), &y = self.in(s.getY());
          Buffer &z = self.define(s.getResult());
          BroadcastIndex ic(c.shape, z.shape), ix(x.shape, z.shape), iy(y.shape, z.shape);
          for (int64_t i = 0, n = z.numElements(); i < n; ++i)
            z.set(i, c.get(ic(i)) != 0 ? x.get(ix(i)) : y.get(iy(i)));
          return llvm::Error::success();
        };
      })
      .Case([](nn::CastOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto c = llvm::cast<nn::CastOp>(op);

          const Buffer &x = self.in(c.getX());
          if (!runtimeDType(c.getDtype()))
            return opError(op, "cast to an unsupported type");
          Buffer &y = self.define(c.getResult());
          // Between float types (the widened float16 programs' inputs and
          // weights): one vectorized pass.
          if (isFloatingPoint(x.dtype) && isFloatingPoint(y.dtype)) {
            convertFloats(x.dtype, y.dtype, x.bytes(), y.data.data(), x.numElements());
            return llvm::Error::success();
          }
          for (int64_t i = 0, n = x.numElements(); i < n; ++i)
            y.set(i, x.get(i));
          return llvm::Error::success();
        };
      })
      .Case([](nn::BiasAddOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto b = llvm::cast<nn::BiasAddOp>(op);

          const Buffer &any = self.inAnyLayout(b.getX()), &bias = self.in(b.getBias());
          if (any.channelsLast && b.getDataFormat() != "NHWC" && any.dtype == DType::Float32 &&
              bias.dtype == DType::Float32 && any.numElements() > 0) {
            // Channels last already: the bias runs along the last bytes.
            llvm::SmallVector<int64_t, 4> stored{any.shape[0], any.shape[2], any.shape[3], any.shape[1]};
            const float *a = any.as<float>(), *c = bias.as<float>();
            Buffer &y = self.defineInPlaceOf(b.getResult(), b.getX());
            kernels::binaryBroadcast(kernels::Binary::Add, a, stored, c, {any.shape[1]}, y.as<float>(), stored);
            y.channelsLast = true;
            return llvm::Error::success();
          }
          const Buffer &x = self.in(b.getX());
          int64_t channel = b.getDataFormat() == "NHWC" ? x.shape.size() - 1 : 1;
          if (x.dtype == DType::Float32 && bias.dtype == DType::Float32 && x.numElements() > 0) {
            // The bias as [C, 1, ..., 1]: one run of the inner dimensions per channel.
            llvm::SmallVector<int64_t, 6> biasShape(x.shape.size() - channel, 1);
            biasShape[0] = x.shape[channel];
            const float *a = x.as<float>(), *c = bias.as<float>();
            Buffer &y = self.defineInPlaceOf(b.getResult(), b.getX());
            kernels::binaryBroadcast(kernels::Binary::Add, a, x.shape, c, biasShape, y.as<float>(), x.shape);
            return llvm::Error::success();
          }
          Buffer &y = self.define(b.getResult());
          int64_t inner = product(llvm::ArrayRef<int64_t>(x.shape).drop_front(channel + 1)), C = x.shape[channel];
          for (int64_t i = 0, n = x.numElements(); i < n; ++i)
            y.set(i, x.get(i) + bias.get((i / inner) % C));
          return llvm::Error::success();
        };
      })
      .Default([](Operation *) -> Kernel { return nullptr; });
}
