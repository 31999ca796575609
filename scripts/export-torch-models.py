#!/usr/bin/python3
"""Exports the small models that test/models holds, with Debian's torch at a
fixed seed: the ONNX file, one input and torch's own outputs as .npy files.

    /usr/bin/python3 scripts/export-torch-models.py [--out test/models] [--only NAME]

CI never runs this: the files it writes are committed. Rerun it only to change
a model; the outputs then change too (torch's kernels decide the last bits).
"""
import argparse
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from model_zoo import build_llama, build_llama_cached  # noqa: E402


class MLP(nn.Module):
    def __init__(self, d=64, hidden=256, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(d, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, classes)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.nn.functional.gelu(self.fc2(x))
        return torch.log_softmax(self.fc3(x), dim=-1)


class Encoder(nn.Module):
    """A post-norm transformer encoder as torch writes it (packed QKV)."""

    def __init__(self, d=256, heads=4, ffn=1024, layers=2):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d, heads, ffn, dropout=0.0, activation="gelu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, x):
        return self.encoder(x)


class GPTBlock(nn.Module):
    """One pre-norm decoder block with a causal mask and separate Q, K, V."""

    def __init__(self, d=128, heads=4, seq=32):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.up = nn.Linear(d, 4 * d)
        self.down = nn.Linear(4 * d, d)
        mask = torch.triu(torch.full((seq, seq), -1e9), diagonal=1)
        self.register_buffer("mask", mask)

    def split(self, t):
        b, s, d = t.shape
        return t.reshape(b, s, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x):
        b, s, d = x.shape
        h = self.ln1(x)
        q, k, v = self.split(self.q(h)), self.split(self.k(h)), self.split(self.v(h))
        scores = q @ k.transpose(-1, -2) / (d // self.heads) ** 0.5 + self.mask
        attention = torch.softmax(scores, dim=-1) @ v
        x = x + self.proj(attention.transpose(1, 2).reshape(b, s, d))
        return x + self.down(nn.functional.gelu(self.up(self.ln2(x)), approximate="tanh"))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(32 * 4 * 4, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


class TiedGPT(nn.Module):
    """Token embedding, pre-norm MLP blocks, and logits through the same (tied) embedding table."""

    def __init__(self, vocab=64, d=32, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList([
            nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"), nn.Linear(4 * d, d))
            for _ in range(layers)
        ])
        self.norm = nn.LayerNorm(d)

    def forward(self, ids):
        h = self.embed(ids)
        for block in self.blocks:
            h = h + block(h)
        return self.norm(h) @ self.embed.weight.t()


class SequenceTagger(nn.Module):
    """Recurrent layers as torch exports them: a two-layer bidirectional LSTM,
    a GRU and an Elman RNN over batch-first sequences, then a per-step head."""

    def __init__(self, d=16, hidden=24, classes=5):
        super().__init__()
        self.lstm = nn.LSTM(d, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.gru = nn.GRU(2 * hidden, hidden, batch_first=True)
        self.rnn = nn.RNN(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        x, _ = self.lstm(x)
        x, _ = self.gru(x)
        x, _ = self.rnn(x)
        return self.head(x)


def TinyViT():
    """torchvision's VisionTransformer, small: sequence-first attention (the
    batch in dimension 1) and, at opset 14, layer norms spelled out."""
    from torchvision.models.vision_transformer import VisionTransformer
    return VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=128,
                             num_classes=10)


# Larger models for benchmarks only (bench/encoder_vs_ort.py): not committed.
BENCH_MODELS = {
    "encoder_4x512": (lambda: Encoder(d=512, heads=8, ffn=2048, layers=4), (1, 64, 512)),
}

MODELS = {
    # name: (factory, input shape)
    "mlp": (MLP, (8, 64)),
    "encoder": (Encoder, (1, 64, 256)),
    "gpt_block": (GPTBlock, (2, 32, 128)),
    "cnn": (CNN, (2, 3, 16, 16)),
    "gpt_tied": (TiedGPT, (2, 8)),
    "vit_tiny": (TinyViT, (2, 3, 32, 32)),
    "seq_tagger": (SequenceTagger, (4, 12, 16)),
    # Grouped-query attention: 8 query heads over 2 KV heads (tensor parallel 4 replicates each KV head twice).
    "llama_tiny": (lambda: build_llama(vocab=128, d=64, heads=8, kv_heads=2, ffn=172, layers=2), (2, 16)),
    # The same with packed projections: Q, K and V in one weight of unequal
    # parts, gate and up in one (each split per head / per column by dinfer).
    "llama_fused": (lambda: build_llama(fused=True, vocab=128, d=64, heads=8, kv_heads=2, ffn=172, layers=2),
                    (2, 16)),
}

# Models exported at an older opset than 17 (LayerNormalization spelled out).
OPSETS = {"vit_tiny": 14}

# Models whose input is token ids (int64 in [0, vocab)) rather than floats.
TOKEN_MODELS = {"gpt_tied": 64, "llama_tiny": 128, "llama_fused": 128}
# Folding would store the tied table's transpose as a second weight.
UNFOLDED = {"gpt_tied"}


# Decoders with a key/value cache (dinfer generate): the ONNX model, a prompt
# and the tokens torch's own greedy loop makes from it.
DECODERS = {
    # 4 query heads over 2 KV heads: 4 tensor-parallel ranks replicate each KV head twice.
    "llama_cache": (lambda: build_llama_cached(vocab=256, d=64, heads=4, kv_heads=2, ffn=160, layers=2), (2, 5), 8),
}


def export_decoder(name, out):
    factory, shape, new_tokens = DECODERS[name]
    torch.manual_seed(1234)
    model = factory().eval()
    prompt = torch.randint(0, model.base.head.out_features, shape, generator=torch.Generator().manual_seed(99))
    tokens = model.greedy(prompt, new_tokens)
    path = os.path.join(out, name)
    os.makedirs(path, exist_ok=True)
    model.export(os.path.join(path, "model.onnx"))
    np.save(os.path.join(path, "prompt.npy"), prompt.numpy())
    np.save(os.path.join(path, "tokens.npy"), tokens.numpy())
    print(f"{name}: prompt {list(shape)} + {new_tokens} greedy tokens")


def export(name, out):
    if name in DECODERS:
        return export_decoder(name, out)
    factory, shape = {**MODELS, **BENCH_MODELS}[name]
    torch.manual_seed(1234)
    model = factory().eval()
    if name == "cnn":  # non-trivial running statistics
        with torch.no_grad():
            model.bn1.running_mean.uniform_(-0.5, 0.5)
            model.bn1.running_var.uniform_(0.5, 1.5)
    if name == "vit_tiny":
        # torchvision zeroes the classifier; the zero biases and unit norm
        # weights stay, so the exporter shares one initializer among them.
        with torch.no_grad():
            for p in model.heads.parameters():
                p.normal_(0.0, 0.5)
    if name in TOKEN_MODELS:
        x = torch.randint(0, TOKEN_MODELS[name], shape, generator=torch.Generator().manual_seed(99))
    else:
        x = torch.randn(*shape, generator=torch.Generator().manual_seed(99))
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out, name)
    os.makedirs(path, exist_ok=True)
    torch.onnx.export(model, (x,), os.path.join(path, "model.onnx"), input_names=["x"], output_names=["y"],
                      opset_version=OPSETS.get(name, 17),
                      do_constant_folding=name not in UNFOLDED)
    np.save(os.path.join(path, "x.npy"), x.numpy())
    np.save(os.path.join(path, "y.npy"), y.numpy())
    print(f"{name}: input {list(shape)} -> output {list(y.shape)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "test", "models"))
    parser.add_argument("--only", choices=sorted({**MODELS, **BENCH_MODELS, **DECODERS}))
    parser.add_argument("--bench", action="store_true", help="export the benchmark models instead")
    args = parser.parse_args()
    torch.set_num_threads(1)
    names = [args.only] if args.only else (BENCH_MODELS if args.bench else list(MODELS) + list(DECODERS))
    for name in names:
        export(name, args.out)


if __name__ == "__main__":
    sys.exit(main())
