"""The output of MindSpore's old_version_mindir_2.mindir computed in numpy, with nothing of dinfer's.

The network, as MindSpore's test builds it: a batch-first nn.LSTM(10, 50) whose last step goes
through Dense(50, 4) and tanh. LSTM gates in torch's and MindSpore's order i, f, g, o. The weights
are read by name from the file's parameters (the wire-format reader of lenet_reference.py).
Usage: lstm_reference.py MODEL INPUTS.npy H.npy C.npy OUT.npy
"""

import sys

import numpy as np

from lenet_reference import fields, tensor


def named_parameters(model):
    graph = next(value for number, _, value in fields(model) if number == 7)
    found = {}
    for number, _, value in fields(graph):
        if number != 3:
            continue
        name = next((v.decode() for n, _, v in fields(value) if n == 7), None)
        t = tensor(value)
        if name is not None and t is not None:
            found[name.split(":")[-1]] = t.astype(np.float64)
    return found


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def main():
    model_path, x_path, h_path, c_path, output_path = sys.argv[1:6]
    with open(model_path, "rb") as f:
        p = named_parameters(f.read())
    x = np.load(x_path).astype(np.float64)            # [batch, seq, 10]
    h = np.load(h_path).astype(np.float64)[0]          # [batch, 50]
    c = np.load(c_path).astype(np.float64)[0]
    w_ih, w_hh = p["lstm.weight_ih_l0"], p["lstm.weight_hh_l0"]
    bias = p["lstm.bias_ih_l0"] + p["lstm.bias_hh_l0"]
    for t in range(x.shape[1]):
        i, f, g, o = np.split(x[:, t] @ w_ih.T + h @ w_hh.T + bias, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    y = np.tanh(h @ p["dense1.weight"].T + p["dense1.bias"])
    np.save(output_path, y.astype(np.float32))


if __name__ == "__main__":
    main()
