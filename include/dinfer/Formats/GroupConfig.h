//===- GroupConfig.h - MindSpore's group_config.pb ------------------------===//
//
// The communication groups of one rank (ParallelGroupMap): each group's name
// and global ranks, and the ranks a checkpoint can be restored from
// (`ckpt_restore_rank_list`, required by MindSpore's reader).
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_FORMATS_GROUPCONFIG_H
#define DINFER_FORMATS_GROUPCONFIG_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dinfer {

struct GroupConfig {
  struct Group {
    std::string name;
    std::vector<uint32_t> ranks;
  };
  std::vector<Group> groups;
  std::vector<uint32_t> restoreRanks;
};

/// The protobuf bytes of `config`.
std::string serializeGroupConfig(const GroupConfig &config);
/// Parses group_config.pb bytes; `fileName` names the file in errors.
llvm::Expected<GroupConfig> parseGroupConfig(llvm::StringRef bytes, llvm::StringRef fileName);
llvm::Expected<GroupConfig> readGroupConfig(llvm::StringRef path);

} // namespace dinfer

#endif // DINFER_FORMATS_GROUPCONFIG_H
