//===- Driver.cpp - command registry and dispatch of the dinfer driver ----===//
//
// Shared by the `dinfer` executable and the Python extension, which run the
// same subcommands with the same options: what one prints, writes or refuses,
// the other does too.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "dinfer/Version.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <string>
#include <utility>

using namespace llvm;

namespace {
SmallVector<std::pair<cl::SubCommand *, int (*)()>, 8> &registry() {
  static SmallVector<std::pair<cl::SubCommand *, int (*)()>, 8> commands;
  return commands;
}

// Keys (docs/contracts.md section 9): for every subcommand, never on the command line itself.
cl::opt<std::string> keyFileOption("key-file",
                                   cl::desc("File holding the raw key of encrypted checkpoints and MindIR (16, 24 or "
                                            "32 bytes; default: $DINFER_KEY_FILE)"),
                                   cl::value_desc("file"), cl::sub(cl::SubCommand::getAll()),
                                   cl::cat(dinfer::cli::category()));
cl::opt<std::string> keyModeOption("key-mode", cl::desc("AES-GCM (default), AES-CBC or SM4-CBC"),
                                   cl::value_desc("mode"), cl::init("AES-GCM"), cl::sub(cl::SubCommand::getAll()),
                                   cl::cat(dinfer::cli::category()));
cl::opt<bool> encryptOutputOption("encrypt-output",
                                  cl::desc("Encrypt the checkpoints and MindIR written, with the --key-file key"),
                                  cl::sub(cl::SubCommand::getAll()), cl::cat(dinfer::cli::category()));

} // namespace

cl::OptionCategory &dinfer::cli::category() {
  static cl::OptionCategory category("dinfer options");
  return category;
}

dinfer::cli::CommandRegistration::CommandRegistration(cl::SubCommand &command, int (*run)()) {
  registry().emplace_back(&command, run);
}

int dinfer::cli::usageError(const cl::SubCommand &command, const Twine &message) {
  errs() << "dinfer " << command.getName() << ": " << message << "\n";
  return kUsage;
}

int dinfer::cli::failure(const cl::SubCommand &command, const Twine &message) {
  errs() << "dinfer " << command.getName() << ": error: " << message << "\n";
  return kFailure;
}

int dinfer::cli::report(const cl::SubCommand &command, Error error) {
  int code = kFailure;
  std::string message;
  handleAllErrors(
      std::move(error),
      [&](const dinfer::UsageError &usage) {
        code = kUsage;
        message = usage.message();
      },
      [&](const ErrorInfoBase &other) { message = other.message(); });
  return code == kUsage ? usageError(command, message) : failure(command, message);
}

std::optional<dinfer::CipherKey> dinfer::cli::outputKey() {
  const dinfer::CipherKey *key = dinfer::processKey();
  if (!encryptOutputOption || !key)
    return std::nullopt;
  return *key;
}

std::vector<std::string> dinfer::cli::commandNames() {
  std::vector<std::string> names;
  for (auto &[command, run] : registry())
    names.push_back(command->getName().str());
  llvm::sort(names);
  return names;
}

int dinfer::cli::runDriver(int argc, const char *const *argv) {
  static bool configured = [] {
    cl::HideUnrelatedOptions(category());
    cl::SetVersionPrinter(
        [](raw_ostream &os) { os << "dinfer " DINFER_VERSION_STRING " (MLIR " DINFER_MLIR_VERSION_STRING ")\n"; });
    return true;
  }();
  (void)configured;
  // A second run in one process (the Python package) starts from the defaults.
  cl::ResetAllOptionOccurrences();

  std::string parseErrors;
  raw_string_ostream errorStream(parseErrors);
  const char *overview = "dinfer: distributed inference for models trained with tensor, data, optimizer and pipeline\n"
                         "parallelism. Run `dinfer <command> --help` for a command's options.\n";
  if (!cl::ParseCommandLineOptions(argc, argv, overview, &errorStream)) {
    // cl may explain over several lines; the first one says what went wrong.
    StringRef first = StringRef(parseErrors).trim().split('\n').first.trim();
    if (!first.empty())
      errs() << first << "\n";
    return kUsage;
  }

  // The key, before any command reads a file.
  std::string keyFile = keyFileOption;
  if (keyFile.empty())
    if (const char *fromEnvironment = std::getenv("DINFER_KEY_FILE"))
      keyFile = fromEnvironment;
  std::optional<dinfer::CipherMode> mode = dinfer::parseCipherMode(keyModeOption);
  if (!mode) {
    errs() << "dinfer: --key-mode " << keyModeOption << " is not one of AES-GCM, AES-CBC, SM4-CBC\n";
    return kUsage;
  }
  dinfer::setProcessKey(std::nullopt);
  if (!keyFile.empty()) {
    auto key = dinfer::readKeyFile(keyFile, *mode);
    if (!key) {
      errs() << "dinfer: error: " << toString(key.takeError()) << "\n";
      return kFailure;
    }
    dinfer::setProcessKey(std::move(*key));
  } else if (encryptOutputOption) {
    errs() << "dinfer: --encrypt-output needs a key: --key-file FILE or DINFER_KEY_FILE\n";
    return kUsage;
  }

  for (auto &[command, run] : registry())
    if (*command)
      return run();

  errs() << "dinfer: no command given; one of:";
  for (const std::string &name : commandNames())
    errs() << " " << name;
  errs() << " (see dinfer --help)\n";
  return kUsage;
}
