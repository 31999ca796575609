//===- CryptoTest.cpp - MindSpore's encrypted block stream ----------------===//

#include "dinfer/Formats/Crypto.h"
#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/MindIR.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

using namespace dinfer;

namespace {

CipherKey makeKey(CipherMode mode, size_t bytes, uint8_t seed = 1) {
  CipherKey key;
  key.mode = mode;
  for (size_t i = 0; i < bytes; ++i)
    key.bytes.push_back(static_cast<uint8_t>(seed * 31 + i * 7));
  return key;
}

std::string randomBytes(size_t n, unsigned seed) {
  std::mt19937 generator(seed);
  std::string out(n, '\0');
  for (char &c : out)
    c = static_cast<char>(generator());
  return out;
}

TEST(Crypto, RoundTripsEveryModeKeySizeAndBlockSplit) {
  struct Case {
    CipherMode mode;
    size_t keyBytes;
  };
  int cases = 0;
  for (Case c : {Case{CipherMode::AesGcm, 16}, Case{CipherMode::AesGcm, 24}, Case{CipherMode::AesGcm, 32},
                 Case{CipherMode::AesCbc, 16}, Case{CipherMode::AesCbc, 24}, Case{CipherMode::AesCbc, 32},
                 Case{CipherMode::Sm4Cbc, 16}})
    for (size_t size : {size_t(0), size_t(1), size_t(15), size_t(16), size_t(17), size_t(1000)})
      for (size_t block : {size_t(7), size_t(16), size_t(64) << 20}) {
        SCOPED_TRACE(std::string(cipherModeName(c.mode)) + " key " + std::to_string(c.keyBytes) + " size " +
                     std::to_string(size) + " block " + std::to_string(block));
        CipherKey key = makeKey(c.mode, c.keyBytes);
        std::string plain = randomBytes(size, static_cast<unsigned>(size));
        auto cipher = encrypt(plain, key, block);
        ASSERT_TRUE(static_cast<bool>(cipher)) << llvm::toString(cipher.takeError());
        if (size > 0)
          EXPECT_EQ(encryptedMode(*cipher), c.mode);
        auto back = decrypt(*cipher, key, "f");
        ASSERT_TRUE(static_cast<bool>(back)) << llvm::toString(back.takeError());
        EXPECT_EQ(*back, plain);
        ++cases;
      }
  EXPECT_EQ(cases, 126);
}

TEST(Crypto, AWrongKeyOrModeIsAnErrorNotGarbage) {
  std::string plain = randomBytes(4000, 7);
  CipherKey key = makeKey(CipherMode::AesGcm, 16), other = makeKey(CipherMode::AesGcm, 16, 2);
  auto cipher = encrypt(plain, key, 1000);
  ASSERT_TRUE(static_cast<bool>(cipher));
  auto wrong = decrypt(*cipher, other, "model.mindir");
  ASSERT_FALSE(static_cast<bool>(wrong));
  EXPECT_EQ(llvm::toString(wrong.takeError()),
            "model.mindir: cannot decrypt with this AES-GCM key: the key is wrong or the file was changed (the "
            "authentication tag does not match)");

  CipherKey cbc = makeKey(CipherMode::AesCbc, 16);
  auto wrongMode = decrypt(*cipher, cbc, "model.mindir");
  ASSERT_FALSE(static_cast<bool>(wrongMode));
  EXPECT_EQ(llvm::toString(wrongMode.takeError()),
            "model.mindir: the file is encrypted with AES-GCM, not AES-CBC: pass --key-mode AES-GCM");

  // One flipped ciphertext bit, then a truncation: both caught.
  std::string flipped = *cipher;
  flipped[flipped.size() - 3] ^= 1;
  EXPECT_FALSE(static_cast<bool>(decrypt(flipped, key, "f")));
  llvm::consumeError(decrypt(flipped, key, "f").takeError());
  auto truncated = decrypt(llvm::StringRef(*cipher).drop_back(10), key, "f");
  ASSERT_FALSE(static_cast<bool>(truncated));
  EXPECT_NE(llvm::toString(truncated.takeError()).find("the file ends inside the block"), std::string::npos);

  // CBC has no tag: a wrong key fails the padding check or yields other bytes, never the plaintext.
  auto cbcCipher = encrypt(plain, cbc);
  ASSERT_TRUE(static_cast<bool>(cbcCipher));
  auto cbcWrong = decrypt(*cbcCipher, makeKey(CipherMode::AesCbc, 16, 3), "f");
  if (cbcWrong)
    EXPECT_NE(*cbcWrong, plain);
  else
    llvm::consumeError(cbcWrong.takeError());
}

TEST(Crypto, KeysHaveTheirModesLengths) {
  EXPECT_FALSE(static_cast<bool>(checkKey(makeKey(CipherMode::AesGcm, 16))));
  llvm::Error sm4 = checkKey(makeKey(CipherMode::Sm4Cbc, 32));
  ASSERT_TRUE(static_cast<bool>(sm4));
  EXPECT_EQ(llvm::toString(std::move(sm4)), "a SM4-CBC key has 16 bytes, not 32");
  llvm::Error aes = checkKey(makeKey(CipherMode::AesCbc, 20));
  ASSERT_TRUE(static_cast<bool>(aes));
  EXPECT_EQ(llvm::toString(std::move(aes)), "a AES-CBC key has 16, 24 or 32 bytes, not 20");
}

TEST(Crypto, EncryptedCheckpointRoundTrip) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("dinfer-crypto", dir));
  CipherKey key = makeKey(CipherMode::Sm4Cbc, 16);
  std::string path = (dir + "/w.ckpt").str();
  CheckpointWriter::Options options;
  options.encryptWith = key;
  options.sync = false;
  auto writer = CheckpointWriter::create(path, options);
  ASSERT_TRUE(static_cast<bool>(writer));
  std::vector<float> values = {1, 2, 3, 4, 5, 6};
  ASSERT_FALSE(static_cast<bool>(
      (*writer)->add("w", "Float32", {2, 3}, llvm::ArrayRef<char>(reinterpret_cast<const char *>(values.data()), 24))));
  ASSERT_FALSE(static_cast<bool>((*writer)->finish()));

  auto withoutKey = Checkpoint::open(path, nullptr);
  ASSERT_FALSE(static_cast<bool>(withoutKey));
  EXPECT_EQ(llvm::toString(withoutKey.takeError()),
            path + ": the checkpoint is encrypted (SM4-CBC): give its key with --key-file (or DINFER_KEY_FILE)");
  auto checkpoint = Checkpoint::open(path, &key);
  ASSERT_TRUE(static_cast<bool>(checkpoint)) << llvm::toString(checkpoint.takeError());
  ASSERT_EQ(checkpoint->tensors().size(), 1u);
  std::vector<float> back(6);
  ASSERT_FALSE(static_cast<bool>(checkpoint->read(
      checkpoint->tensors()[0], 0, llvm::MutableArrayRef<char>(reinterpret_cast<char *>(back.data()), 24))));
  EXPECT_EQ(back, values);

  // A checkpoint is encrypted or carries a CRC, not both.
  options.crc = true;
  EXPECT_FALSE(static_cast<bool>(CheckpointWriter::create((dir + "/c.ckpt").str(), options)));
  llvm::consumeError(CheckpointWriter::create((dir + "/c.ckpt").str(), options).takeError());
  llvm::sys::fs::remove_directories(dir);
}

// MindSpore's own test file: an Add graph encrypted with AES-GCM under the
// ASCII key "0123456789ABCDEF" by a writer that used 12 of the 16 IV bytes.
TEST(Crypto, DecryptsMindSporesEncryptedSample) {
  std::string path = std::string(DINFER_SAMPLES_DIR) + "/add_encrpty.mindir";
  CipherKey key;
  std::string ascii = "0123456789ABCDEF";
  key.bytes.assign(ascii.begin(), ascii.end());
  auto model = MindIRModel::open(path, &key);
  ASSERT_TRUE(static_cast<bool>(model)) << llvm::toString(model.takeError());
  EXPECT_EQ(model->producerVersion(), "1.7.0");
  EXPECT_TRUE(model->loaderProblems().empty());
  bool hasAdd = false;
  for (const auto &node : model->mainGraph().nodes)
    hasAdd |= llvm::StringRef(node.opType).contains("Add");
  EXPECT_TRUE(hasAdd);

  key.bytes.back() ^= 1;
  auto wrong = MindIRModel::open(path, &key);
  ASSERT_FALSE(static_cast<bool>(wrong));
  EXPECT_NE(llvm::toString(wrong.takeError()).find("the key is wrong"), std::string::npos);
}

} // namespace
