//===- DistAttrs.td - dist dialect attributes ----------------*- tablegen -*-===//

#ifndef DINFER_DIST_ATTRS_TD
#define DINFER_DIST_ATTRS_TD

include "DistBase.td"

// `[2, 4]`: a bracketed list of integers.
def Dist_IntListParameter : ArrayRefParameter<"int64_t", "integer list"> {
  let parser = "::dinfer::dist::parseIntList($_parser)";
  let printer = "::dinfer::dist::printIntList($_printer, $_self)";
}

def Dist_OptionalIntListParameter : OptionalArrayRefParameter<"int64_t", "integer list"> {
  let parser = "::dinfer::dist::parseIntList($_parser)";
  let printer = "::dinfer::dist::printIntList($_printer, $_self)";
}

// `[-1, [1, 0], 0]`: per tensor dimension -1, one axis, or several axes.
def Dist_TensorMapParameter : AttrParameter<"::mlir::ArrayAttr", "tensor map"> {
  let parser = "::dinfer::dist::parseTensorMap($_parser)";
  let printer = "::dinfer::dist::printTensorMap($_printer, $_self)";
}

def Dist_DeviceMatrixAttr : Dist_Attr<"DeviceMatrix", "dev_matrix"> {
  let summary = "The shape of one pipeline stage's devices";
  let description = [{
    Ranks are laid out row-major over the matrix: the last axis varies
    fastest. Axes are named by their position counted from the right, as in
    MindSpore: axis 0 is the last entry.

    ```mlir
    #dist.dev_matrix<[2, 4]>
    ```
  }];
  let parameters = (ins Dist_IntListParameter:$dims);
  let assemblyFormat = "`<` $dims `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The number of devices the matrix covers.
    int64_t getDeviceCount() const;
    /// The size of axis `axis`, counted from the right.
    int64_t getAxisSize(int64_t axis) const {
      return getDims()[getDims().size() - 1 - axis];
    }
    /// The number of ranks in a group spanning `axes`.
    int64_t getGroupSize(::llvm::ArrayRef<int64_t> axes) const;
  }];
}

def Dist_SourceBoxAttr : Dist_Attr<"SourceBox", "source"> {
  let summary = "A box of a training checkpoint that a parameter's slice is cut from";
  let description = [{
    `--dist-materialize-params` binds every rank's `dist.param` to the boxes
    of the training checkpoints its slice is made of, in the parameter's
    `dist.sources`: the box of extent `shape` at `offset` in the tensor of
    source rank `rank` (an index into the module's `dist.checkpoints`) goes
    to `at` in the rank's slice. References, never bytes.

    ```mlir
    #dist.source<rank = 3, offset = [0, 64], shape = [128, 64], at = [0, 0]>
    ```
  }];
  let parameters = (ins "int64_t":$rank, Dist_IntListParameter:$offset, Dist_IntListParameter:$shape,
                        Dist_IntListParameter:$at);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Dist_LayoutAttr : Dist_Attr<"Layout", "layout"> {
  let summary = "How a tensor is laid out over a device matrix";
  let description = [{
    `dev_matrix` is one stage's device matrix; `tensor_map` has one entry per
    tensor dimension: `-1` (not split), a device axis, or a list of axes
    (major first) for a dimension split over several. Optional entries:
    `opt_shard_step` and `opt_shard_size` (MindSpore's optimizer sharding:
    a further split of dimension 0 inside the replica group), `stage` (the
    pipeline stage) and `partial` (the device axes over which the value is a
    pending sum; only inside programs).

    ```mlir
    #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>
    #dist.layout<dev_matrix = [2, 2, 2], tensor_map = [[2, 1], -1], stage = 1>
    #dist.layout<dev_matrix = [4, 2], tensor_map = [0, -1], opt_shard_step = 2, opt_shard_size = -1>
    #dist.layout<dev_matrix = [2, 4], tensor_map = [1, -1], partial = [0]>
    ```
  }];
  let parameters = (ins
    Dist_IntListParameter:$dev_matrix,
    Dist_TensorMapParameter:$tensor_map,
    DefaultValuedParameter<"int64_t", "0">:$opt_shard_step,
    DefaultValuedParameter<"int64_t", "0">:$opt_shard_size,
    DefaultValuedParameter<"int64_t", "0">:$stage,
    Dist_OptionalIntListParameter:$partial
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The layout as the layout algebra sees it.
    ::dinfer::TensorLayout toTensorLayout() const;
    /// Builds a layout from the algebra's form.
    static LayoutAttr get(::mlir::MLIRContext *context,
                          const ::dinfer::TensorLayout &layout,
                          int64_t stage = 0,
                          ::llvm::ArrayRef<int64_t> partial = {});
    /// The device axes splitting dimension `dim`, major first.
    ::llvm::ArrayRef<int64_t> getDimAxes(unsigned dim) const;
    int64_t getDeviceCount() const;
    /// How many pieces each dimension is cut into (the product of its axes'
    /// sizes; optimizer sharding not counted), one entry per tensor_map entry.
    ::llvm::SmallVector<int64_t> getDimSplits() const;
    /// The shape one rank holds of a `global` tensor laid out this way, and
    /// the global shape a `local` slice stands for.
    ::mlir::RankedTensorType getLocalType(::mlir::RankedTensorType global) const;
    ::mlir::RankedTensorType getGlobalType(::mlir::RankedTensorType local) const;
    /// Checks the layout against a tensor type: rank, divisibility and
    /// optimizer sharding. Errors name the offending attribute.
    ::llvm::LogicalResult verifyForType(
        ::mlir::Type type,
        ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError) const;
  }];
}

def Dist_LayoutListParameter : ArrayRefParameter<"::dinfer::dist::LayoutAttr", "part layouts"> {
  let parser = "::dinfer::dist::parseLayoutList($_parser)";
  let printer = "::dinfer::dist::printLayoutList($_printer, $_self)";
}

def Dist_PartsAttr : Dist_Attr<"Parts", "parts"> {
  let summary = "A parameter's local slice made of its pieces of several parts";
  let description = [{
    A packed projection (torch's `in_proj`: Q, K and V in one weight) is
    read as parts along dimension `dim` of extents `sizes`, each part with
    its own layout; a rank's slice holds its piece of every part, side by
    side along `dim`, in part order. `dist.param` carries it on the one
    reference of each rank's slice that `--dist-partition` makes of a
    parameter's parts (see `offset`).

    ```mlir
    #dist.parts<dim = 1, sizes = [64, 32, 32], layouts = [<dev_matrix = [4], tensor_map = [-1, 0]>, <dev_matrix = [2, 2], tensor_map = [-1, 1]>, <dev_matrix = [2, 2], tensor_map = [-1, 1]>]>
    ```
  }];
  let parameters = (ins "int64_t":$dim, Dist_IntListParameter:$sizes, Dist_LayoutListParameter:$layouts);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The layout algebra's form.
    ::dinfer::PartsLayout toPartsLayout() const;
  }];
}

