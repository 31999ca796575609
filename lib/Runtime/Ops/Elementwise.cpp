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
} // namespace

Kernel dinfer::interp::selectElementwiseKernel(Operation *op) {
  return llvm::TypeSwitch<Operation *, Kernel>(op)
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
          for (int64_t i = 0, n = x.numElements(); i < n; ++i)
            y.set(i, x.get(i));
          return llvm::Error::success();
        };
      })
      .Case([](nn::BiasAddOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto b = llvm::cast<nn::BiasAddOp>(op);

          const Buffer &x = self.in(b.getX()), &bias = self.in(b.getBias());
          Buffer &y = self.define(b.getResult());
          int64_t channel = b.getDataFormat() == "NHWC" ? x.shape.size() - 1 : 1;
          int64_t inner = product(llvm::ArrayRef<int64_t>(x.shape).drop_front(channel + 1)), C = x.shape[channel];
          for (int64_t i = 0, n = x.numElements(); i < n; ++i)
            y.set(i, x.get(i) + bias.get((i / inner) % C));
          return llvm::Error::success();
        };
      })
      .Default([](Operation *) -> Kernel { return nullptr; });
}
