//===- Wire.cpp - protobuf wire format over a ByteSource ------------------===//

#include "Wire.h"

using namespace dinfer;
using namespace dinfer::wire;

namespace {
// Headers are tiny and payloads are skipped, so a small window reads least.
constexpr uint64_t kWindow = 4 * 1024;
}

llvm::Error Reader::fill(uint64_t begin, uint64_t size) {
  if (begin >= windowBegin_ && begin + size <= windowBegin_ + window_.size())
    return llvm::Error::success();
  uint64_t want = std::max(size, kWindow);
  want = std::min(want, source_.size() - std::min(begin, source_.size()));
  if (want < size)
    return fileError(source_.name(), "truncated: " + llvm::Twine(size) + " bytes needed at offset " +
                                         llvm::Twine(begin) + ", the file has " + llvm::Twine(source_.size()));
  window_.resize(want);
  windowBegin_ = begin;
  return source_.readAt(begin, window_);
}

llvm::Expected<uint64_t> Reader::varint(uint64_t &pos, uint64_t end) {
  uint64_t available = std::min<uint64_t>(10, end - std::min(pos, end));
  if (available == 0)
    return fileError(source_.name(), "truncated varint at offset " + llvm::Twine(pos));
  if (llvm::Error err = fill(pos, available))
    return std::move(err);
  const char *p = window_.data() + (pos - windowBegin_);
  uint64_t value = 0;
  for (uint64_t i = 0; i < available; ++i) {
    uint8_t byte = static_cast<uint8_t>(p[i]);
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if (!(byte & 0x80)) {
      pos += i + 1;
      return value;
    }
  }
  return fileError(source_.name(), "malformed or truncated varint at offset " + llvm::Twine(pos));
}

llvm::Expected<Field> Reader::next(uint64_t &pos, uint64_t end) {
  Field field;
  field.begin = pos;
  auto key = varint(pos, end);
  if (!key)
    return key.takeError();
  field.number = static_cast<uint32_t>(*key >> 3);
  field.type = static_cast<WireType>(*key & 7);
  if (field.number == 0 || (*key >> 3) > 0x1fffffff)
    return fileError(source_.name(), "invalid field number " + llvm::Twine(*key >> 3) + " at offset " +
                                         llvm::Twine(field.begin));
  switch (field.type) {
  case Varint: {
    auto value = varint(pos, end);
    if (!value)
      return value.takeError();
    field.varint = *value;
    return field;
  }
  case Fixed64:
  case Fixed32: {
    uint64_t width = field.type == Fixed64 ? 8 : 4;
    if (end - pos < width)
      return fileError(source_.name(), "truncated fixed-width field at offset " + llvm::Twine(field.begin));
    pos += width;
    return field;
  }
  case Len: {
    auto size = varint(pos, end);
    if (!size)
      return size.takeError();
    if (*size > end - pos)
      return fileError(source_.name(), "field " + llvm::Twine(field.number) + " at offset " +
                                           llvm::Twine(field.begin) + " claims " + llvm::Twine(*size) +
                                           " bytes, but only " + llvm::Twine(end - pos) + " remain");
    field.payloadBegin = pos;
    field.payloadSize = *size;
    pos += *size;
    return field;
  }
  default:
    return fileError(source_.name(), "unsupported wire type " + llvm::Twine(static_cast<int>(field.type)) +
                                         " at offset " + llvm::Twine(field.begin));
  }
}

llvm::Expected<llvm::StringRef> Reader::bytes(uint64_t begin, uint64_t size, uint64_t limit, llvm::StringRef what) {
  if (size > limit)
    return fileError(source_.name(), what + " at offset " + llvm::Twine(begin) + " is " + llvm::Twine(size) +
                                         " bytes, more than the " + llvm::Twine(limit) + " allowed");
  if (llvm::Error err = fill(begin, size))
    return std::move(err);
  return llvm::StringRef(window_.data() + (begin - windowBegin_), size);
}
