//===- Crypto.cpp - MindSpore's encrypted block stream, through EVP -------===//

#include "dinfer/Formats/Crypto.h"

#include "dinfer/Formats/ByteSource.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/MemoryBuffer.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

using namespace dinfer;

namespace {
constexpr uint32_t kGcmMagic = 0x7F3A5ED8, kCbcMagic = 0x7F3A5ED9, kSm4CbcMagic = 0x7F3A5EDA;
constexpr size_t kTagBytes = 16, kIvBytes = 16;
/// MindSpore's MAX_BLOCK_SIZE: plaintext per block.
constexpr size_t kMaxPlainBlock = size_t(64) << 20;

uint32_t magicOf(CipherMode mode) {
  switch (mode) {
  case CipherMode::AesGcm: return kGcmMagic;
  case CipherMode::AesCbc: return kCbcMagic;
  case CipherMode::Sm4Cbc: return kSm4CbcMagic;
  }
  return 0;
}

const EVP_CIPHER *cipherOf(const CipherKey &key) {
  switch (key.mode) {
  case CipherMode::AesGcm:
    return key.bytes.size() == 16 ? EVP_aes_128_gcm() : key.bytes.size() == 24 ? EVP_aes_192_gcm() : EVP_aes_256_gcm();
  case CipherMode::AesCbc:
    return key.bytes.size() == 16 ? EVP_aes_128_cbc() : key.bytes.size() == 24 ? EVP_aes_192_cbc() : EVP_aes_256_cbc();
  case CipherMode::Sm4Cbc: return EVP_sm4_cbc();
  }
  return nullptr;
}

void putInt(std::string &out, uint32_t value) {
  char bytes[4] = {char(value & 0xFF), char((value >> 8) & 0xFF), char((value >> 16) & 0xFF),
                   char((value >> 24) & 0xFF)};
  out.append(bytes, 4);
}

uint32_t getInt(const char *p) {
  const auto *u = reinterpret_cast<const unsigned char *>(p);
  return uint32_t(u[0]) | uint32_t(u[1]) << 8 | uint32_t(u[2]) << 16 | uint32_t(u[3]) << 24;
}

struct ContextDeleter {
  void operator()(EVP_CIPHER_CTX *ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using Context = std::unique_ptr<EVP_CIPHER_CTX, ContextDeleter>;

/// One block's cipher operation. `ivBytes` is how much of the IV GCM uses
/// (16 as MindSpore sets it, 12 as older writers left it); `tag` is written
/// when encrypting and checked when decrypting (GCM only).
bool runCipher(const CipherKey &key, bool encrypting, const unsigned char *iv, int ivBytes, llvm::StringRef in,
               std::string &out, unsigned char *tag) {
  Context ctx(EVP_CIPHER_CTX_new());
  if (!ctx)
    return false;
  const EVP_CIPHER *cipher = cipherOf(key);
  bool gcm = key.mode == CipherMode::AesGcm;
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr, encrypting ? 1 : 0) != 1)
    return false;
  if (gcm && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, ivBytes, nullptr) != 1)
    return false;
  if (EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.bytes.data(), iv, encrypting ? 1 : 0) != 1)
    return false;
  if (!gcm && EVP_CIPHER_CTX_set_padding(ctx.get(), 1) != 1)
    return false;
  out.resize(in.size() + 2 * EVP_MAX_BLOCK_LENGTH);
  int written = 0, final = 0;
  if (EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char *>(out.data()), &written,
                       reinterpret_cast<const unsigned char *>(in.data()), static_cast<int>(in.size())) != 1)
    return false;
  if (gcm && !encrypting && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) != 1)
    return false;
  if (EVP_CipherFinal_ex(ctx.get(), reinterpret_cast<unsigned char *>(out.data()) + written, &final) != 1)
    return false;
  if (gcm && encrypting && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) != 1)
    return false;
  out.resize(static_cast<size_t>(written + final));
  return true;
}

std::mutex &keyMutex() {
  static std::mutex mutex;
  return mutex;
}
std::optional<CipherKey> &keySlot() {
  static std::optional<CipherKey> key;
  return key;
}
} // namespace

llvm::StringRef dinfer::cipherModeName(CipherMode mode) {
  switch (mode) {
  case CipherMode::AesGcm: return "AES-GCM";
  case CipherMode::AesCbc: return "AES-CBC";
  case CipherMode::Sm4Cbc: return "SM4-CBC";
  }
  return "";
}

std::optional<CipherMode> dinfer::parseCipherMode(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<CipherMode>>(name)
      .Case("AES-GCM", CipherMode::AesGcm)
      .Case("AES-CBC", CipherMode::AesCbc)
      .Case("SM4-CBC", CipherMode::Sm4Cbc)
      .Default(std::nullopt);
}

llvm::Error dinfer::checkKey(const CipherKey &key) {
  size_t n = key.bytes.size();
  if (key.mode == CipherMode::Sm4Cbc ? n != 16 : (n != 16 && n != 24 && n != 32))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   llvm::Twine("a ") + cipherModeName(key.mode) + " key has " +
                                       (key.mode == CipherMode::Sm4Cbc ? "16" : "16, 24 or 32") + " bytes, not " +
                                       llvm::Twine(n));
  return llvm::Error::success();
}

llvm::Expected<CipherKey> dinfer::readKeyFile(llvm::StringRef path, CipherMode mode) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fileError(path, "cannot read the key file: " + buffer.getError().message());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  CipherKey key;
  key.mode = mode;
  key.bytes.assign(bytes.begin(), bytes.end());
  if (llvm::Error err = checkKey(key))
    return fileError(path, llvm::toString(std::move(err)) + " (the file holds the raw key bytes)");
  return key;
}

