//===- ExportFolder.h - an export folder, checked, as its ranks load it -*- C++ -*-===//
//
// What `dinfer run OUT` and `dinfer generate OUT` start from: manifest.json
// read, every file it lists checked against its sha256 before anything is
// loaded, and a rank's MindIR imported with its communication groups
// (docs/contracts.md section 6).
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_PIPELINE_EXPORTFOLDER_H
#define DINFER_PIPELINE_EXPORTFOLDER_H

#include "dinfer/Formats/Manifest.h"
#include "dinfer/Formats/MindIR.h"
#include "dinfer/Runtime/Buffer.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace dinfer {

struct ExportFolder {
  std::string path;
  ExportManifest manifest;
  /// Per rank: its files' paths (checked), by name in the rank's folder
  /// ("net.mindir", "group_config.pb", ...).
  std::vector<llvm::StringMap<std::string>> rankFiles;

  /// The path of `name` in rank `rank`'s folder (for X.mindir, X_graph.mindir
  /// when its weights are external data), or empty when the manifest lists
  /// no such file.
  std::string file(int64_t rank, llvm::StringRef name) const;
};

/// Reads `path`/manifest.json and checks every file it lists; errors name
/// the file. Every rank must list a net.mindir.
llvm::Expected<ExportFolder> openExportFolder(llvm::StringRef path);

/// Rank `rank`'s MindIR `mindirName` of `folder`, imported into `context`
/// with the rank's communication groups; `model` keeps the file open (its
/// weights are views of it). Errors name the file.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> importRankMindIR(const ExportFolder &folder, int64_t rank,
                                                                   llvm::StringRef mindirName,
                                                                   mlir::MLIRContext &context,
                                                                   std::optional<MindIRModel> &model);

/// A MindIR parameter's bytes as the runtime reads them, mapped where they
/// lie.
llvm::Expected<Buffer> viewMindIRWeight(const MindIRModel &model, const MindIRParameter &parameter);

} // namespace dinfer

#endif // DINFER_PIPELINE_EXPORTFOLDER_H
