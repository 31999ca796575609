#!/usr/bin/env python3
"""Writes node tests, in libonnx-testdata's layout, for what that suite lacks.

Debian's libonnx-testdata is ONNX 1.12's: it has no GroupNormalization
(opsets 18 and 21), Gelu (opset 20) or LpNormalization case, its If and Loop
tests take their condition and trip count as graph inputs, and it has one
default case each of 3-D pooling and transposed convolution, and two of
MaxPool's Indices; one block of convolutions checks the runtime's
channels-last activations. Each test here is a folder with model.onnx and
test_data_set_0/{input,output}_N.pb, its expected outputs computed with numpy
from the operator's definition, so run_node_tests.py runs them like ONNX's own.

Usage: make_extra_node_tests.py OUT_DIR
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(16)


def save(out, name, nodes, inputs, outputs, opset, initializers=()):
    """One test: `inputs` and `outputs` map names to arrays, in order."""
    def info(key, value):
        elem = helper.np_dtype_to_tensor_dtype(value.dtype) if hasattr(helper, "np_dtype_to_tensor_dtype") \
            else {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
                  np.dtype(np.bool_): TensorProto.BOOL}[value.dtype]
        return helper.make_tensor_value_info(key, elem, value.shape)

    graph = helper.make_graph(nodes, name, [info(k, v) for k, v in inputs.items()],
                              [info(k, v) for k, v in outputs.items()], initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="dinfer-tests")
    folder = os.path.join(out, name)
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    for kind, values in (("input", inputs), ("output", outputs)):
        for i, (key, value) in enumerate(values.items()):
            with open(os.path.join(data, "%s_%d.pb" % (kind, i)), "wb") as f:
                f.write(numpy_helper.from_array(value, key).SerializeToString())


def normal(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def group_norm(x, groups, scale, bias, eps):
    n, c = x.shape[:2]
    grouped = x.reshape(n, groups, -1).astype(np.float64)
    mean = grouped.mean(axis=2, keepdims=True)
    var = grouped.var(axis=2, keepdims=True)
    y = ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape)
    if scale.size == groups:  # opset 18: one scale per group
        scale, bias = np.repeat(scale, c // groups), np.repeat(bias, c // groups)
    ones = (1,) * (x.ndim - 2)
    return (y * scale.reshape(-1, *ones) + bias.reshape(-1, *ones)).astype(np.float32)


def group_normalization(out):
    cases = [("test_group_normalization_opset18", (2, 6, 3, 4), 3, 3, 18, 1e-5),
             ("test_group_normalization_opset18_epsilon", (3, 4, 2, 2, 2), 2, 2, 18, 1e-2),
             ("test_group_normalization_opset21", (2, 6, 5), 2, 6, 21, 1e-5),
             ("test_group_normalization_opset21_one_group", (1, 4, 3, 3), 1, 4, 21, 1e-3)]
    for name, shape, groups, scales, opset, eps in cases:
        x, scale, bias = normal(*shape), normal(scales), normal(scales)
        node = helper.make_node("GroupNormalization", ["x", "scale", "bias"], ["y"], num_groups=groups, epsilon=eps)
        save(out, name, [node], {"x": x, "scale": scale, "bias": bias},
             {"y": group_norm(x, groups, scale, bias, eps)}, opset)


def lp_normalization(out):
    for name, shape, attrs in [("test_lp_normalization_default", (3, 4, 5), {}),
                               ("test_lp_normalization_p1_axis0", (3, 4), {"p": 1, "axis": 0}),
                               ("test_lp_normalization_p2_axis1", (2, 3, 4), {"p": 2, "axis": 1}),
                               ("test_lp_normalization_p1_negative_axis", (2, 3, 4), {"p": 1, "axis": -2})]:
        x = normal(*shape)
        axis, p = attrs.get("axis", -1), attrs.get("p", 2)
        norm = np.abs(x).sum(axis=axis, keepdims=True) if p == 1 else np.sqrt((x * x).sum(axis=axis, keepdims=True))
        node = helper.make_node("LpNormalization", ["x"], ["y"], **attrs)
        save(out, name, [node], {"x": x}, {"y": (x / norm).astype(np.float32)}, 11)


def gelu(out):
    """Gelu (opset 20), exact and with its tanh approximation."""
    from math import erf, pi, sqrt
    x = normal(3, 7) * 3
    exact = 0.5 * x * (1 + np.vectorize(erf)(x.astype(np.float64) / sqrt(2)))
    tanh = 0.5 * x * (1 + np.tanh(sqrt(2 / pi) * (x.astype(np.float64) + 0.044715 * x.astype(np.float64) ** 3)))
    save(out, "test_gelu_default", [helper.make_node("Gelu", ["x"], ["y"])], {"x": x},
         {"y": exact.astype(np.float32)}, 20)
    save(out, "test_gelu_tanh", [helper.make_node("Gelu", ["x"], ["y"], approximate="tanh")], {"x": x},
         {"y": tanh.astype(np.float32)}, 20)


def constant_if(out):
    """If nodes whose condition folds at import: from the input's shape, and
    from an initializer; each branch reads the outer graph's values."""
    x = normal(2, 4)
    then_graph = helper.make_graph([helper.make_node("Relu", ["x"], ["then_y"])], "then", [],
                                   [helper.make_tensor_value_info("then_y", TensorProto.FLOAT, [2, 4])])
    offset = numpy_helper.from_array(np.full((4,), 0.5, np.float32), "offset")
    else_graph = helper.make_graph([helper.make_node("Add", ["x", "offset"], ["else_y"])], "else", [],
                                   [helper.make_tensor_value_info("else_y", TensorProto.FLOAT, [2, 4])],
                                   initializer=[offset])
    for expected_width, taken in ((4, True), (5, False)):
        nodes = [helper.make_node("Shape", ["x"], ["shape"]),
                 helper.make_node("Constant", [], ["one"], value=numpy_helper.from_array(np.array(1, np.int64))),
                 helper.make_node("Gather", ["shape", "one"], ["width"], axis=0),
                 helper.make_node("Constant", [], ["expected"],
                                  value=numpy_helper.from_array(np.array(expected_width, np.int64))),
                 helper.make_node("Equal", ["width", "expected"], ["cond"]),
                 helper.make_node("If", ["cond"], ["y"], then_branch=then_graph, else_branch=else_graph)]
        y = np.maximum(x, 0) if taken else x + 0.5
        save(out, "test_if_shape_condition_" + ("then" if taken else "else"), nodes, {"x": x},
             {"y": y.astype(np.float32)}, 13)
    cond = numpy_helper.from_array(np.array(False), "cond")
    save(out, "test_if_initializer_condition", [helper.make_node("If", ["cond"], ["y"], then_branch=then_graph,
                                                                   else_branch=else_graph)],
         {"x": x}, {"y": (x + 0.5).astype(np.float32)}, 13, initializers=[cond])