std::optional<CipherMode> dinfer::encryptedMode(llvm::StringRef bytes) {
  if (bytes.size() < 4)
    return std::nullopt;
  switch (getInt(bytes.data())) {
  case kGcmMagic: return CipherMode::AesGcm;
  case kCbcMagic: return CipherMode::AesCbc;
  case kSm4CbcMagic: return CipherMode::Sm4Cbc;
  default: return std::nullopt;
  }
}

llvm::Expected<std::string> dinfer::encrypt(llvm::StringRef plain, const CipherKey &key, size_t blockBytes) {
  if (llvm::Error err = checkKey(key))
    return std::move(err);
  std::string out;
  blockBytes = std::clamp<size_t>(blockBytes, 1, kMaxPlainBlock);
  out.reserve(plain.size() + (plain.size() / blockBytes + 1) * 64);
  // An empty plaintext is an empty file, as MindSpore writes it.
  for (size_t offset = 0; offset < plain.size();) {
    llvm::StringRef block = plain.substr(offset, blockBytes);
    unsigned char iv[kIvBytes], tag[kTagBytes] = {};
    if (RAND_bytes(iv, kIvBytes) != 1)
      return llvm::createStringError(llvm::inconvertibleErrorCode(), "OpenSSL could not draw a random IV");
    std::string cipher;
    if (!runCipher(key, /*encrypting=*/true, iv, kIvBytes, block, cipher, tag))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     llvm::Twine(cipherModeName(key.mode)) + " encryption failed in OpenSSL");
    putInt(out, magicOf(key.mode));
    if (key.mode == CipherMode::AesGcm)
      out.append(reinterpret_cast<const char *>(tag), kTagBytes);
    putInt(out, static_cast<uint32_t>(4 + kIvBytes + 4 + cipher.size()));
    putInt(out, kIvBytes);
    out.append(reinterpret_cast<const char *>(iv), kIvBytes);
    putInt(out, static_cast<uint32_t>(cipher.size()));
    out += cipher;
    offset += block.size();
  }
  return out;
}

llvm::Expected<std::string> dinfer::decrypt(llvm::StringRef cipher, const CipherKey &key, llvm::StringRef fileName,
                                            size_t maxBlocks) {
  if (llvm::Error err = checkKey(key))
    return fileError(fileName, llvm::toString(std::move(err)));
  std::string out;
  size_t offset = 0, block = 0;
  bool gcm = key.mode == CipherMode::AesGcm;
  while (offset < cipher.size() && block < maxBlocks) {
    auto at = [&](const llvm::Twine &what) {
      return fileError(fileName,
                       "encrypted block " + llvm::Twine(block) + " at offset " + llvm::Twine(offset) + ": " + what);
    };
    llvm::StringRef rest = cipher.substr(offset);
    std::optional<CipherMode> mode = encryptedMode(rest);
    if (!mode)
      return at("no block magic: the file is damaged or not encrypted");
    if (*mode != key.mode)
      return fileError(fileName, llvm::Twine("the file is encrypted with ") + cipherModeName(*mode) + ", not " +
                                     cipherModeName(key.mode) + ": pass --key-mode " + cipherModeName(*mode));
    size_t header = 4 + (gcm ? kTagBytes : 0) + 4;
    if (rest.size() < header + 4 + kIvBytes + 4)
      return at("the file ends inside the block header");
    const unsigned char *tag = reinterpret_cast<const unsigned char *>(rest.data() + 4);
    uint64_t blockLength = getInt(rest.data() + header - 4);
    uint32_t ivLength = getInt(rest.data() + header);
    if (ivLength != kIvBytes)
      return at("IV length " + llvm::Twine(ivLength) + ", not 16");
    const unsigned char *iv = reinterpret_cast<const unsigned char *>(rest.data() + header + 4);
    uint64_t cipherLength = getInt(rest.data() + header + 4 + kIvBytes);
    if (blockLength != 4 + kIvBytes + 4 + cipherLength || cipherLength == 0 ||
        cipherLength > kMaxPlainBlock + EVP_MAX_BLOCK_LENGTH)
      return at("block length " + llvm::Twine(blockLength) + " and cipher length " + llvm::Twine(cipherLength) +
                " disagree");
    if (rest.size() - header < blockLength)
      return at("the file ends inside the block (" + llvm::Twine(blockLength) + " bytes announced, " +
                llvm::Twine(rest.size() - header) + " left)");
    llvm::StringRef data = rest.substr(header + 4 + kIvBytes + 4, cipherLength);
    std::string plain;
    unsigned char tagCopy[kTagBytes];
    if (gcm)
      std::memcpy(tagCopy, tag, kTagBytes);
    bool ok = runCipher(key, /*encrypting=*/false, iv, kIvBytes, data, plain, tagCopy);
    if (!ok && gcm) {
      std::memcpy(tagCopy, tag, kTagBytes);
      ok = runCipher(key, /*encrypting=*/false, iv, 12, data, plain, tagCopy);
    }
    if (!ok)
      return fileError(fileName, llvm::Twine("cannot decrypt with this ") + cipherModeName(key.mode) +
                                     " key: the key is wrong or the file was changed" +
                                     (gcm ? " (the authentication tag does not match)" : " (bad padding)"));
    out += plain;
    offset += header + blockLength;
    ++block;
  }
  return out;
}

const CipherKey *dinfer::processKey() {
  std::lock_guard<std::mutex> lock(keyMutex());
  return keySlot() ? &*keySlot() : nullptr;
}

void dinfer::setProcessKey(std::optional<CipherKey> key) {
  std::lock_guard<std::mutex> lock(keyMutex());
  keySlot() = std::move(key);
}
