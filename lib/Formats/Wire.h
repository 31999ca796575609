//===- Wire.h - protobuf wire format over a ByteSource (internal) ---------===//
//
// Just enough of the protobuf wire format to walk messages whose payloads may
// be gigabytes: fields are read through a small window, and a length-delimited
// payload can be skipped without reading it. Every read is bounds-checked
// against the enclosing message, so corrupt input is an error, never a crash.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_LIB_FORMATS_WIRE_H
#define DINFER_LIB_FORMATS_WIRE_H

#include "dinfer/Formats/ByteSource.h"

#include <vector>

namespace dinfer::wire {

enum WireType : uint8_t { Varint = 0, Fixed64 = 1, Len = 2, StartGroup = 3, EndGroup = 4, Fixed32 = 5 };

struct Field {
  uint32_t number = 0;
  WireType type = Varint;
  uint64_t varint = 0;       ///< The value of a Varint field.
  uint64_t payloadBegin = 0; ///< Where a Len field's payload starts.
  uint64_t payloadSize = 0;  ///< Its length.
  uint64_t begin = 0;        ///< Where the field's key starts.
};

class Reader {
public:
  explicit Reader(const ByteSource &source) : source_(source) {}

  /// Reads the field at `pos` (inside a message ending at `end`) and moves
  /// `pos` past it; Len payloads are not read.
  llvm::Expected<Field> next(uint64_t &pos, uint64_t end);
  /// The bytes [begin, begin + size); at most `limit` of them.
  llvm::Expected<llvm::StringRef> bytes(uint64_t begin, uint64_t size, uint64_t limit, llvm::StringRef what);
  llvm::Expected<uint64_t> varint(uint64_t &pos, uint64_t end);

  const ByteSource &source() const { return source_; }

private:
  llvm::Error fill(uint64_t begin, uint64_t size);

  const ByteSource &source_;
  std::vector<char> window_;
  uint64_t windowBegin_ = 0;
};

} // namespace dinfer::wire

#endif // DINFER_LIB_FORMATS_WIRE_H