def constant_loop(out):
    """Loops whose trip count and condition fold at import, unrolled: one
    bounded by its trip count (from the input's shape), one stopped by the
    condition its body computes; both carry a value and scan another."""
    x = normal(5, 3)
    acc = normal(3)

    def body(stop_after):
        nodes = [helper.make_node("Gather", ["x", "i"], ["row"], axis=0),
                 helper.make_node("Add", ["acc_in", "row"], ["acc_out"]),
                 helper.make_node("Constant", [], ["two"], value=numpy_helper.from_array(np.array(2, np.float32))),
                 helper.make_node("Mul", ["acc_out", "two"], ["scan"])]
        if stop_after is None:
            nodes.append(helper.make_node("Identity", ["cond_in"], ["cond_out"]))
        else:
            nodes += [helper.make_node("Constant", [], ["last"],
                                       value=numpy_helper.from_array(np.array(stop_after, np.int64))),
                      helper.make_node("Less", ["i", "last"], ["cond_out"])]
        return helper.make_graph(
            nodes, "body",
            [helper.make_tensor_value_info("i", TensorProto.INT64, []),
             helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
             helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [3])],
            [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
             helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [3]),
             helper.make_tensor_value_info("scan", TensorProto.FLOAT, [3])])

    for name, stop_after, steps in (("test_loop_trip_count_from_shape", None, 5),
                                    ("test_loop_condition_from_body", 2, 3)):
        nodes = [helper.make_node("Shape", ["x"], ["shape"]),
                 helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(np.array(0, np.int64))),
                 helper.make_node("Gather", ["shape", "zero"], ["rows"], axis=0),
                 helper.make_node("Constant", [], ["go"], value=numpy_helper.from_array(np.array(True))),
                 helper.make_node("Loop", ["rows", "go", "acc"], ["total", "scanned"], body=body(stop_after))]
        partial = acc + np.cumsum(x[:steps].astype(np.float64), axis=0)
        save(out, name, nodes, {"x": x, "acc": acc},
             {"total": partial[-1].astype(np.float32), "scanned": (2 * partial).astype(np.float32)}, 13)


