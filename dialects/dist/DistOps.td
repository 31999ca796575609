//===- DistOps.td - dist dialect operations ------------------*- tablegen -*-===//

#ifndef DINFER_DIST_OPS_TD
#define DINFER_DIST_OPS_TD

include "DistAttrs.td"
include "DistInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"


defvar Dist_StaticTensor = AnyStaticShapeTensor;

//===----------------------------------------------------------------------===//
// Parameters and annotations
//===----------------------------------------------------------------------===//

def Dist_ParamOp : Dist_Op<"param", [Pure]> {
  let summary = "A model parameter: checkpoint data named, not held";
  let description = [{
    Stands for the checkpoint tensor `name` with the result's global shape and
    element type. Weights never live in the IR: bytes are bound to a rank's
    program only at export. An optional `layout` gives the parameter's
    layout.

    ```mlir
    %w = dist.param "matmul_weight" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>} : tensor<96x16xf32>
    ```
    After partitioning, `local` says that the result is this rank's slice of
    the parameter `layout` lays out (the global shape is the result's times
    the splits): a reference plus the slice it needs, never the whole tensor.
    ```mlir
    %w = dist.param "matmul_weight" {layout = #dist.layout<dev_matrix = [2, 4], tensor_map = [-1, 0]>, local} : tensor<96x4xf32>
    ```
    `offset` makes the result one part of the checkpoint tensor: the box at
    `offset` with the result's shape (`--dist-split-packed-projections`
    reads torch's packed `in_proj` as three parts, each then laid out as a
    projection of its own). `--dist-partition` gives each rank one reference
    to its pieces of all parts of a tensor, with the layout of every part in
    `parts` (`layout` is the first part's), and cuts the parts from it.
    ```mlir
    %q = dist.param "in_proj" {offset = array<i64: 0, 64>} : tensor<64x64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<Dist_LayoutAttr>:$layout, UnitAttr:$local,
                       OptionalAttr<DenseI64ArrayAttr>:$offset, OptionalAttr<Dist_PartsAttr>:$parts);
  let results = (outs Dist_StaticTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Dist_AnnotateOp : Dist_Op<"annotate",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Fixes the layout of a value";
  let description = [{
    The result is the input, laid out as `layout`. Propagation treats the
    annotation as a constraint; partitioning inserts whatever collective
    reaches it.

    ```mlir
    %y = dist.annotate %x layout <dev_matrix = [8], tensor_map = [0, -1]> : tensor<128x96xf32>
    ```
  }];
  let arguments = (ins Dist_StaticTensor:$input, Dist_LayoutAttr:$layout);
  let results = (outs Dist_StaticTensor:$result);
  let assemblyFormat = "$input `layout` $layout attr-dict `:` type($input)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

class Dist_CollectiveOp<string mnemonic, list<Trait> traits = []>
    : Dist_Op<mnemonic, traits # [InferTypeOpAdaptor, Dist_CollectiveOpInterface]> {
  let results = (outs Dist_StaticTensor:$result);
  code collectiveDescription = [{
    The group of a rank is every rank that differs from it only in the device
    axes `axes` (counted from the right, as MindSpore counts them) of
    `dev_matrix`; the group's order is row-major over those axes.
  }];
}

def Dist_AllReduceOp : Dist_CollectiveOp<"all_reduce"> {
  let summary = "Reduces a value over a group; every member gets the result";
  let description = collectiveDescription # [{
    ```mlir
    %s = dist.all_reduce %p sum axes = [0] dev_matrix = <[2, 4]> : tensor<16x8xf32>
    ```
  }];
  let arguments = (ins Dist_StaticTensor:$input, Dist_ReduceKind:$kind,
                       DenseI64ArrayAttr:$axes, Dist_DeviceMatrixAttr:$dev_matrix);
  let assemblyFormat = [{
    $input $kind `axes` `=` $axes `dev_matrix` `=` $dev_matrix attr-dict `:` type($input)
  }];
}

def Dist_AllGatherOp : Dist_CollectiveOp<"all_gather"> {
  let summary = "Concatenates every member's value along a dimension";
  let description = collectiveDescription # [{
    ```mlir
    %g = dist.all_gather %x axes = [0] dim = 1 dev_matrix = <[2, 4]> : tensor<96x4xf32>
    ```
  }];
  let arguments = (ins Dist_StaticTensor:$input, DenseI64ArrayAttr:$axes,
                       I64Attr:$dim, Dist_DeviceMatrixAttr:$dev_matrix);
  let assemblyFormat = [{
    $input `axes` `=` $axes `dim` `=` $dim `dev_matrix` `=` $dev_matrix attr-dict `:` type($input)
  }];
}

def Dist_ReduceScatterOp : Dist_CollectiveOp<"reduce_scatter"> {
  let summary = "Reduces over a group and leaves each member one piece";
  let description = collectiveDescription # [{
    Member `i` (in group order) keeps piece `i` of dimension `dim`.

    ```mlir
    %r = dist.reduce_scatter %p sum axes = [0] dim = 0 dev_matrix = <[4]> : tensor<16x8xf32>
    ```
  }];
  let arguments = (ins Dist_StaticTensor:$input, Dist_ReduceKind:$kind,
                       DenseI64ArrayAttr:$axes, I64Attr:$dim,
                       Dist_DeviceMatrixAttr:$dev_matrix);
  let assemblyFormat = [{
    $input $kind `axes` `=` $axes `dim` `=` $dim `dev_matrix` `=` $dev_matrix attr-dict `:` type($input)
  }];
}

def Dist_AllToAllOp : Dist_CollectiveOp<"all_to_all"> {
  let summary = "Splits along one dimension, exchanges, concatenates along another";
  let description = collectiveDescription # [{
    ```mlir
    %t = dist.all_to_all %x axes = [0] split_dim = 1 concat_dim = 0 dev_matrix = <[4]> : tensor<8x16xf32>
    ```
  }];
  let arguments = (ins Dist_StaticTensor:$input, DenseI64ArrayAttr:$axes,
                       I64Attr:$split_dim, I64Attr:$concat_dim,
                       Dist_DeviceMatrixAttr:$dev_matrix);
  let assemblyFormat = [{
    $input `axes` `=` $axes `split_dim` `=` $split_dim `concat_dim` `=` $concat_dim
    `dev_matrix` `=` $dev_matrix attr-dict `:` type($input)
  }];
}

def Dist_BroadcastOp : Dist_CollectiveOp<"broadcast"> {
  let summary = "Every member receives the value of the group's root";
  let description = collectiveDescription # [{
    `root` is a position in the group, not a global rank.

    ```mlir
    %b = dist.broadcast %x root = 0 axes = [1] dev_matrix = <[2, 4]> : tensor<8xf32>
    ```
  }];
  let arguments = (ins Dist_StaticTensor:$input, I64Attr:$root,
                       DenseI64ArrayAttr:$axes, Dist_DeviceMatrixAttr:$dev_matrix);
  let assemblyFormat = [{
    $input `root` `=` $root `axes` `=` $axes `dev_matrix` `=` $dev_matrix attr-dict `:` type($input)
  }];
}

def Dist_LocalSplitOp : Dist_CollectiveOp<"local_split"> {
  let summary = "Each member keeps its own piece of a value every member holds whole";
  let description = collectiveDescription # [{
    The inverse of `dist.all_gather`, without communication: member `i` (in
    group order) keeps piece `i` of dimension `dim`. The partitioner uses it
    where a replicated value must become split.
    ```mlir
    %p = dist.local_split %x axes = [0] dim = 1 dev_matrix = <[2, 4]> : tensor<96x16xf32>
    ```
  }];
  let arguments = (ins Dist_StaticTensor:$input, DenseI64ArrayAttr:$axes,
                       I64Attr:$dim, Dist_DeviceMatrixAttr:$dev_matrix);
  let assemblyFormat = [{
    $input `axes` `=` $axes `dim` `=` $dim `dev_matrix` `=` $dev_matrix attr-dict `:` type($input)
  }];
}

def Dist_ShardOffsetOp : Dist_Op<"shard_offset", [Pure]> {
  let summary = "Where this rank's piece of a split dimension starts";
  let description = [{
    `piece` times this rank's position in its group over the device axes
    `axes` of `dev_matrix` (row-major over those axes, as the collectives
    order their groups): the first index of the rank's piece of a dimension
    split over those axes into pieces of `piece`. A 0-d i64 tensor;
    `--dist-split-ranks` folds it into a constant.

    ```mlir
    %o = dist.shard_offset axes = [0] dev_matrix = <[2, 2]> piece = 32 : tensor<i64>
    ```
  }];
  let arguments = (ins DenseI64ArrayAttr:$axes, Dist_DeviceMatrixAttr:$dev_matrix, I64Attr:$piece);
  let results = (outs 0DTensorOf<[I64]>:$result);
  let assemblyFormat = "`axes` `=` $axes `dev_matrix` `=` $dev_matrix `piece` `=` $piece attr-dict `:` type($result)";
  let builders = [
    OpBuilder<(ins "::llvm::ArrayRef<int64_t>":$axes, "::llvm::ArrayRef<int64_t>":$devMatrix, "int64_t":$piece)>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Pipeline transfers
//===----------------------------------------------------------------------===//

def Dist_SendOp : Dist_Op<"send", [MemoryEffects<[MemWrite]>]> {
  let summary = "Sends a value to the same position in another pipeline stage";
  let description = [{
    Pairs with the `dist.recv` of stage `peer_stage` that has the same
    `sr_tag`. Tags are unique per (stage pair, tensor).

    ```mlir
    dist.send %h to_stage = 1 sr_tag = 3 : tensor<16x96xf32>
    ```
  }];
  let arguments = (ins Dist_StaticTensor:$input, I64Attr:$peer_stage, I64Attr:$sr_tag);
  let assemblyFormat = [{
    $input `to_stage` `=` $peer_stage `sr_tag` `=` $sr_tag attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

def Dist_RecvOp : Dist_Op<"recv", [MemoryEffects<[MemRead]>]> {
  let summary = "Receives a value from the same position in another pipeline stage";
  let description = [{
    ```mlir
    %h = dist.recv from_stage = 0 sr_tag = 3 : tensor<16x96xf32>
    ```
  }];
  let arguments = (ins I64Attr:$peer_stage, I64Attr:$sr_tag);
  let results = (outs Dist_StaticTensor:$result);
  let assemblyFormat = [{
    `from_stage` `=` $peer_stage `sr_tag` `=` $sr_tag attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

#endif // DINFER_DIST_OPS_TD
