//===- MaterializeParams.cpp - parameters bound to checkpoint boxes -------===//

#include "dinfer/Transforms/Passes.h"
#include "dinfer/Transforms/PredictStrategy.h"

#include "dialects/dist/DistOps.h"
#include "dinfer/Reshard/CheckpointSet.h"
#include "dinfer/Reshard/Planner.h"

#include "llvm/ADT/StringMap.h"

namespace dinfer {
#define GEN_PASS_DEF_DISTMATERIALIZEPARAMS
#include "dinfer/Transforms/Passes.h.inc"
} // namespace dinfer

using namespace mlir;
using namespace dinfer;

namespace {

struct DistMaterializeParamsPass : dinfer::impl::DistMaterializeParamsBase<DistMaterializeParamsPass> {
  using DistMaterializeParamsBase::DistMaterializeParamsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    auto fail = [&](const llvm::Twine &message) {
      module.emitError() << "--dist-materialize-params: " << message;
      signalPassFailure();
    };
    if (ckptDir.empty() || trainStrategy.empty())
      return fail("needs ckpt-dir=DIR and train-strategy=FILE");
    std::optional<dist::DeviceCounts> counts = dist::deviceCountsOf(module);
    if (!counts)
      return fail("the module has no dist.device_num: run the strategy passes first");
    int64_t devices = counts->devices, stages = counts->stages;
    SmallVector<func::FuncOp> rankFunctions(devices);
    for (auto function : module.getOps<func::FuncOp>())
      if (auto rank = function->getAttrOfType<IntegerAttr>(dist::DistDialect::kRankAttrName))
        rankFunctions[rank.getInt()] = function;
    if (llvm::any_of(rankFunctions, [](func::FuncOp f) { return !f; }))
      return fail("every rank needs its function: run --dist-split-ranks first");

    // The plan: training layouts and checkpoints to the program's layouts.
    std::vector<PredictParam> params = predictParams(module, devices / stages);
    auto train = readStrategy(trainStrategy);
    if (!train)
      return fail(llvm::toString(train.takeError()));
    auto src = LayoutSet::fromStrategy(*train, std::nullopt, trainStrategy);
    if (!src)
      return fail(llvm::toString(src.takeError()));
    auto dst = LayoutSet::fromStrategy(predictStrategy(params, stages), devices, "the program's layouts");
    if (!dst)
      return fail(llvm::toString(dst.takeError()));
    auto files = checkpointSetFiles(ckptDir, src->deviceNum(), "dinfer");
    if (!files)
      return fail(llvm::toString(files.takeError()));
    auto set = openCheckpointSet(*files);
    if (!set)
      return fail(llvm::toString(set.takeError()));
    PlanOptions options;
    options.copyUnlisted = false;
    for (const PredictParam &p : params)
      options.only.insert(p.name);
    auto plan = planReshard(*src, *dst, set->sources, options);
    if (!plan)
      return fail(llvm::toString(plan.takeError()));
    if (!plan->missing.empty())
      return fail("parameter '" + plan->missing.front() + "' is in no checkpoint of " + ckptDir);

    SmallVector<Attribute> fileNames;
    for (const std::string &file : *files)
      fileNames.push_back(StringAttr::get(context, file));
    module->setAttr(dist::DistDialect::kCheckpointsAttrName, ArrayAttr::get(context, fileNames));
    bool failedAny = false;
    for (int64_t rank = 0; rank < devices; ++rank) {
      llvm::StringMap<const TensorPlan *> tensors;
      for (const TensorPlan &tensor : plan->ranks[rank].tensors)
        tensors[tensor.name] = &tensor;
      rankFunctions[rank].walk([&](dist::ParamOp param) {
        const TensorPlan *tensor = tensors.lookup(param.getName());
        if (!tensor) {
          param.emitError() << "rank " << rank << ": no slice of '" << param.getName() << "' was planned";
          failedAny = true;
          return;
        }
        if (!llvm::equal(tensor->shape, param.getType().getShape())) {
          param.emitError() << "rank " << rank << ": the checkpoints give '" << param.getName() << "' a slice of ["
                            << llvm::make_range(tensor->shape.begin(), tensor->shape.end())
                            << "], but the program reads " << param.getType();
          failedAny = true;
          return;
        }
        SmallVector<Attribute> boxes;
        for (const TensorCopy &copy : tensor->copies) {
          boxes.push_back(dist::SourceBoxAttr::get(context, copy.srcRank, copy.srcOffset, copy.shape,
                                                   copy.dstOffset));
        }
        param->setAttr(dist::DistDialect::kSourcesAttrName, ArrayAttr::get(context, boxes));
      });
    }
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