def pool_reference(x, kernel, strides, pads, dilations, ceil, mode, count_include_pad=False):
    """ONNX MaxPool/AveragePool by their definition: `pads` is [begin..., end...]."""
    spatial = len(kernel)
    begin, end = pads[:spatial], pads[spatial:]
    extents = []
    for d in range(spatial):
        span = (kernel[d] - 1) * dilations[d] + 1
        room = x.shape[2 + d] + begin[d] + end[d] - span
        out = -(-room // strides[d]) + 1 if ceil else room // strides[d] + 1
        if ceil and (out - 1) * strides[d] >= x.shape[2 + d] + begin[d]:
            out -= 1
        extents.append(out)
    y = np.zeros(x.shape[:2] + tuple(extents), np.float64)
    for o in np.ndindex(*extents):
        values, padded = [], 0
        for tap in np.ndindex(*kernel):
            index = [o[d] * strides[d] - begin[d] + tap[d] * dilations[d] for d in range(spatial)]
            if all(-begin[d] <= index[d] < x.shape[2 + d] + end[d] for d in range(spatial)):
                padded += 1
            if all(0 <= index[d] < x.shape[2 + d] for d in range(spatial)):
                values.append(x[(slice(None), slice(None)) + tuple(index)])
        stacked = np.stack(values)
        if mode == "max":
            y[(slice(None), slice(None)) + o] = stacked.max(axis=0)
        else:
            y[(slice(None), slice(None)) + o] = stacked.sum(axis=0) / (padded if count_include_pad else len(values))
    return y.astype(np.float32)


def pooling(out):
    cases = [("test_maxpool_3d_strides_pads", "MaxPool", (1, 2, 5, 6, 7), [3, 3, 2], [2, 2, 1], [1, 1, 0, 1, 1, 1],
              [1, 1, 1], 0, False),
             ("test_maxpool_3d_dilations_ceil", "MaxPool", (2, 1, 6, 6, 5), [2, 2, 2], [2, 2, 2], [0] * 6,
              [2, 1, 2], 1, False),
             ("test_averagepool_3d_pads_count_include_pad", "AveragePool", (1, 3, 4, 5, 6), [3, 3, 3], [1, 2, 2],
              [1, 1, 1, 1, 1, 1], [1, 1, 1], 0, True),
             ("test_averagepool_3d_ceil", "AveragePool", (1, 2, 5, 5, 5), [2, 2, 2], [2, 2, 2], [0] * 6,
              [1, 1, 1], 1, False),
             ("test_maxpool_1d_dilations", "MaxPool", (2, 3, 11), [3], [2], [1, 1], [2], 0, False),
             ("test_averagepool_2d_dilations", "AveragePool", (1, 2, 7, 8), [2, 3], [1, 2], [0, 1, 1, 0], [3, 2], 0,
              False)]
    for name, op, shape, kernel, strides, pads, dilations, ceil, include in cases:
        x = normal(*shape)
        attrs = dict(kernel_shape=kernel, strides=strides, pads=pads, ceil_mode=ceil)
        if dilations != [1] * len(kernel):
            attrs["dilations"] = dilations
        if op == "AveragePool":
            attrs["count_include_pad"] = int(include)
        y = pool_reference(x, kernel, strides, pads, dilations, ceil, "max" if op == "MaxPool" else "avg", include)
        save(out, name, [helper.make_node(op, ["x"], ["y"], **attrs)], {"x": x}, {"y": y}, 19 if op == "AveragePool"
             and dilations != [1] * len(kernel) else 12)


def max_indices_reference(x, kernel, strides, pads, dilations, ceil, storage_order):
    """MaxPool's second output: the flat index in x of each window's first
    largest value (storage_order 1 counts columns first)."""
    n, c, h, w = x.shape
    y = pool_reference(x, kernel, strides, pads, dilations, ceil, "max")
    z = np.zeros(y.shape, np.int64)
    for b, ch, r, q in np.ndindex(*y.shape):
        best = None
        for i, j in np.ndindex(*kernel):
            row, col = r * strides[0] - pads[0] + i * dilations[0], q * strides[1] - pads[1] + j * dilations[1]
            if 0 <= row < h and 0 <= col < w and (best is None or x[b, ch, row, col] > best[0]):
                best = (x[b, ch, row, col], row, col)
        _, row, col = best
        z[b, ch, r, q] = ((b * c + ch) * w + col) * h + row if storage_order else ((b * c + ch) * h + row) * w + col
    return y, z


def max_pool_indices(out):
    for name, shape, kernel, strides, pads, dilations, ceil, order in [
            ("test_maxpool_indices_pads_storage_order", (2, 2, 5, 6), [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], 0, 1),
            ("test_maxpool_indices_dilations_ceil", (1, 3, 7, 7), [2, 2], [2, 2], [0, 0, 0, 0], [2, 2], 1, 0)]:
        x = normal(*shape)
        y, z = max_indices_reference(x, kernel, strides, pads, dilations, ceil, order)
        attrs = dict(kernel_shape=kernel, strides=strides, pads=pads, ceil_mode=ceil, storage_order=order)
        if dilations != [1, 1]:
            attrs["dilations"] = dilations
        save(out, name, [helper.make_node("MaxPool", ["x"], ["y", "z"], **attrs)], {"x": x}, {"y": y, "z": z}, 12)


def conv_transpose_reference(x, w, strides, pads, dilations, output_padding, group):
    """ONNX ConvTranspose: every input element adds its products with the
    kernel to the output; then the pads are cut away."""
    spatial = x.ndim - 2
    cin, per_group = w.shape[0], w.shape[1]
    full = [(x.shape[2 + d] - 1) * strides[d] + (w.shape[2 + d] - 1) * dilations[d] + 1 + output_padding[d]
            for d in range(spatial)]
    y = np.zeros((x.shape[0], per_group * group) + tuple(full), np.float64)
    for g in range(group):
        ins = slice(g * cin // group, (g + 1) * cin // group)
        outs = slice(g * per_group, (g + 1) * per_group)
        for position in np.ndindex(*x.shape[2:]):
            for tap in np.ndindex(*w.shape[2:]):
                at = tuple(position[d] * strides[d] + tap[d] * dilations[d] for d in range(spatial))
                contribution = np.einsum("bc,co->bo", x[(slice(None), ins) + position].astype(np.float64),
                                         w[(ins, slice(None)) + tap].astype(np.float64))
                y[(slice(None), outs) + at] += contribution
    cut = tuple(slice(pads[d], full[d] - pads[spatial + d]) for d in range(spatial))
    return y[(slice(None), slice(None)) + cut].astype(np.float32)


def conv_transpose(out):
    cases = [("test_convtranspose_3d_strides_pads_groups", (1, 4, 3, 4, 3), (4, 2, 3, 2, 3), [2, 1, 2],
              [1, 0, 1, 0, 1, 1], [1, 1, 1], [1, 0, 1], 2),
             ("test_convtranspose_3d_dilations", (2, 2, 3, 3, 2), (2, 3, 2, 2, 2), [1, 2, 1], [0] * 6, [2, 1, 2],
              [0, 0, 0], 1)]
    for name, xs, ws, strides, pads, dilations, output_padding, group in cases:
        x, w, b = normal(*xs), normal(*ws), normal(ws[1] * group)
        y = conv_transpose_reference(x, w, strides, pads, dilations, output_padding, group)
        y += b.reshape((1, -1) + (1,) * (x.ndim - 2))
        node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], strides=strides, pads=pads,
                                dilations=dilations, output_padding=output_padding, group=group)
        save(out, name, [node], {"x": x, "w": w, "b": b}, {"y": y}, 11)


