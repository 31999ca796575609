"""LeNet's output computed from MindSpore's own ori_net.mindir in numpy, with nothing of dinfer's.

The MindIR is read with a protobuf wire-format decoder of a few lines (field numbers of
mind_ir.proto: ModelProto.graph = 7; GraphProto.node = 1, .parameter = 3; NodeProto.op_type = 4,
.attribute = 5; AttributeProto.t = 6, .tensors = 12; TensorProto.dims = 1, .data_type = 2,
.name = 7, .raw_data = 9), and the network is LeNet as MindSpore's test builds it: two valid
5x5 convolutions each with ReLU and 2x2 max pooling, then three dense layers, ReLU between them.
Usage: lenet_reference.py MODEL INPUT.npy OUT.npy
"""

import sys

import numpy as np


def varint(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def fields(data):
    """(field number, wire type, value) of a message: ints for varints, bytes otherwise."""
    pos = 0
    while pos < len(data):
        key, pos = varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(data, pos)
        elif wire == 2:
            length, pos = varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def tensor(message):
    dims, raw, data_type = [], None, None
    for number, wire, value in fields(message):
        if number == 1:
            if wire == 2:  # packed
                pos = 0
                while pos < len(value):
                    d, pos = varint(value, pos)
                    dims.append(d)
            else:
                dims.append(value)
        elif number == 2:
            data_type = value
        elif number == 9:
            raw = value
    if raw is None or data_type != 1:  # FLOAT
        return None
    return np.frombuffer(raw, dtype="<f4").reshape(dims)


def weights(model):
    """Every float tensor of the graph: its parameters and the tensors its nodes' attributes hold."""
    found = []
    graph = next(value for number, _, value in fields(model) if number == 7)
    for number, _, value in fields(graph):
        if number == 3:
            t = tensor(value)
            if t is not None:
                found.append(t)
        elif number == 1:
            for n, _, attribute in fields(value):
                if n != 5:
                    continue
                for a, _, held in fields(attribute):
                    if a in (6, 12):
                        t = tensor(held)
                        if t is not None:
                            found.append(t)
    return found


def by_shape(tensors, shape):
    matches = [t for t in tensors if t.shape == shape]
    assert len(matches) == 1, (shape, [t.shape for t in tensors])
    return matches[0]


def conv_valid(x, w):
    n, c, h, width = x.shape
    k, _, r, s = w.shape
    out = np.zeros((n, k, h - r + 1, width - s + 1), np.float64)
    for i in range(r):
        for j in range(s):
            patch = x[:, :, i:i + h - r + 1, j:j + width - s + 1]
            out += np.einsum("nchw,kc->nkhw", patch, w[:, :, i, j])
    return out


def max_pool_2x2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def main():
    model_path, input_path, output_path = sys.argv[1:4]
    with open(model_path, "rb") as f:
        tensors = weights(f.read())
    x = np.load(input_path).astype(np.float64)
    relu = lambda v: np.maximum(v, 0)
    y = max_pool_2x2(relu(conv_valid(x, by_shape(tensors, (6, 1, 5, 5)).astype(np.float64))))
    y = max_pool_2x2(relu(conv_valid(y, by_shape(tensors, (16, 6, 5, 5)).astype(np.float64))))
    y = y.reshape(y.shape[0], -1)
    y = relu(y @ by_shape(tensors, (400, 120)))
    y = relu(y @ by_shape(tensors, (120, 84)))
    y = y @ by_shape(tensors, (84, 10))
    np.save(output_path, y.astype(np.float32))


if __name__ == "__main__":
    main()
