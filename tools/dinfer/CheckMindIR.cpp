//===- CheckMindIR.cpp - `dinfer check-mindir`: would MindSpore 1.7 load it ===//
//
//   dinfer check-mindir FILE.mindir ...
//
// Applies the rules of MindSpore 1.7's MindIR loader (MindIRModel::
// loaderProblems) to every file: prints "ok" or every problem, and exits
// non-zero when any file has one. MindSpore itself cannot run here; this is
// the nearest honest check of an exported file.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "dinfer/Formats/MindIR.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand checkCommand("check-mindir", "Check MindIR files against the rules of MindSpore 1.7's loader");
cl::list<std::string> fileOptions(cl::Positional, cl::desc("<file.mindir>..."), cl::sub(checkCommand),
                                  cl::cat(category()));

int runCheckMindIR() {
  if (fileOptions.empty())
    return usageError(checkCommand, "usage: dinfer check-mindir FILE.mindir ...");
  int failures = 0;
  for (const std::string &file : fileOptions) {
    auto model = MindIRModel::open(file);
    if (!model) {
      outs() << file << ": does not load: " << toString(model.takeError()) << "\n";
      ++failures;
      continue;
    }
    std::vector<std::string> problems = model->loaderProblems();
    if (problems.empty()) {
      outs() << formatv("{0}: ok (MindIR {1} from MindSpore {2}, {3} nodes, {4} parameters)\n", file,
                        model->irVersion(), model->producerVersion(), model->mainGraph().nodes.size(),
                        model->parameters().size());
      continue;
    }
    ++failures;
    outs() << file << ": " << problems.size() << " problem" << (problems.size() == 1 ? "" : "s")
           << " MindSpore 1.7's loader would refuse:\n";
    for (const std::string &problem : problems)
      outs() << "  " << problem << "\n";
  }
  return failures ? kFailure : kSuccess;
}

CommandRegistration registration(checkCommand, runCheckMindIR);
} // namespace
