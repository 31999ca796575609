//===- Passes.td - dinfer's passes -------------------------*- tablegen -*-===//

#ifndef DINFER_TRANSFORMS_PASSES
#define DINFER_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def NNFoldTransposes : Pass<"nn-fold-transposes", "mlir::func::FuncOp"> {
  let summary = "Fold transposes of the last two dimensions into matrix products";
  let description = [{
    Attention as exporters write it, `q @ k.transpose(-1, -2)`, is a
    Transpose of the keys followed by a MatMul: the transpose copies the
    whole key tensor (the whole cache, at every generated token) only for the
    product to read it. A `nn.transpose` whose permutation swaps the last two
    dimensions and keeps the others in place, feeding an operand of
    `nn.batch_matmul` or `nn.matmul`, becomes that product's `transpose_a`
    or `transpose_b` flag (flipped); the transpose goes when nothing else
    uses it. Products read a transposed operand through oneDNN's strides.
  }];
  let dependentDialects = ["dinfer::nn::NNDialect"];
}

def NNComputeInFloat32 : Pass<"nn-compute-in-float32", "mlir::func::FuncOp"> {
  let summary = "Compute float16 and bfloat16 programs in float32";
  let description = [{
    Models exported in float16 (or bfloat16) ask for arithmetic this
    runtime's CPUs do not have: without AVX-512 FP16 every float16 op would
    convert element by element, and oneDNN has no float16 products or
    convolutions to run them on. This pass computes such a function in
    float32 and keeps its signature: each half-precision argument is cast to
    float32 where the function begins, each half-precision result back where
    it returns, and each half-precision weight (`dist.param`) is cast once
    after it is read (the runtime converts a cast of a weight on the first
    run and keeps the result). Half-precision constants become float32
    constants of the same values, casts to half precision become casts to
    float32, and every other half-precision value is retyped. Float32
    arithmetic on values that float16 represents exactly is at least as
    accurate as float16's own; what no longer happens is the rounding to
    half precision between ops.

    ```mlir
    %w = dist.param "w" : tensor<4x8xf16>
    %y = nn.matmul %x, %w : tensor<2x4xf16>, tensor<4x8xf16>
    // becomes
    %w = dist.param "w" : tensor<4x8xf16>
    %w32 = nn.cast %w to f32 : tensor<4x8xf16>
    %x32 = nn.cast %x to f32 : tensor<2x4xf16>
    %y = nn.matmul %x32, %w32 : tensor<2x4xf32>, tensor<4x8xf32>
    ```
  }];
  let dependentDialects = ["dinfer::nn::NNDialect"];
}

def NNFuseGeLU : Pass<"nn-fuse-gelu", "mlir::func::FuncOp"> {
  let summary = "Fuse GeLU spelled out in elementwise ops into nn.gelu";
  let description = [{
    Exporters write GeLU as the arithmetic that defines it: torch's ONNX
    exporter writes the erf form as `x * (erf(x / sqrt(2)) + 1) * 0.5` and
    the tanh form as `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))`,
    five to nine ops that each walk the whole tensor. This pass finds both,
    whatever the order of the products' and sums' operands, and replaces
    them with one `nn.gelu` (`approximate = "tanh"` for the second).
    Constants must match to within 1e-6 relative; the intermediate values
    must have no other users.
  }];
  let dependentDialects = ["dinfer::nn::NNDialect"];
}

