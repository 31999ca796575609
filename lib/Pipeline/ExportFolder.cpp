//===- ExportFolder.cpp - an export folder, checked, as its ranks load it -===//

#include "dinfer/Pipeline/ExportFolder.h"

#include "dinfer/Formats/FileUtils.h"
#include "dinfer/Formats/GroupConfig.h"
#include "dinfer/Translate/ImportMindIR.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstring>

using namespace llvm;
using namespace dinfer;

namespace {
Error folderError(const Twine &message) { return createStringError(inconvertibleErrorCode(), message); }
} // namespace

std::string ExportFolder::file(int64_t rank, StringRef name) const {
  if (rank < 0 || rank >= static_cast<int64_t>(rankFiles.size()))
    return {};
  std::string path = rankFiles[rank].lookup(name);
  // A MindIR with external data is <stem>_graph.mindir beside <stem>_variables/.
  if (path.empty() && name.ends_with(".mindir"))
    path = rankFiles[rank].lookup((name.drop_back(strlen(".mindir")) + "_graph.mindir").str());
  return path;
}

Expected<ExportFolder> dinfer::openExportFolder(StringRef path) {
  SmallString<256> manifestPath(path);
  sys::path::append(manifestPath, "manifest.json");
  auto manifestText = MemoryBuffer::getFile(manifestPath);
  if (!manifestText)
    return folderError(manifestPath + ": cannot read: " + manifestText.getError().message() +
                       " (an export folder holds manifest.json)");
  auto parsed = parseManifest((*manifestText)->getBuffer(), manifestPath);
  if (!parsed)
    return parsed.takeError();
  ExportFolder folder;
  folder.path = path.str();
  folder.manifest = std::move(*parsed);
  folder.rankFiles.resize(folder.manifest.deviceNum);
  // Integrity first: every file the manifest lists, as it lists it.
  for (const ExportManifest::Rank &rank : folder.manifest.ranks) {
    for (const ExportManifest::File &file : rank.files) {
      SmallString<256> filePath(path);
      sys::path::append(filePath, file.path);
      auto digest = sha256OfFile(filePath);
      if (!digest)
        return digest.takeError();
      if (*digest != file.sha256)
        return folderError(filePath + ": its sha256 differs from the manifest's: the file is damaged or was changed "
                                      "after the export");
      folder.rankFiles[rank.rank][sys::path::filename(file.path)] = filePath.str().str();
    }
    if (folder.file(rank.rank, "net.mindir").empty())
      return folderError(manifestPath + ": rank " + Twine(rank.rank) + " lists no net.mindir");
  }
  return folder;
}

Expected<mlir::OwningOpRef<mlir::ModuleOp>> dinfer::importRankMindIR(const ExportFolder &folder, int64_t rank,
                                                                     StringRef mindirName, mlir::MLIRContext &context,
                                                                     std::optional<MindIRModel> &model) {
  std::string path = folder.file(rank, mindirName);
  if (path.empty())
    return folderError(folder.path + ": rank " + Twine(rank) + " has no " + mindirName);
  auto opened = MindIRModel::open(path);
  if (!opened)
    return opened.takeError();
  model.emplace(std::move(*opened));
  MindIRImportOptions options;
  options.deviceNum = folder.manifest.deviceNum;
  options.stageSize = folder.manifest.stageSize();
  if (std::string groups = folder.file(rank, "group_config.pb"); !groups.empty()) {
    auto config = readGroupConfig(groups);
    if (!config)
      return config.takeError();
    for (const GroupConfig::Group &group : config->groups)
      options.groups[group.name] = std::vector<int64_t>(group.ranks.begin(), group.ranks.end());
  }
  std::string errorsText;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
    if (diag.getSeverity() == mlir::DiagnosticSeverity::Error)
      errorsText += (errorsText.empty() ? "" : "; ") + diag.str();
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module = importMindIR(*model, &context, options);
  if (!module)
    return folderError(path + ": " + errorsText);
  return module;
}

Expected<Buffer> dinfer::viewMindIRWeight(const MindIRModel &model, const MindIRParameter &p) {
  if (!p.dtype)
    return folderError("weight '" + p.name + "' has a type dinfer cannot run");
  auto mapped = model.mapParameter(p);
  if (!mapped)
    return mapped.takeError();
  return Buffer::view(*p.dtype, p.shape, mapped->bytes.data(), mapped->owner);
}
