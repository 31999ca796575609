//===- NpyTest.cpp - .npy against numpy's own bytes -----------------------===//

#include "dinfer/Formats/Npy.h"

#include "gtest/gtest.h"

#include <cstring>

using namespace dinfer;

namespace {

NpyArray floats(std::vector<int64_t> shape, std::vector<float> values) {
  NpyArray array;
  array.dtype = DType::Float32;
  array.shape.assign(shape.begin(), shape.end());
  array.data.resize(values.size() * 4);
  std::memcpy(array.data.data(), values.data(), array.data.size());
  return array;
}

TEST(Npy, SerializesAsNumpySaves) {
  // numpy.save of np.arange(6, dtype=np.float32).reshape(2, 3): a 128-byte file.
  std::string bytes = llvm::cantFail(serializeNpy(floats({2, 3}, {0, 1, 2, 3, 4, 5})));
  ASSERT_EQ(bytes.size(), 128u + 24);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(bytes.substr(10, 60), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } ");
  EXPECT_EQ(bytes[127], '\n');
  // One dimension keeps numpy's trailing comma; a scalar has ().
  EXPECT_NE(llvm::cantFail(serializeNpy(floats({4}, {1, 2, 3, 4}))).find("'shape': (4,)"), std::string::npos);
  EXPECT_NE(llvm::cantFail(serializeNpy(floats({}, {1}))).find("'shape': ()"), std::string::npos);
}

TEST(Npy, RoundTrip) {
  for (DType type : {DType::Bool, DType::Int8, DType::UInt8, DType::Int32, DType::Int64, DType::Float16,
                     DType::Float32, DType::Float64}) {
    NpyArray array;
    array.dtype = type;
    array.shape = {3, 2};
    array.data.resize(6 * dtypeBits(type) / 8, '\x01');
    auto back = llvm::cantFail(parseNpy(llvm::cantFail(serializeNpy(array)), "x.npy"));
    EXPECT_EQ(back.dtype, type);
    EXPECT_EQ(back.shape, array.shape);
    EXPECT_EQ(back.data, array.data);
  }
}

TEST(Npy, ReadsVersionTwoHeaders) {
  std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }";
  header.append((64 - (12 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string bytes = std::string("\x93NUMPY\x02\x00", 8);
  uint32_t length = header.size();
  bytes.append(reinterpret_cast<char *>(&length), 4);
  bytes += header;
  bytes.append(16, '\0');
  auto array = llvm::cantFail(parseNpy(bytes, "v2.npy"));
  EXPECT_EQ(array.dtype, DType::Int64);
  EXPECT_EQ(array.numElements(), 2);
}

std::string errorOf(const std::string &bytes) {
  auto array = parseNpy(bytes, "bad.npy");
  return array ? "" : llvm::toString(array.takeError());
}

TEST(Npy, BadInput) {
  std::string good = llvm::cantFail(serializeNpy(floats({2, 3}, {0, 1, 2, 3, 4, 5})));
  EXPECT_EQ(errorOf("hello"), "bad.npy: not a .npy file (no \\x93NUMPY magic)");
  EXPECT_EQ(errorOf(good.substr(0, good.size() - 4)),
            "bad.npy: 20 bytes of data, but shape (2, 3) of <f4 needs 24");
  std::string fortran = good;
  fortran.replace(fortran.find("False"), 5, "True ");
  EXPECT_EQ(errorOf(fortran), "bad.npy: Fortran-order arrays are not supported; save with numpy.ascontiguousarray");
  std::string big = good;
  big.replace(big.find("<f4"), 3, ">f4");
  EXPECT_EQ(errorOf(big), "bad.npy: dtype '>f4' is not supported (little-endian bool, int, uint and float only)");
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_NE(errorOf(good.substr(0, n)), "") << n;
}

} // namespace