// `[1, 2], [2, 1]`: one bracketed integer list per operand.
def Dist_SplitListsParameter : ArrayRefParameter<"::mlir::DenseI64ArrayAttr", "split numbers per operand"> {
  let parser = "::dinfer::dist::parseSplitLists($_parser)";
  let printer = "::dinfer::dist::printSplitLists($_printer, $_self)";
}

def Dist_StrategyAttr : Dist_Attr<"Strategy", "strategy"> {
  let summary = "An op's training strategy: the split numbers of each operand dimension";
  let description = [{
    MindSpore's op strategy, one list per operand with one split number per
    dimension, as `--dist-attach-strategy` reads it from a strategy file or
    `--dist-author-strategy` writes it. An op carries it as `dist.strategy`;
    the dialect checks it against the op's operands (one list per operand,
    one entry per dimension, splits that divide), the op's sharding rule
    against the factors it splits.

    ```mlir
    %y = nn.matmul %x, %w {dist.strategy = #dist.strategy<[2, 1], [1, 4]>}
        : tensor<8x16xf32>, tensor<16x32xf32>
    ```
  }];
  let parameters = (ins Dist_SplitListsParameter:$operandSplits);
  let assemblyFormat = "`<` $operandSplits `>`";
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "::llvm::ArrayRef<::llvm::SmallVector<int64_t>>":$splits)>
  ];
  let extraClassDeclaration = [{
    size_t getNumOperands() const { return getOperandSplits().size(); }
    /// The split numbers of operand `operand`, one per dimension.
    ::llvm::ArrayRef<int64_t> getSplits(unsigned operand) const {
      return getOperandSplits()[operand].asArrayRef();
    }
    /// Checks the strategy against the operands of `op`.
    ::llvm::LogicalResult verifyForOperands(::mlir::Operation *op) const;
  }];
}

def Dist_ReduceKind : I64EnumAttr<"ReduceKind", "reduction of a collective", [
    I64EnumAttrCase<"sum", 0>,
    I64EnumAttrCase<"max", 1>,
    I64EnumAttrCase<"min", 2>,
    I64EnumAttrCase<"prod", 3>
  ]> {
  let cppNamespace = "::dinfer::dist";
}

// How --dist-infer-predict-layout derived a parameter's predict layout from
// training's (docs/contracts.md section 8); `dinfer layout --json` prints it
// with hyphens ("dropped-replicas").
def Dist_PredictRule : I32EnumAttr<"PredictRule", "how a predict layout came from training's", [
    I32EnumAttrCase<"same", 0>,
    I32EnumAttrCase<"dropped_replicas", 1>,
    I32EnumAttrCase<"shrunk_model_parallel", 2>,
    I32EnumAttrCase<"split_batch", 3>,
    I32EnumAttrCase<"restaged", 4>,
    I32EnumAttrCase<"replicated", 5>
  ]> {
  let cppNamespace = "::dinfer::dist";
  let genSpecializedAttr = 0;
}

def Dist_PredictRuleAttr : EnumAttr<Dist_Dialect, Dist_PredictRule, "rule"> {
  let assemblyFormat = "`<` $value `>`";
  let summary = "How a parameter's predict layout was derived (dist.rule)";
  let description = [{
    ```mlir
    %w = dist.param "w" {dist.rule = #dist.rule<dropped_replicas>, layout = ...} : tensor<16x32xf32>
    ```
  }];
}

#endif // DINFER_DIST_ATTRS_TD