def NNFoldConstants : Pass<"nn-fold-constants", "mlir::func::FuncOp"> {
  let summary = "Replace ops whose operands are all constants with the constant they compute";
  let description = [{
    Exporters leave computation on constants in the graph: shape arithmetic,
    causal and window masks, position tables, scatters into constant data.
    This pass evaluates every nn op whose operands are all `arith.constant`
    with the kernels `dinfer run` uses (no arithmetic of its own) and
    replaces it with an `arith.constant`, in program order, so chains fold
    whole. Results above `max-elements` elements stay ops, so that a
    broadcast of a constant does not inflate the program.
  }];
  let options = [
    Option<"maxElements", "max-elements", "int64_t", /*default=*/"1 << 22",
           "The largest result folded, in elements">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

def DistSplitPackedProjections : Pass<"dist-split-packed-projections", "mlir::func::FuncOp"> {
  let summary = "Read a packed projection (Q, K and V in one weight) as one product per part";
  let description = [{
    torch's `nn.MultiheadAttention` computes Q, K and V with one weight
    (`in_proj`, `[3d, d]`) and cuts the product's features into thirds;
    fused QKV (grouped-query attention's unequal parts) and fused gate/up
    weights do the same. Split contiguously, such a weight gives each rank
    parts of different thirds, so it could only stay whole. This pass finds
    a product (`nn.matmul`, `nn.batch_matmul`) of a 2-D parameter whose
    result (or the bias add right after it, with a 1-D parameter) is used
    only by slices of its last dimension (`nn.strided_slice` with unit
    strides, or `nn.split` along it) that tile the features, and replaces it
    with one product per part, each reading the part of the weight (and of
    the bias) as a `dist.param` with an `offset`: every part is then laid out
    as a projection of its own (split per head), and the checkpoint tensor
    stays one. Runs before strategies are attached or authored.
  }];
  let dependentDialects = ["dinfer::dist::DistDialect"];
}

def DistAttachStrategy : Pass<"dist-attach-strategy", "mlir::ModuleOp"> {
  let summary = "Attach a training strategy file's op strategies and parameter layouts";
  let description = [{
    Reads a MindSpore strategy file (protobuf or JSON, merged pipeline files
    too) and attaches what it says to the program:
    * every `dist.param` the file lays out gets its `layout` (with the stage
      of a merged file's `<stage>-` prefix; a parameter several stages share
      keeps the first and is reported);
    * every op with a sharding rule and a parameter operand is looked up as
      MindSpore keys it, `<Primitive>_<first parameter name>`, and gets
      `dist.strategy` (one list of split numbers per operand) and `dist.stage`.
    A parameter or keyed op the file does not cover keeps the rule's default
    (replicated) and gets a remark; an op or layout whose split numbers do
    not match its operands' shapes is an error at the op. File entries that
    match nothing in the program are reported in one warning.

    `--dist-attach-strategy=FILE` names the file directly; `file=FILE` works
    too.
  }];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"\"\"", "The training strategy file">
  ];
  let dependentDialects = ["dinfer::dist::DistDialect"];
}

def DistInferPredictLayout : Pass<"dist-infer-predict-layout", "mlir::ModuleOp"> {
  let summary = "Adapt training op strategies to the inference device count; derive parameter layouts";
  let description = [{
    Runs after `--dist-attach-strategy`. The inference devices per stage are
    `device-num / pipeline-stages` (options, or the module's `dist.device_num`
    and `dist.pipeline_stages`); training's come from `train-device-num`, or
    from the device matrices of the attached parameter layouts. Each op's
    strategy is split, through its sharding rule, into the model-parallel part
    (factors of parameter dimensions, degree mp) and the data-parallel part
    (other split factors, degree dp), and adapted as docs/contracts.md section 8
    says: the same count keeps every strategy (`same`); otherwise mp' is the
    largest divisor of mp that divides N, shrinking the innermost factors
    first (`shrunk-model-parallel`); a split batch gets dp', the largest
    divisor of N / mp' that divides the batch (`split-batch` when it grows,
    `dropped-replicas` when it shrinks); what is left of N is replicas.
    Optimizer sharding is always dropped.

    Every parameter then takes the layout of its first user with a strategy:
    the op's device matrix in MindSpore's order (the factors of operand 0's
    dimensions, then those only later operands have), a leading replica axis,
    standardized (axes of 1 removed); `dist.rule` records what was applied. A
    parameter no strategized op uses keeps its training layout when the
    counts agree and becomes replicated otherwise (with a remark). The stage
    count defaults to training's; with another count the training stages are
    dropped (`dist.stage` removed, `restaged` where the layout is otherwise
    unchanged) and `--dist-pipeline-split` cuts the program again by cost.
  }];
  let options = [
    Option<"deviceNum", "device-num", "int64_t", /*default=*/"0", "Inference devices (default: dist.device_num)">,
    Option<"pipelineStages", "pipeline-stages", "int64_t", /*default=*/"0",
           "Inference pipeline stages (default: dist.pipeline_stages, or training's)">,
    Option<"trainDeviceNum", "train-device-num", "int64_t", /*default=*/"0",
           "Training devices per stage (default: from the attached layouts)">
  ];
  let dependentDialects = ["dinfer::dist::DistDialect"];
}

def DistAuthorStrategy : Pass<"dist-author-strategy", "mlir::ModuleOp"> {
  let summary = "Write a training strategy onto the program from a preset (Megatron)";
  let description = [{
    Gives every op that MindSpore would key (an op with a parameter operand)
    the strategy a Megatron-style training run uses, as `dist.strategy` and
    `dist.stage = 0`: matrix products with a weight alternate column-parallel
    (output features split `tp` ways) and row-parallel (contraction split
    `tp` ways), an op being row-parallel when its input comes from a
    column-parallel product through anything but a normalization; the bias
    that follows a column-parallel product is split with it; an embedding
    table (Gather) is vocabulary-parallel; the activations of products are
    split `dp` ways along their first dimension (the batch). Every other op
    with a parameter (a norm, a mask added to attention scores) takes the
    layout its activation arrives in, found by propagating the products'
    strategies on a copy of the module with the inputs' batch split `dp`
    ways: split heads stay split, norms split the batch only.
    A product or table whose split dimension `tp` does not divide stays data
    parallel (with a remark); a batch `dp` does not divide is an error naming
    the op. With `sequence-parallel`, every op with a parameter outside the
    tensor-parallel region (a norm, the bias after a row-parallel product)
    splits the sequence `tp` ways instead: the row-parallel product's sum is
    then reduce-scattered along the sequence and gathered again in front of
    the next column-parallel product (Megatron's sequence parallelism).
  }];
  let options = [
    Option<"preset", "preset", "std::string", /*default=*/"\"megatron\"", "The preset (megatron)">,
    Option<"tp", "tp", "int64_t", /*default=*/"1", "Tensor-parallel degree">,
    Option<"dp", "dp", "int64_t", /*default=*/"1", "Data-parallel degree (the batch split)">,
    Option<"sequenceParallel", "sequence-parallel", "bool", /*default=*/"false",
           "Split the sequence tp ways outside the tensor-parallel region">
  ];
  let dependentDialects = ["dinfer::dist::DistDialect"];
}

def DistPipelineSplit : Pass<"dist-pipeline-split", "mlir::ModuleOp"> {
  let summary = "Give every op a pipeline stage and connect stages with send/recv pairs";
  let description = [{
    Runs after `--dist-infer-predict-layout`, on a module with
    `dist.pipeline_stages` P (one stage when absent). Ops keep the training
    stage their strategy gave them; an op without one runs in the latest
    stage of the ops it reads, or, reading only parameters, constants and
    inputs, in the earliest stage of its users. When no op has a stage (the
    inference stage count differs from training's, or training had no
    pipeline), or with `rebalance`, the ops are cut, in program order, into P
    consecutive stages of balanced cost (multiply-adds of products and
    convolutions, elements written elsewhere): uneven layer counts split where
    the cost balances, and no op is dropped. A stage left without ops, or an
    op that reads a value of a later stage, is an error.

    Parameters and constants are read where they are used: one copy per stage
    that uses them (a shared embedding is held by every stage that reads it,
    each copy's layout naming its stage). A value that a later stage reads
    is sent right after it is computed (`dist.send`) and received by that
    stage (`dist.recv`, placed right after the send), one pair per stage and
    value with a module-unique `sr_tag`; function results are sent to the
    last stage. Because every rank meets its transfers in program order of the
    producers, the transfers cannot deadlock, even when sends block.
  }];
  let options = [
    Option<"rebalance", "rebalance", "bool", /*default=*/"false",
           "Ignore the training stages and cut the program into stages of balanced cost">
  ];
  let dependentDialects = ["dinfer::dist::DistDialect"];
}

def DistPropagate : Pass<"dist-propagate", "mlir::ModuleOp"> {
  let summary = "A layout for every value, with dist.annotate where a value must be resharded";
  let description = [{
    Runs after `--dist-infer-predict-layout`. Walks each function in order:
    an op with a `dist.strategy` expects its operands laid out as the
    strategy says and lays its result out over its device matrix, a pending
    sum over the device axes of split contraction factors; an op without one
    follows its widest operand through its sharding rule (axes on factors it
    needs whole are gathered first); parameters keep their layouts (one
    without a layout gets the replicated one of its stage), constants are
    replicated, and function results are gathered whole. A
    pending sum is resolved before any op reads it. Where a value's layout
    differs from what its user expects, a `dist.annotate` to the expected
    layout is inserted: the partitioner turns it into the cheapest
    collective. Every single-result op gets its result's `dist.layout`, an op
    with several results `dist.result_layouts`; function arguments get
    theirs as argument attributes. A dimension made of several factors (a
    reshape's) stays split only where the split is a block split: its
    factors before the first partially split one split to single elements,
    those after it whole; other splits are dropped and the op gathers them.
  }];
  let dependentDialects = ["dinfer::dist::DistDialect"];
}

def DistPartition : Pass<"dist-partition", "mlir::ModuleOp"> {
  let summary = "Per-rank local shapes and explicit collectives (one SPMD program per stage)";
  let description = [{
    Runs after `--dist-propagate`. Every value takes the local shape its
    layout gives one rank; parameters become `local` references to the
    slice they need (`dist.param ... {local}`); reshapes get local shapes;
    and every `dist.annotate` becomes the collectives that reach its layout:
    an `all_reduce` of a pending sum (sum, or max after a ReduceMax), an
    `all_gather` where a dimension loses its split, a `dist.local_split`
    (no communication) where it gains one, both where the device matrices
    differ, and one `all_to_all` where the same device axes move from one
    dimension to another. A Gather from a table whose rows (the vocabulary) are split
    becomes `nn.embedding_lookup` from the rank's first row
    (`dist.shard_offset`): zeros for rows the rank does not hold, and the
    pending sum propagation put on the result resolved by an `all_reduce`.
    A mean over split axes is each rank's mean of its slice scaled by one
    over the pieces, its sum left pending for the `all_reduce`.
    The program stays one function for every rank of the stage: the rank
    enters only through the parameter slices, shard offsets and the
    collectives' groups. What cannot be partitioned yet is an error at the
    op: a Gather along a split dimension other than a table's rows, an
    integer mean over a split axis, a dimension split over several axes that are not in
    major-first device order.
  }];
  let dependentDialects = ["dinfer::dist::DistDialect", "mlir::arith::ArithDialect"];
}

def DistSplitRanks : Pass<"dist-split-ranks", "mlir::ModuleOp"> {
  let summary = "One function per rank, with its stage's ops and its rank folded in";
  let description = [{
    Runs after `--dist-partition`. Replaces every partitioned function `@f`
    by one function per rank, `@f_rank<r>` (attributes `dist.rank` and
    `dist.stage`), holding only the ops of the rank's stage. The rank is
    folded in: every collective gets its `group`, the global ranks it runs
    among (`dist.group`), and a `dist.local_split` becomes the
    `nn.strided_slice` of this rank's piece, or, of a constant, a constant
    holding only that piece; a `dist.shard_offset` becomes its constant.
    Ops no longer used are removed.
    Functions of stages other than the last return nothing. An op without a
    stage in a pipelined module, or an op that reads a value of another stage
    other than through `dist.recv`, is an error: the stages must cover every
    op exactly once.
  }];
  let dependentDialects = ["dinfer::dist::DistDialect", "dinfer::nn::NNDialect",
                           "mlir::arith::ArithDialect"];
}

def DistMaterializeParams : Pass<"dist-materialize-params", "mlir::ModuleOp"> {
  let summary = "Bind every rank's parameters to the checkpoint bytes they are cut from";
  let description = [{
    Runs after `--dist-split-ranks`. The resharding planner maps the training
    layouts (`train-strategy`) and checkpoints (`ckpt-dir`, one `rank_<i>/`
    folder per training rank, the last `.ckpt` by name) to the layouts the
    program's parameters have, and binds each rank's `dist.param` to the boxes
    its slice is made of: `dist.sources`, one `{rank, offset, shape, at}` per
    box (a box of source rank `rank`'s tensor, placed at `at` in the slice),
    with the source files as the module's `dist.checkpoints`. The IR holds
    references, never bytes: `dinfer export` streams every slice from these
    boxes. A parameter no checkpoint holds, or a checkpoint slice that does not
    fit the program, is an error that names it.
  }];
  let options = [
    Option<"ckptDir", "ckpt-dir", "std::string", /*default=*/"", "The training checkpoints: rank_<i>/*.ckpt">,
    Option<"trainStrategy", "train-strategy", "std::string", /*default=*/"", "The training strategy file">
  ];
  let dependentDialects = ["dinfer::dist::DistDialect"];
}

def DistVerifySPMD : Pass<"dist-verify-spmd", "mlir::ModuleOp"> {
  let summary = "Prove that the per-rank functions communicate consistently";
  let description = [{
    Runs after `--dist-split-ranks`, before export. Checks that there is one
    function per rank of `dist.device_num`, that the ranks of a stage run the
    same ops on the same local types, and then plays the ranks' collectives
    and transfers against each other, each rank in its own order: a
    collective completes when every member of its group has reached a
    collective of the same kind, attributes and types over the same group; a
    `dist.send` completes with the `dist.recv` of its peer rank that has the
    same tag and type. When no rank can move and some have not finished, the
    pass fails naming the op each waiting rank is stuck at: a mismatched
    collective, a send without its receive, or an order that would deadlock.
  }];
  let dependentDialects = ["dinfer::dist::DistDialect"];
}

def TestDistShardingRules : Pass<"test-dist-sharding-rules", "mlir::func::FuncOp"> {
  let summary = "Report every op's sharding rule as a remark (for tests)";
  let description = [{
    Emits, on every op, a remark with its sharding rule in Shardy's notation,
    `([i, k], [k, j])->([i, j]) {i=8, j=16, k=32} reduction={k}`: per
    operand and result, the factors of each dimension (major first, `1` for a
    broadcast dimension without one), the factor sizes, and the factors that
    are summed over or must stay whole. Ops without a rule say so.
  }];
}

#endif // DINFER_TRANSFORMS_PASSES
