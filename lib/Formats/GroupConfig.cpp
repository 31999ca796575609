//===- GroupConfig.cpp - MindSpore's group_config.pb ----------------------===//

#include "dinfer/Formats/GroupConfig.h"

#include "node_strategy.pb.h"

#include "llvm/Support/MemoryBuffer.h"

using namespace dinfer;

std::string dinfer::serializeGroupConfig(const GroupConfig &config) {
  mindspore::straspb::ParallelGroupMap map;
  for (const GroupConfig::Group &group : config.groups) {
    auto *item = map.add_parallel_group_item();
    item->set_group_name(group.name);
    // Required even when empty: protobuf refuses to serialize without it.
    auto *ranks = item->mutable_parallel_group_ranks();
    for (uint32_t rank : group.ranks)
      ranks->add_dim(rank);
  }
  auto *restore = map.mutable_ckpt_restore_rank_list();
  for (uint32_t rank : config.restoreRanks)
    restore->add_dim(rank);
  std::string bytes;
  map.SerializeToString(&bytes);
  return bytes;
}

llvm::Expected<GroupConfig> dinfer::parseGroupConfig(llvm::StringRef bytes, llvm::StringRef fileName) {
  mindspore::straspb::ParallelGroupMap map;
  if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !map.ParsePartialFromArray(bytes.data(), static_cast<int>(bytes.size())) || !map.IsInitialized())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   fileName + ": not a group_config.pb (ParallelGroupMap): it does not parse, or "
                                              "a required field is missing");
  GroupConfig config;
  for (const auto &item : map.parallel_group_item()) {
    if (item.parallel_group_ranks().dim().empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     fileName + ": group '" + item.group_name() + "' lists no ranks");
    GroupConfig::Group group;
    group.name = item.group_name();
    group.ranks.assign(item.parallel_group_ranks().dim().begin(), item.parallel_group_ranks().dim().end());
    config.groups.push_back(std::move(group));
  }
  config.restoreRanks.assign(map.ckpt_restore_rank_list().dim().begin(), map.ckpt_restore_rank_list().dim().end());
  return config;
}

llvm::Expected<GroupConfig> dinfer::readGroupConfig(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError(buffer.getError(), path + ": cannot read: " + buffer.getError().message());
  return parseGroupConfig((*buffer)->getBuffer(), path);
}
