//===- Report.cpp - `dinfer report`: an export's partition as one page ----===//
//
//   dinfer report OUT [-o FILE.html]
//
// Renders OUT/report.json (written by every `dinfer export`) as one
// self-contained HTML page: the device matrix and stages, every rank's
// weights, activation peak and collectives, and every parameter's slices
// (docs/report.md). OUT may also be a report.json file. Without -o the page
// is OUT/report.html.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "dinfer/Formats/FileUtils.h"
#include "dinfer/Layout/Text.h"
#include "dinfer/Pipeline/Report.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace llvm;
using namespace dinfer;
using namespace dinfer::cli;

namespace {
cl::SubCommand reportCommand("report", "Draw an export's partition as one HTML page");
cl::opt<std::string> inputOption(cl::Positional, cl::desc("<export folder | report.json>"), cl::sub(reportCommand),
                                 cl::cat(category()));
cl::opt<std::string> outputOption("o", cl::desc("The page to write (default: OUT/report.html)"),
                                  cl::value_desc("file.html"), cl::sub(reportCommand), cl::cat(category()));

int runReport() {
  if (inputOption.empty())
    return usageError(reportCommand, "usage: dinfer report OUT [-o FILE.html]");
  auto start = std::chrono::steady_clock::now();
  Expected<PartitionReport> partition = createStringError(inconvertibleErrorCode(), "");
  std::string output = outputOption;
  if (sys::fs::is_directory(inputOption)) {
    partition = readExportReport(inputOption);
    if (output.empty()) {
      SmallString<256> path(inputOption);
      sys::path::append(path, "report.html");
      output = path.str().str();
    }
  } else {
    auto buffer = MemoryBuffer::getFile(inputOption);
    if (!buffer)
      return failure(reportCommand, inputOption + ": cannot read: " + buffer.getError().message());
    auto parsed = json::parse((*buffer)->getBuffer());
    if (!parsed)
      return failure(reportCommand, inputOption + ": is not JSON: " + toString(parsed.takeError()));
    partition = reportFromJson(*parsed, inputOption);
    if (output.empty())
      output = (sys::path::parent_path(inputOption).empty() ? StringRef(".") : sys::path::parent_path(inputOption))
                   .str() +
               "/report.html";
  }
  if (!partition)
    return failure(reportCommand, toString(partition.takeError()));
  std::string page = renderReportHtml(*partition);
  if (Error err = writeFileAtomically(output, page))
    return failure(reportCommand, toString(std::move(err)));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  errs() << formatv("dinfer report: wrote {0} ({1}, {2} ranks, {3} parameters, {4:f2} s)\n", output,
                    formatBytes(page.size()), partition->ranks.size(), partition->params.size(), seconds);
  return kSuccess;
}

CommandRegistration registration(reportCommand, runReport);
} // namespace
