"""Inputs and numpy references of the interp-*.mlir programs: writes
DIR/<name>.npy for every input and DIR/ref_<output>.npy for every output."""

import sys

import numpy as np

program, folder = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(2026)

if program == "mlp":
    x = (np.arange(12, dtype=np.float32).reshape(3, 4) / 5 - 1).astype(np.float32)
    w1 = np.array([[0.5, -1.0, 0.25], [1.0, 0.5, -0.5], [-0.25, 2.0, 1.0], [0.75, 0.0, -1.5]], np.float32)
    b1 = np.array([0.1, -0.2, 0.3], np.float32)
    w2 = np.array([[1.0, -1.0], [0.5, 2.0], [-2.0, 0.25]], np.float32)
    y = np.maximum(x @ w1 + b1, 0) @ w2
    arrays = {"x": x, "ref_y": y, "ref_colsum": y.sum(axis=0)}
elif program == "attention":
    q, k, v = (rng.standard_normal((2, 4, 8)).astype(np.float32) for _ in range(3))
    s = q @ k.transpose(0, 2, 1) * np.float32(0.35355339)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    o = p @ v
    arrays = {"q": q, "k": k, "v": v, "ref_out": o / (1 + np.exp(-o))}
elif program == "elementwise":
    x = np.array([-5.5, -3.0, -2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5, 3.0, 4.75, -0.25] * 2, np.float32).reshape(4, 6)
    y = np.array([2.0, -3.0, 1.5, -1.0, 4.0, 0.75], np.float32)
    softplus = np.log1p(np.exp(x.astype(np.float64)))
    arrays = {"x": x, "y": y, "ref_mish": x * np.tanh(softplus), "ref_softplus": softplus,
              "ref_hswish": x * np.clip(x + 3, 0, 6) / 6, "ref_sign": np.sign(x), "ref_round": np.round(x),
              "ref_floor_mod": np.mod(x, y), "ref_mod": np.fmod(x, y),
              "ref_picked": np.where(x > y, np.maximum(x, y), x)}
else:
    sys.exit(f"unknown program {program}")

for name, array in arrays.items():
    np.save(f"{folder}/{name}.npy", np.asarray(array, np.float32))
