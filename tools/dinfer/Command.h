//===- Command.h - subcommands of the dinfer driver -----------------------===//
//
// Each subcommand lives in its own file: it declares an llvm::cl::SubCommand,
// its options (in that subcommand) and registers a run function. Exit codes
// follow CONTRACTS.md: 0 success, 1 bad input or failed work, 2 bad usage.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_TOOLS_DINFER_COMMAND_H
#define DINFER_TOOLS_DINFER_COMMAND_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/CommandLine.h"

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

} // namespace dinfer::cli

#endif // DINFER_TOOLS_DINFER_COMMAND_H
