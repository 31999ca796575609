//===- dinfer.cpp - the dinfer user driver --------------------------------===//
//
// `dinfer <command> [options]`: the subcommands registered in the files
// beside this one, dispatched by Driver.cpp.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "llvm/Support/InitLLVM.h"

#include <csignal>

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Past the file-size limit a write fails with EFBIG, which dinfer reports,
  // instead of the process being killed mid-file.
  std::signal(SIGXFSZ, SIG_IGN);
  return dinfer::cli::runDriver(argc, argv);
}