def conv_reference(x, w, b, pad, group):
    """ONNX Conv, 2-D, stride 1, symmetric pads."""
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, wd = x.shape
    o, per_group, kh, kw = w.shape
    oh, ow = h - kh + 1, wd - kw + 1
    y = np.zeros((n, o, oh, ow))
    for g in range(group):
        ins, outs = slice(g * per_group, (g + 1) * per_group), slice(g * o // group, (g + 1) * o // group)
        for i in range(kh):
            for j in range(kw):
                y[:, outs] += np.einsum("nchw,oc->nohw", x[:, ins, i:i + oh, j:j + ow], w[outs, :, i, j])
    return (y + b.reshape(1, -1, 1, 1)).astype(np.float32)


def channels_last_block(out):
    """A MobileNet/EfficientNet-style block whose activations the runtime keeps
    channels-last from one convolution to the next: a convolution and ReLU,
    squeeze-and-excitation (global pooling, 1x1 convolution, sigmoid, a
    per-channel product), a depthwise convolution, a residual add of two
    channels-last values, ReLU6 as Clip; outputs the block itself, its
    spatial mean and a reshape of it (each row-major again)."""
    x = normal(2, 4, 6, 6)
    w1, b1 = normal(8, 4, 3, 3), normal(8)
    w2, b2 = normal(8, 8, 1, 1), normal(8)
    w3, b3 = normal(8, 1, 3, 3), normal(8)
    c1 = np.maximum(conv_reference(x, w1, b1, 1, 1), 0)
    se = 1 / (1 + np.exp(-conv_reference(c1.mean(axis=(2, 3), keepdims=True), w2, b2, 0, 1).astype(np.float64)))
    m = (c1 * se).astype(np.float32)
    r = conv_reference(m, w3, b3, 1, 8) + c1
    block = np.clip(r, 0, 6).astype(np.float32)
    lo, hi = np.array(0, np.float32), np.array(6, np.float32)
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["c1"]),
             helper.make_node("GlobalAveragePool", ["c1"], ["g"]),
             helper.make_node("Conv", ["g", "w2", "b2"], ["s"]),
             helper.make_node("Sigmoid", ["s"], ["se"]),
             helper.make_node("Mul", ["c1", "se"], ["m"]),
             helper.make_node("Conv", ["m", "w3", "b3"], ["d"], pads=[1, 1, 1, 1], group=8),
             helper.make_node("Add", ["d", "c1"], ["r"]),
             helper.make_node("Clip", ["r", "lo", "hi"], ["block"]),
             helper.make_node("ReduceMean", ["block"], ["mean"], axes=[2, 3], keepdims=1),
             helper.make_node("Reshape", ["block", "flat_shape"], ["flat"])]
    initializers = [numpy_helper.from_array(v, k) for k, v in
                    {"w1": w1, "b1": b1, "w2": w2, "b2": b2, "w3": w3, "b3": b3, "lo": lo, "hi": hi,
                     "flat_shape": np.array([2, 288], np.int64)}.items()]
    # DenseNet's and MobileNet-V3's ops on the same data: a channel concat,
    # batch normalization, HardSwish and a 1x1 convolution; max pooling.
    d = conv_reference(m, w3, b3, 1, 8)
    cat = np.concatenate([c1, d], axis=1).astype(np.float64)
    gamma, beta, mu, var = normal(16), normal(16), normal(16), np.abs(normal(16)) + 0.5
    bn = (cat - mu.reshape(1, -1, 1, 1)) / np.sqrt(var.reshape(1, -1, 1, 1) + 1e-5) * gamma.reshape(1, -1, 1, 1) \
        + beta.reshape(1, -1, 1, 1)
    hs = (bn * np.clip(bn + 3, 0, 6) / 6).astype(np.float32)
    w4, b4 = normal(4, 16, 1, 1), normal(4)
    head = conv_reference(hs, w4, b4, 0, 1)
    pooled = block.reshape(2, 8, 3, 2, 3, 2).max(axis=(3, 5))
    nodes += [helper.make_node("Concat", ["c1", "d"], ["cat"], axis=1),
              helper.make_node("BatchNormalization", ["cat", "gamma", "beta", "mu", "var"], ["bn"]),
              helper.make_node("HardSwish", ["bn"], ["hs"]),
              helper.make_node("Conv", ["hs", "w4", "b4"], ["head"]),
              helper.make_node("MaxPool", ["block"], ["pooled"], kernel_shape=[2, 2], strides=[2, 2])]
    initializers += [numpy_helper.from_array(v, k) for k, v in
                     {"gamma": gamma, "beta": beta, "mu": mu, "var": var, "w4": w4, "b4": b4}.items()]
    # ConvNeXt's permutes around a spelled-out norm (Pow 2, Pow 0.5) and a
    # linear layer, then a convolution again.
    t = block.transpose(0, 2, 3, 1).astype(np.float64)
    normed = t / (np.sqrt((t ** 2).mean(axis=3, keepdims=True)) + 1e-3)
    wl, w5, b5 = normal(8, 8), normal(3, 8, 1, 1), normal(3)
    back = (normed @ wl).astype(np.float32).transpose(0, 3, 1, 2)
    convnext = conv_reference(back, w5, b5, 0, 1)
    nodes += [helper.make_node("Transpose", ["block"], ["t"], perm=[0, 2, 3, 1]),
              helper.make_node("Pow", ["t", "two"], ["sq"]),
              helper.make_node("ReduceMean", ["sq"], ["ms"], axes=[3], keepdims=1),
              helper.make_node("Pow", ["ms", "half"], ["rms"]),
              helper.make_node("Add", ["rms", "eps"], ["den"]),
              helper.make_node("Div", ["t", "den"], ["normed"]),
              helper.make_node("MatMul", ["normed", "wl"], ["lin"]),
              helper.make_node("Transpose", ["lin"], ["back"], perm=[0, 3, 1, 2]),
              helper.make_node("Conv", ["back", "w5", "b5"], ["convnext"])]
    initializers += [numpy_helper.from_array(v, k) for k, v in
                     {"two": np.array(2, np.float32), "half": np.array(0.5, np.float32),
                      "eps": np.array(1e-3, np.float32), "wl": wl, "w5": w5, "b5": b5}.items()]
    # Activations the runtime runs inside a convolution's own pass: ReLU6
    # (Clip after the bias) and SiLU spelled out as x · sigmoid(x).
    w6, b6, w7, b7 = normal(5, 4, 3, 3), normal(5), normal(5, 4, 1, 1), normal(5)
    relu6 = np.clip(conv_reference(x, w6, b6, 1, 1), 0, 6)
    cz = conv_reference(x, w7, b7, 0, 1).astype(np.float64)
    silu = (cz / (1 + np.exp(-cz))).astype(np.float32)
    nodes += [helper.make_node("Conv", ["x", "w6", "b6"], ["c6"], pads=[1, 1, 1, 1]),
              helper.make_node("Constant", [], ["lo6"], value=numpy_helper.from_array(np.array(0, np.float32))),
              helper.make_node("Constant", [], ["hi6"], value=numpy_helper.from_array(np.array(6, np.float32))),
              helper.make_node("Clip", ["c6", "lo6", "hi6"], ["relu6"]),
              helper.make_node("Conv", ["x", "w7", "b7"], ["cz"]),
              helper.make_node("Sigmoid", ["cz"], ["sz"]),
              helper.make_node("Mul", ["cz", "sz"], ["silu"])]
    initializers += [numpy_helper.from_array(v, k) for k, v in {"w6": w6, "b6": b6, "w7": w7, "b7": b7}.items()]
    save(out, "test_channels_last_block", nodes, {"x": x},
         {"block": block, "mean": block.astype(np.float64).mean(axis=(2, 3), keepdims=True).astype(np.float32),
          "flat": block.reshape(2, 288), "head": head, "pooled": pooled, "convnext": convnext, "relu6": relu6,
          "silu": silu}, 14, initializers)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    for make in (group_normalization, lp_normalization, gelu, constant_if, constant_loop, pooling, max_pool_indices,
                 conv_transpose, channels_last_block):
        make(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
