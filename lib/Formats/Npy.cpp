//===- Npy.cpp - numpy .npy arrays ----------------------------------------===//

#include "dinfer/Formats/Npy.h"

#include "dinfer/Formats/ByteSource.h"
#include "dinfer/Formats/FileUtils.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstring>

using namespace dinfer;
using llvm::StringRef;

namespace {
constexpr char kMagic[] = "\x93NUMPY";

/// numpy's descr for a dtype ("<f4"); none for types numpy lacks.
std::optional<StringRef> descrOf(DType type) {
  switch (type) {
  case DType::Bool: return StringRef("|b1");
  case DType::Int8: return StringRef("|i1");
  case DType::UInt8: return StringRef("|u1");
  case DType::Int16: return StringRef("<i2");
  case DType::UInt16: return StringRef("<u2");
  case DType::Int32: return StringRef("<i4");
  case DType::UInt32: return StringRef("<u4");
  case DType::Int64: return StringRef("<i8");
  case DType::UInt64: return StringRef("<u8");
  case DType::Float16: return StringRef("<f2");
  case DType::Float32: return StringRef("<f4");
  case DType::Float64: return StringRef("<f8");
  default: return std::nullopt;
  }
}

std::optional<DType> dtypeOfDescr(StringRef descr) {
  return llvm::StringSwitch<std::optional<DType>>(descr)
      .Cases({"|b1", "<b1", "b1"}, DType::Bool)
      .Cases({"|i1", "<i1", "i1"}, DType::Int8)
      .Cases({"|u1", "<u1", "u1"}, DType::UInt8)
      .Case("<i2", DType::Int16)
      .Case("<u2", DType::UInt16)
      .Case("<i4", DType::Int32)
      .Case("<u4", DType::UInt32)
      .Case("<i8", DType::Int64)
      .Case("<u8", DType::UInt64)
      .Case("<f2", DType::Float16)
      .Case("<f4", DType::Float32)
      .Case("<f8", DType::Float64)
      .Default(std::nullopt);
}

/// The value of `key` in numpy's header dict, up to the next top-level comma.
std::optional<StringRef> dictValue(StringRef header, StringRef key) {
  std::string quoted = "'" + key.str() + "'";
  size_t at = header.find(quoted);
  if (at == StringRef::npos)
    return std::nullopt;
  StringRef rest = header.drop_front(at + quoted.size()).ltrim();
  if (!rest.consume_front(":"))
    return std::nullopt;
  rest = rest.ltrim();
  if (rest.starts_with("(")) {
    size_t close = rest.find(')');
    return close == StringRef::npos ? std::nullopt : std::optional<StringRef>(rest.take_front(close + 1));
  }
  size_t end = rest.find_first_of(",}");
  return rest.take_front(end).trim();
}
} // namespace

int64_t NpyArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

llvm::Expected<NpyArray> dinfer::parseNpy(StringRef bytes, StringRef fileName) {
  if (!bytes.starts_with(StringRef(kMagic, 6)) || bytes.size() < 10)
    return fileError(fileName, "not a .npy file (no \\x93NUMPY magic)");
  uint8_t major = static_cast<uint8_t>(bytes[6]);
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = static_cast<uint8_t>(bytes[8]) | static_cast<uint8_t>(bytes[9]) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fileError(fileName, "truncated .npy header");
    headerLength = 0;
    for (int i = 3; i >= 0; --i)
      headerLength = headerLength << 8 | static_cast<uint8_t>(bytes[8 + i]);
    headerStart = 12;
  } else {
    return fileError(fileName, ".npy format version " + llvm::Twine(major) + " is not supported");
  }
  if (bytes.size() < headerStart + headerLength)
    return fileError(fileName, "truncated .npy header");
  StringRef header = bytes.substr(headerStart, headerLength);

  auto descr = dictValue(header, "descr");
  auto fortran = dictValue(header, "fortran_order");
  auto shapeText = dictValue(header, "shape");
  if (!descr || !fortran || !shapeText)
    return fileError(fileName, "malformed .npy header: " + header.trim());
  StringRef descrName = descr->trim("'\"");
  NpyArray array;
  auto dtype = dtypeOfDescr(descrName);
  if (!dtype)
    return fileError(fileName, "dtype '" + descrName + "' is not supported (little-endian bool, int, uint and float only)");
  array.dtype = *dtype;
  if (*fortran != "False")
    return fileError(fileName, "Fortran-order arrays are not supported; save with numpy.ascontiguousarray");
  StringRef dims = shapeText->trim("()");
  llvm::SmallVector<StringRef, 4> parts;
  dims.split(parts, ',', -1, /*KeepEmpty=*/false);
  int64_t count = 1;
  for (StringRef part : parts) {
    int64_t d;
    if (part.trim().getAsInteger(10, d) || d < 0 || __builtin_mul_overflow(count, d, &count))
      return fileError(fileName, "malformed shape " + *shapeText + " in the .npy header");
    array.shape.push_back(d);
  }
  uint64_t expected = static_cast<uint64_t>(count) * dtypeBits(*dtype) / 8;
  StringRef data = bytes.drop_front(headerStart + headerLength);
  if (data.size() != expected)
    return fileError(fileName, llvm::Twine(data.size()) + " bytes of data, but shape " + *shapeText + " of " +
                                   descrName + " needs " + llvm::Twine(expected));
  array.data.assign(data.begin(), data.end());
  return array;
}

llvm::Expected<NpyArray> dinfer::readNpy(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
  if (!buffer)
    return fileError(path, "cannot open: " + buffer.getError().message());
  return parseNpy((*buffer)->getBuffer(), path);
}

llvm::Expected<std::string> dinfer::serializeNpy(const NpyArray &array) {
  auto descr = descrOf(array.dtype);
  if (!descr)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "numpy has no dtype for " + dtypeName(array.dtype).str());
  std::string shape = "(";
  for (size_t i = 0; i < array.shape.size(); ++i)
    shape += (i ? ", " : "") + std::to_string(array.shape[i]);
  shape += array.shape.size() == 1 ? ",)" : ")";
  std::string header = "{'descr': '" + descr->str() + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(array.data.data(), array.data.size());
  return out;
}

llvm::Error dinfer::writeNpy(const NpyArray &array, StringRef path) {
  auto bytes = serializeNpy(array);
  if (!bytes)
    return fileError(path, llvm::toString(bytes.takeError()));
  return writeFileAtomically(path, *bytes);
}
