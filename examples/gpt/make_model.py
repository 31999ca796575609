#!/usr/bin/python3
"""Builds the example's GPT-style model with Debian's torch at a fixed seed and exports it:
model.onnx, the token ids x.npy and torch's own logits y.npy (committed beside this file, so the
example runs without torch).

    /usr/bin/python3 examples/gpt/make_model.py
"""
import os

import numpy as np
import torch
from torch import nn

VOCAB, D, HEADS, SEQ, LAYERS, BATCH = 512, 128, 4, 32, 2, 4


class Block(nn.Module):
    """A pre-norm decoder block: causal attention with separate Q, K, V, then a GeLU MLP."""

    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D)
        self.q, self.k, self.v, self.proj = (nn.Linear(D, D) for _ in range(4))
        self.ln2 = nn.LayerNorm(D)
        self.up = nn.Linear(D, 4 * D)
        self.down = nn.Linear(4 * D, D)
        self.register_buffer("mask", torch.triu(torch.full((SEQ, SEQ), -1e9), diagonal=1))

    def split(self, t):
        b, s, _ = t.shape
        return t.reshape(b, s, HEADS, D // HEADS).transpose(1, 2)

    def forward(self, x):
        b, s, _ = x.shape
        h = self.ln1(x)
        q, k, v = self.split(self.q(h)), self.split(self.k(h)), self.split(self.v(h))
        scores = q @ k.transpose(-1, -2) / (D // HEADS) ** 0.5 + self.mask
        x = x + self.proj((torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, s, D))
        return x + self.down(nn.functional.gelu(self.up(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    """Token and position embeddings, decoder blocks, a final norm and an LM head."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D)
        self.pos = nn.Parameter(torch.randn(SEQ, D) * 0.02)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.norm = nn.LayerNorm(D)
        self.head = nn.Linear(D, VOCAB, bias=False)

    def forward(self, ids):
        h = self.embed(ids) + self.pos
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h))


def name_folded_weights(path):
    """torch folds each Linear weight's transpose into an initializer named onnx::MatMul_<n>; name
    it after its module ("blocks.0.q.weight"), as the training checkpoint would."""
    import onnx
    model = onnx.load(path)
    renames = {}
    for node in model.graph.node:
        if node.op_type == "MatMul":
            for name in node.input:
                if name.startswith("onnx::MatMul_"):
                    module = node.name.strip("/").rsplit("/", 1)[0].replace("/", ".")
                    renames[name] = f"{module}.weight"
    for tensor in model.graph.initializer:
        tensor.name = renames.get(tensor.name, tensor.name)
    for node in model.graph.node:
        node.input[:] = [renames.get(name, name) for name in node.input]
    onnx.save(model, path)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    torch.manual_seed(2026)
    torch.set_num_threads(1)
    model = GPT().eval()
    # Trained norms are not all ones (torch's exporter would also merge identical initializers).
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.LayerNorm):
                module.weight.normal_(1.0, 0.05)
                module.bias.normal_(0.0, 0.02)
    ids = torch.randint(0, VOCAB, (BATCH, SEQ), generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        logits = model(ids)
    torch.onnx.export(model, (ids,), os.path.join(here, "model.onnx"), input_names=["x"], output_names=["y"],
                      opset_version=17)
    name_folded_weights(os.path.join(here, "model.onnx"))
    np.save(os.path.join(here, "x.npy"), ids.numpy())
    np.save(os.path.join(here, "y.npy"), logits.numpy())
    print(f"GPT: vocab {VOCAB}, d {D}, {HEADS} heads, {LAYERS} layers; input {list(ids.shape)} -> "
          f"logits {list(logits.shape)}; {sum(p.numel() for p in model.parameters())} parameters")


if __name__ == "__main__":
    main()
