"""Writes a float16 copy of an ONNX model, its input and its reference, as
users get them from `model.half()` exports: to_float16.py MODEL X Y OUT_DIR
(Y may be "-": no reference).
Every float32 initializer, constant, graph input, output and value becomes
float16, and casts to float32 become casts to float16; integer inputs stay."""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper, TensorProto

model_path, x_path, y_path, out = sys.argv[1:5]
os.makedirs(out, exist_ok=True)
model = onnx.load(model_path)
graph = model.graph


def halved(tensor):
    # As onnxconverter-common does: finite values beyond float16's range
    # (masks of -3.4e38) clamp to its largest, infinities stay.
    values = numpy_helper.to_array(tensor)
    finite = np.isfinite(values)
    values = np.where(finite, np.clip(values, -65504, 65504), values)
    return numpy_helper.from_array(values.astype(np.float16), tensor.name)


for i, tensor in enumerate(graph.initializer):
    if tensor.data_type == TensorProto.FLOAT:
        graph.initializer[i].CopyFrom(halved(tensor))
for value in list(graph.input) + list(graph.output) + list(graph.value_info):
    if value.type.tensor_type.elem_type == TensorProto.FLOAT:
        value.type.tensor_type.elem_type = TensorProto.FLOAT16
for node in graph.node:
    for attribute in node.attribute:
        if node.op_type == "Cast" and attribute.name == "to" and attribute.i == TensorProto.FLOAT:
            attribute.i = TensorProto.FLOAT16
        if attribute.type == onnx.AttributeProto.TENSOR and attribute.t.data_type == TensorProto.FLOAT:
            attribute.t.CopyFrom(halved(attribute.t))
onnx.save(model, os.path.join(out, "model.onnx"))
x = np.load(x_path)
np.save(os.path.join(out, "x.npy"), x.astype(np.float16) if x.dtype == np.float32 else x)
if y_path != "-":
    np.save(os.path.join(out, "y.npy"), np.load(y_path).astype(np.float16))
