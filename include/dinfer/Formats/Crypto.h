//===- Crypto.h - MindSpore's encrypted checkpoints and MindIR --*- C++ -*-===//
//
// MindSpore encrypts a serialized checkpoint or MindIR as a stream of blocks
// (at most 64 MiB of plaintext each), every integer little-endian int32:
//
//   magic            0x7F3A5ED8 AES-GCM, 0x7F3A5ED9 AES-CBC, 0x7F3A5EDA SM4-CBC
//   tag              16 bytes, AES-GCM only
//   block_len        4 + iv_len + 4 + cipher_len
//   iv_len, iv       16, 16 random bytes
//   cipher_len, ciphertext
//
// AES takes 16, 24 or 32 key bytes, SM4 16; CBC pads as PKCS#7; GCM has no
// associated data. Writers before MindSpore set GCM's IV length used only the
// first 12 IV bytes (OpenSSL's default): the reader tries the 16-byte IV and
// then the 12-byte one, each checked by the tag, so a wrong key is an error
// and never garbage. Everything goes through OpenSSL's EVP API.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_FORMATS_CRYPTO_H
#define DINFER_FORMATS_CRYPTO_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dinfer {

enum class CipherMode { AesGcm, AesCbc, Sm4Cbc };

llvm::StringRef cipherModeName(CipherMode mode); ///< "AES-GCM", "AES-CBC", "SM4-CBC"
std::optional<CipherMode> parseCipherMode(llvm::StringRef name);

struct CipherKey {
  std::vector<uint8_t> bytes;
  CipherMode mode = CipherMode::AesGcm;
};

/// Checks that `key` suits its mode (AES: 16, 24 or 32 bytes; SM4: 16).
llvm::Error checkKey(const CipherKey &key);
/// A key file holds the raw key bytes (docs/contracts.md section 9).
llvm::Expected<CipherKey> readKeyFile(llvm::StringRef path, CipherMode mode);

/// The mode whose magic starts `bytes`, if any.
std::optional<CipherMode> encryptedMode(llvm::StringRef bytes);

/// MindSpore's block stream for `plain`, with random IVs, `blockBytes` of
/// plaintext per block (MindSpore's 64 MiB unless a test asks for less).
llvm::Expected<std::string> encrypt(llvm::StringRef plain, const CipherKey &key, size_t blockBytes = size_t(64) << 20);
/// The plaintext of a block stream (of its first `maxBlocks` blocks: enough
/// to tell what a file holds); errors name `fileName` and say whether the key
/// or mode is wrong or the file is damaged.
llvm::Expected<std::string> decrypt(llvm::StringRef cipher, const CipherKey &key, llvm::StringRef fileName,
                                    size_t maxBlocks = SIZE_MAX);

/// The key commands use for encrypted inputs and outputs: set once by the
/// driver from --key-file/--key-mode or DINFER_KEY_FILE; null when none.
const CipherKey *processKey();
void setProcessKey(std::optional<CipherKey> key);

} // namespace dinfer

#endif // DINFER_FORMATS_CRYPTO_H
