//===- dinfer.cpp - the dinfer user driver --------------------------------===//
//
// `dinfer <command> [options]`: the subcommands registered in the files
// beside this one, dispatched by Driver.cpp.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "llvm/Support/InitLLVM.h"

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  return dinfer::cli::runDriver(argc, argv);
}
