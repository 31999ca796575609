//===- Command.h - subcommands of the dinfer driver -----------------------===//
//
// Each subcommand lives in its own file: it declares an llvm::cl::SubCommand,
// its options (in that subcommand) and registers a run function. Exit codes
// follow docs/contracts.md: 0 success, 1 bad input or failed work, 2 bad usage.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TOOLS_DINFER_COMMAND_H
#define DINFER_TOOLS_DINFER_COMMAND_H

#include "dinfer/Formats/Crypto.h"
#include "dinfer/Pipeline/Errors.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/CommandLine.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dinfer::cli {

enum ExitCode : int { kSuccess = 0, kFailure = 1, kUsage = 2 };

/// The option category of every dinfer option; everything else is hidden.
llvm::cl::OptionCategory &category();

/// Registers a subcommand's run function with the driver.
struct CommandRegistration {
  CommandRegistration(llvm::cl::SubCommand &command, int (*run)());
};

/// Prints "dinfer <command>: <message>" on one line to stderr; returns 2.
int usageError(const llvm::cl::SubCommand &command, const llvm::Twine &message);
/// Prints "dinfer <command>: error: <message>" on one line to stderr; returns 1.
int failure(const llvm::cl::SubCommand &command, const llvm::Twine &message);
/// A library's error as one of the two: a UsageError as usageError (exit 2),
/// anything else as failure (exit 1).
int report(const llvm::cl::SubCommand &command, llvm::Error error);

/// Parses `argv` (argv[0] is the program name) and runs the chosen
/// subcommand; returns its exit code. Options start from their defaults on
/// every call, so one process may run several commands in turn.
int runDriver(int argc, const char *const *argv);

/// The key outputs are encrypted with (--encrypt-output, with --key-file or
/// DINFER_KEY_FILE), or none.
std::optional<CipherKey> outputKey();

/// The registered subcommands' names, sorted.
std::vector<std::string> commandNames();


} // namespace dinfer::cli

#endif // DINFER_TOOLS_DINFER_COMMAND_H
