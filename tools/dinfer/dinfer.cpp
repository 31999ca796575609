//===- dinfer.cpp - the dinfer user driver --------------------------------===//
//
// `dinfer <command> [options]`: dispatches to the subcommands registered in
// the files beside this one.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "dinfer/Version.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <utility>

using namespace llvm;

namespace {
SmallVector<std::pair<cl::SubCommand *, int (*)()>, 8> &registry() {
  static SmallVector<std::pair<cl::SubCommand *, int (*)()>, 8> commands;
  return commands;
}
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

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(dinfer::cli::category());
  cl::SetVersionPrinter(
      [](raw_ostream &os) { os << "dinfer " DINFER_VERSION_STRING " (MLIR " DINFER_MLIR_VERSION_STRING ")\n"; });

  std::string parseErrors;
  raw_string_ostream errorStream(parseErrors);
  const char *overview = "dinfer: distributed inference for models trained with tensor, data, optimizer and pipeline\n"
                         "parallelism. Run `dinfer <command> --help` for a command's options.\n";
  if (!cl::ParseCommandLineOptions(argc, argv, overview, &errorStream)) {
    // cl may explain over several lines; the first one says what went wrong.
    StringRef first = StringRef(parseErrors).trim().split('\n').first.trim();
    if (!first.empty())
      errs() << first << "\n";
    return dinfer::cli::kUsage;
  }

  for (auto &[command, run] : registry())
    if (*command)
      return run();

  SmallVector<StringRef, 8> names;
  for (auto &[command, run] : registry())
    names.push_back(command->getName());
  llvm::sort(names);
  errs() << "dinfer: no command given; one of:";
  for (StringRef name : names)
    errs() << " " << name;
  errs() << " (see dinfer --help)\n";
  return dinfer::cli::kUsage;
}
