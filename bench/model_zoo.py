#!/usr/bin/python3
"""The real-models zoo: architectures exported by Debian's torch and
torchvision (random weights at a fixed seed, no downloads), each run with
`dinfer run` and with ONNX Runtime (npm onnxruntime-node) on the same input,
one after the other in one run. Prints per model whether dinfer imports and
runs it, the largest difference from ONNX Runtime relative to the output's
largest magnitude, both medians and both peak resident set sizes (GNU
time: each whole process, ORT's including node). The two take turns ROUNDS
times per model (each a process timing RUNS runs after its warm-up, or as
many more as fill MIN_MS after the first round: a 1 ms model timed 10 times
is timed for 10 ms, and one scheduler hiccup moves its median); each side's
time is the median of its round medians, so that a burst of load on a
shared machine does not land on one side only.

    /usr/bin/python3 bench/model_zoo.py [--work DIR] [--only NAME,...] [--threads T] [--runs N] [--rounds R]
                                        [--min-ms MS] [--markdown] [--whole-way] [--bf16] [--float16]

With --float16 every model is first converted to float16 as a
`model.half()` export is (test/models/to_float16.py: weights, input, output
and values), and both sides run that file; the table's difference is from
ONNX Runtime's float16 output, and a last line gives the largest difference
from ONNX Runtime's float32 output of the float32 model.

With --bf16 each model also runs with `dinfer run --dtype bfloat16`: the
table adds its median, its speed over dinfer's float32 and its largest
difference from the float32 output (relative to that output's largest
magnitude).

Needs python3-torchvision (export) and `npm install` in bench/ort (the
reference). The exported models (up to 350 MB each) stay in --work, which is
reused: delete it to export again. Exit status 1 when a model fails or
differs, so that the table can gate a change.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOLERANCE = 1e-3  # of the output's largest magnitude: float32 rounding over ~50 layers


def build_llama(fused=False, **sizes):
    """A LLaMA-style decoder: RMSNorm, rotary positions, grouped-query
    attention (8 query heads over 2 KV heads), SiLU-gated MLP, causal mask.
    `sizes` overrides Llama's (vocab, d, heads, kv_heads, ffn, layers).
    `fused`: Q, K and V in one weight cut by split (unequal parts, as Phi-3 and
    GPT-NeoX store them) and gate and up in one weight cut by chunk."""
    import torch
    from torch import nn

    class RMSNorm(nn.Module):
        def __init__(self, d, eps=1e-6):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(torch.ones(d) + 0.1 * torch.randn(d))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight

    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    class Attention(nn.Module):
        def __init__(self, d, heads, kv_heads):
            super().__init__()
            self.heads, self.kv_heads, self.head_dim = heads, kv_heads, d // heads
            if fused:
                self.qkv = nn.Linear(d, d + 2 * kv_heads * self.head_dim, bias=False)
            else:
                self.q = nn.Linear(d, d, bias=False)
                self.k = nn.Linear(d, kv_heads * self.head_dim, bias=False)
                self.v = nn.Linear(d, kv_heads * self.head_dim, bias=False)
            self.o = nn.Linear(d, d, bias=False)

        def forward(self, x, cos, sin, mask):
            b, t, d = x.shape
            if fused:
                kv = self.kv_heads * self.head_dim
                q, k, v = self.qkv(x).split([d, kv, kv], dim=-1)
            else:
                q, k, v = self.q(x), self.k(x), self.v(x)
            q = q.view(b, t, self.heads, self.head_dim).transpose(1, 2)
            k = k.view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
            v = v.view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            # Hugging Face's repeat_kv: each KV head serves `groups` query heads.
            groups = self.heads // self.kv_heads
            k = k[:, :, None].expand(b, self.kv_heads, groups, t, self.head_dim).reshape(b, self.heads, t, -1)
            v = v[:, :, None].expand(b, self.kv_heads, groups, t, self.head_dim).reshape(b, self.heads, t, -1)
            scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + mask
            out = torch.softmax(scores, dim=-1) @ v
            return self.o(out.transpose(1, 2).reshape(b, t, -1))

    class Block(nn.Module):
        def __init__(self, d, heads, kv_heads, ffn):
            super().__init__()
            self.norm1, self.norm2 = RMSNorm(d), RMSNorm(d)
            self.attn = Attention(d, heads, kv_heads)
            if fused:
                self.gate_up = nn.Linear(d, 2 * ffn, bias=False)
            else:
                self.gate = nn.Linear(d, ffn, bias=False)
                self.up = nn.Linear(d, ffn, bias=False)
            self.down = nn.Linear(ffn, d, bias=False)

        def forward(self, x, cos, sin, mask):
            x = x + self.attn(self.norm1(x), cos, sin, mask)
            h = self.norm2(x)
            if fused:
                gate, up = self.gate_up(h).chunk(2, dim=-1)
            else:
                gate, up = self.gate(h), self.up(h)
            return x + self.down(torch.nn.functional.silu(gate) * up)

    class Llama(nn.Module):
        def __init__(self, vocab=1000, d=256, heads=8, kv_heads=2, ffn=688, layers=2):
            super().__init__()
            self.embed = nn.Embedding(vocab, d)
            self.blocks = nn.ModuleList(Block(d, heads, kv_heads, ffn) for _ in range(layers))
            self.norm = RMSNorm(d)
            self.head = nn.Linear(d, vocab, bias=False)
            self.head_dim = d // heads

        def forward(self, input_ids):
            t = input_ids.shape[1]
            positions = torch.arange(t, dtype=torch.float32)
            inv = 1.0 / (10000 ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim))
            angles = positions[:, None] * inv[None, :]
            angles = torch.cat((angles, angles), dim=-1)
            cos, sin = angles.cos(), angles.sin()
            mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
            x = self.embed(input_ids)
            for block in self.blocks:
                x = block(x, cos, sin, mask)
            return self.head(self.norm(x))

    return Llama(**sizes)


def build_llama_cached(vocab=1000, d=256, heads=8, kv_heads=2, ffn=688, layers=2):
    """build_llama's decoder in the Hugging Face/Optimum key/value-cache
    convention, as `dinfer generate` takes it: forward(input_ids [B, T],
    attention_mask [B, P+T], position_ids [B, T], past_key_values.<i>.key|value
    [B, KV, P, Dh] for every layer) -> (logits [B, T, V], present.<i>.key|value
    [B, KV, P+T, Dh]). Rotary angles come from position_ids; key j is visible
    to query i when attention_mask says so and j <= P + i."""
    import torch
    from torch import nn

    base = build_llama(vocab=vocab, d=d, heads=heads, kv_heads=kv_heads, ffn=ffn, layers=layers)
    head_dim = d // heads

    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def attention(attn, x, cos, sin, bias, past_k, past_v):
        b, t, _ = x.shape
        q = attn.q(x).view(b, t, attn.heads, head_dim).transpose(1, 2)
        k = attn.k(x).view(b, t, attn.kv_heads, head_dim).transpose(1, 2)
        v = attn.v(x).view(b, t, attn.kv_heads, head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat((past_k, k), dim=2)
        v = torch.cat((past_v, v), dim=2)
        present = (k, v)
        groups = attn.heads // attn.kv_heads
        s = k.shape[2]
        k = k[:, :, None].expand(b, attn.kv_heads, groups, s, head_dim).reshape(b, attn.heads, s, head_dim)
        v = v[:, :, None].expand(b, attn.kv_heads, groups, s, head_dim).reshape(b, attn.heads, s, head_dim)
        scores = q @ k.transpose(-1, -2) / math.sqrt(head_dim) + bias
        out = torch.softmax(scores, dim=-1) @ v
        return attn.o(out.transpose(1, 2).reshape(b, t, -1)), present

    class CachedLlama(nn.Module):
        def __init__(self):
            super().__init__()
            self.base = base
            self.layers = layers

        def forward(self, input_ids, attention_mask, position_ids, *past):
            t, p = input_ids.shape[1], past[0].shape[2]
            inv = 1.0 / (10000 ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
            angles = position_ids.to(torch.float32)[:, :, None] * inv[None, None, :]
            angles = torch.cat((angles, angles), dim=-1)[:, None]
            cos, sin = angles.cos(), angles.sin()
            keys = torch.arange(p + t)[None, :]
            queries = torch.arange(t)[:, None] + p
            visible = (keys <= queries)[None, None] & (attention_mask[:, None, None, :] > 0)
            bias = (1.0 - visible.to(torch.float32)) * -1e9
            x = self.base.embed(input_ids)
            presents = []
            for i, block in enumerate(self.base.blocks):
                h, present = attention(block.attn, block.norm1(x), cos, sin, bias, past[2 * i], past[2 * i + 1])
                x = x + h
                h = block.norm2(x)
                x = x + block.down(torch.nn.functional.silu(block.gate(h)) * block.up(h))
                presents.extend(present)
            return (self.base.head(self.base.norm(x)), *presents)

        def cache_names(self):
            inputs, outputs = [], []
            for i in range(layers):
                for kind in ("key", "value"):
                    inputs.append("past_key_values.%d.%s" % (i, kind))
                    outputs.append("present.%d.%s" % (i, kind))
            return inputs, outputs

        def empty_cache(self, batch):
            return [torch.zeros(batch, kv_heads, 0, head_dim) for _ in range(2 * layers)]

        def greedy(self, input_ids, new_tokens):
            """torch's own greedy loop: `present` fed back as `past`, no padding."""
            tokens, past = input_ids, self.empty_cache(input_ids.shape[0])
            step = input_ids
            with torch.no_grad():
                for _ in range(new_tokens):
                    p, t = past[0].shape[2], step.shape[1]
                    mask = torch.ones(step.shape[0], p + t, dtype=torch.int64)
                    positions = torch.arange(p, p + t)[None].expand(step.shape[0], t)
                    outputs = self(step, mask, positions, *past)
                    step = outputs[0][:, -1].argmax(-1, keepdim=True)
                    past = list(outputs[1:])
                    tokens = torch.cat((tokens, step), dim=1)
            return tokens

        def export(self, path, opset=14):
            """ONNX with symbolic batch, sequence and past length."""
            b, t, p = 2, 3, 2
            ids = torch.zeros(b, t, dtype=torch.int64)
            mask = torch.ones(b, p + t, dtype=torch.int64)
            positions = torch.arange(p, p + t)[None].expand(b, t)
            past = [torch.randn(b, kv_heads, p, head_dim) for _ in range(2 * layers)]
            inputs, outputs = self.cache_names()
            axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "total"},
                    "position_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}}
            for name in inputs:
                axes[name] = {0: "batch", 2: "past"}
            for name in outputs:
                axes[name] = {0: "batch", 2: "total"}
            torch.onnx.export(self, (ids, mask, positions, *past), path, opset_version=opset,
                              input_names=["input_ids", "attention_mask", "position_ids"] + inputs,
                              output_names=["logits"] + outputs, dynamic_axes=axes)

    return CachedLlama()


def build_encoder():
    import torch
    from torch import nn

    class Encoder(nn.Module):
        """torch's own TransformerEncoderLayer (packed in_proj, post-norm)."""

        def __init__(self, d=512, heads=8, ffn=2048, layers=2):
            super().__init__()
            layer = nn.TransformerEncoderLayer(d, heads, ffn, dropout=0.0, activation="gelu", batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

        def forward(self, x):
            return self.encoder(x)

    return Encoder()


def vision(name):
    def build():
        import torchvision
        return getattr(torchvision.models, name)(weights=None)
    return build


# name -> (builder, input name, input shape, input dtype)
ZOO = {
    "resnet50": (vision("resnet50"), "x", (1, 3, 224, 224), "float32"),
    "mobilenet_v2": (vision("mobilenet_v2"), "x", (1, 3, 224, 224), "float32"),
    "mobilenet_v3_large": (vision("mobilenet_v3_large"), "x", (1, 3, 224, 224), "float32"),
    "efficientnet_b0": (vision("efficientnet_b0"), "x", (1, 3, 224, 224), "float32"),
    "densenet121": (vision("densenet121"), "x", (1, 3, 224, 224), "float32"),
    "convnext_tiny": (vision("convnext_tiny"), "x", (1, 3, 224, 224), "float32"),
    "vit_b_16": (vision("vit_b_16"), "x", (1, 3, 224, 224), "float32"),
    "swin_t": (vision("swin_t"), "x", (1, 3, 224, 224), "float32"),
    "transformer_encoder": (build_encoder, "x", (1, 128, 512), "float32"),
    "llama_decoder": (build_llama, "input_ids", (1, 32), "int64"),
}


def export(name, folder, batch=None):
    """model.onnx and input.npy of one zoo model, made once (with another
    batch size when given)."""
    model_path, input_path = os.path.join(folder, "model.onnx"), os.path.join(folder, "input.npy")
    if os.path.exists(model_path) and os.path.exists(input_path):
        return model_path, input_path
    import torch
    os.makedirs(folder, exist_ok=True)
    builder, input_name, shape, dtype = ZOO[name]
    if batch:
        shape = (batch,) + tuple(shape[1:])
    torch.manual_seed(0)
    model = builder().eval()
    # Constant-initialised tensors (zero classifier heads, unit norms) get
    # noise, so that every output depends on every layer.
    with torch.no_grad():
        for p in model.parameters():
            if p.numel() > 1 and bool((p == p.flatten()[0]).all()):
                p.add_(0.02 * torch.randn_like(p))
    rng = np.random.default_rng(0)
    if dtype == "int64":
        data = rng.integers(0, 1000, size=shape, dtype=np.int64)
    else:
        data = rng.standard_normal(shape, dtype=np.float32)
    # Grad stays enabled: torch's fused attention fast path has no ONNX form.
    torch.onnx.export(model, (torch.from_numpy(data),), model_path + ".tmp", input_names=[input_name],
                      output_names=["y"], opset_version=14, do_constant_folding=True)
    os.replace(model_path + ".tmp", model_path)
    np.save(input_path, data)
    return model_path, input_path


def measured(cmd):
    """Runs `cmd` under GNU time: (completed process, peak RSS in MiB)."""
    with tempfile.NamedTemporaryFile(suffix=".rss") as rss:
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name] + cmd, capture_output=True, text=True)
        text = open(rss.name).read().strip().splitlines()
    peak = int(text[-1]) / 1024 if text and text[-1].isdigit() else None
    return done, peak


def run_dinfer(dinfer, model, input_name, input_path, out_dir, threads, runs, dtype="float32"):
    """(median ms, peak RSS MiB, error)"""
    cmd = [dinfer, "run", model, "--input", "%s=%s" % (input_name, input_path), "--output-dir", out_dir,
           "--threads", str(threads), "--repeat", str(runs), "--dtype", dtype]
    began = time.time()
    done, peak = measured(cmd)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        return None, None, message[-1] if message else "exit %d" % done.returncode
    timing = re.search(r"median ([0-9.]+) ms", done.stdout + done.stderr)
    return (float(timing.group(1)) if timing else (time.time() - began) * 1000), peak, None


def run_ort(model, input_name, input_path, out_path, threads, runs):
    """(median ms, peak RSS MiB, error); node's own heap included, as a user of onnxruntime-node pays it."""
    script = os.path.join(ROOT, "bench", "ort", "run_ort.js")
    done, peak = measured(["node", script, model, "%s=%s" % (input_name, input_path), str(threads), str(runs),
                           "y=%s" % out_path])
    if done.returncode != 0:
        return None, None, (done.stderr or done.stdout).strip()
    return json.loads(done.stdout.strip().splitlines()[-1])["median_ms"], peak, None


WHOLE_WAY = ["llama_decoder", "vit_b_16"]


def whole_way(dinfer, name, folder, input_name):
    """Trained as Megatron tp=2 (x dp=2) on 4 devices (strategy and slices
    written by dinfer), exported for 2 devices, run from the export folder:
    the answer must equal the single-device run's. The model is exported
    again with batch 2, which data parallelism splits. Returns (ok, message)."""
    folder = os.path.join(folder, "batch2")
    _, input_path = export(name, folder, batch=2)
    shape = np.load(input_path).shape
    single = subprocess.run([dinfer, "run", os.path.join(folder, "model.onnx"), "--input",
                             "%s=%s" % (input_name, input_path), "--output-dir", os.path.join(folder, "dinfer")],
                            capture_output=True, text=True)
    if single.returncode != 0:
        return False, "dinfer run: " + single.stderr.strip()[-300:]
    steps = [
        ["convert", os.path.join(folder, "model.onnx"), os.path.join(folder, "full.mindir"),
         "--weights", os.path.join(folder, "full.ckpt")],
        ["strategy", "--model", os.path.join(folder, "model.onnx"), "--device-num", "4", "--preset",
         "megatron:tp=2", "-o", os.path.join(folder, "train.json")],
        ["reshard", "--src", os.path.join(folder, "full.ckpt"), "--src-strategy", "none", "--dst-strategy",
         os.path.join(folder, "train.json"), "--dst", os.path.join(folder, "train")],
        ["export", "--model", os.path.join(folder, "model.onnx"), "--train-strategy",
         os.path.join(folder, "train.json"), "--ckpt-dir", os.path.join(folder, "train"), "--input",
         "%s=%s" % (input_name, ",".join(map(str, shape))), "--device-num", "2", "-o", os.path.join(folder, "out")],
        ["run", os.path.join(folder, "out"), "--input", "%s=%s" % (input_name, input_path), "--expect",
         "y=%s" % os.path.join(folder, "dinfer", "y.npy"), "--rtol", "1e-4", "--atol", "1e-5", "--output-dir",
         os.path.join(folder, "distributed")],
    ]
    for tool in ["train", "out", "distributed"]:
        subprocess.run(["rm", "-rf", os.path.join(folder, tool)])
    for step in steps:
        done = subprocess.run([dinfer] + step, capture_output=True, text=True)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            return False, "dinfer %s: %s" % (step[0], lines[-1] if lines else "exit %d" % done.returncode)
    return True, "tp=2 x dp=2 on 4 devices -> 2 ranks: matches the single device"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="/tmp/dinfer-zoo")
    parser.add_argument("--only", default="")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3,
                        help="ONNX Runtime and dinfer take turns this many times (each RUNS timed runs); the "
                             "median of each side's round medians is compared")
    parser.add_argument("--min-ms", type=float, default=500,
                        help="after the first round, each side times at least this long per round (up to 1000 "
                             "runs), so that small models are timed over as many milliseconds as large ones")
    parser.add_argument("--dinfer", default=os.path.join(ROOT, "build", "bin", "dinfer"))
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for docs)")
    parser.add_argument("--bf16", action="store_true",
                        help="also run dinfer with --dtype bfloat16: its largest difference from dinfer's float32 "
                             "output and its speed over float32")
    parser.add_argument("--float16", action="store_true",
                        help="run every model as a float16 export (converted with test/models/to_float16.py) in "
                             "both dinfer and ONNX Runtime")
    parser.add_argument("--whole-way", action="store_true",
                        help="also take %s through strategy, reshard, export for 2 ranks and run" % ", ".join(WHOLE_WAY))
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(ZOO)
    rows, failed = [], 0
    for name in names:
        folder = os.path.join(args.work, name)
        model, input_path = export(name, folder)
        input_name = ZOO[name][1]
        ours, ref = os.path.join(folder, "dinfer"), os.path.join(folder, "ort_y.npy")
        float32_ref = None
        if args.float16:
            float32_ref = ref if os.path.exists(ref) else None
            folder = os.path.join(folder, "float16")
            if not os.path.exists(os.path.join(folder, "model.onnx")):
                subprocess.run([sys.executable, os.path.join(ROOT, "test", "models", "to_float16.py"), model,
                                input_path, "-", folder], check=True)
            model, input_path = os.path.join(folder, "model.onnx"), os.path.join(folder, "x.npy")
            ours, ref = os.path.join(folder, "dinfer"), os.path.join(folder, "ort_y.npy")
        os.makedirs(ours, exist_ok=True)
        # ONNX Runtime and dinfer take turns, `rounds` times: a burst of load
        # from the VM's neighbours slows one round of one side, not a side.
        # Each side's time is the median of its round medians (one lucky or
        # unlucky round moves neither), its peak the largest.
        ort_times, dinfer_times = [], []
        ort_rss = dinfer_rss = None
        ort_error = error = None
        runs = args.runs
        for _ in range(args.rounds):
            o_ms, o_rss, ort_error = run_ort(model, input_name, input_path, ref, args.threads, runs)
            d_ms, d_rss, error = run_dinfer(args.dinfer, model, input_name, input_path, ours, args.threads, runs)
            if ort_error or error:
                break
            ort_times.append(o_ms)
            dinfer_times.append(d_ms)
            # The same count for both sides, set by the slower of the two.
            runs = max(runs, min(1000, int(np.ceil(args.min_ms / max(o_ms, d_ms, 1e-3)))))
            ort_rss, dinfer_rss = max(ort_rss or 0, o_rss or 0), max(dinfer_rss or 0, d_rss or 0)
        ort_ms = float(np.median(ort_times)) if ort_times else None
        dinfer_ms = float(np.median(dinfer_times)) if dinfer_times else None
        row = {"model": name, "mb": os.path.getsize(model) / 2**20, "runs": runs, "dinfer_ms": dinfer_ms, "ort_ms": ort_ms,
               "dinfer_rss_mib": dinfer_rss, "ort_rss_mib": ort_rss}
        if error or ort_error:
            row["status"] = "error: " + (error or "ONNX Runtime: " + ort_error)
            failed += 1
        else:
            got, want = np.load(os.path.join(ours, "y.npy")), np.load(ref)
            scale = float(np.max(np.abs(want))) or 1.0
            row["rel"] = float(np.max(np.abs(got.astype(np.float64) - want))) / scale
            # Both sides round the output to float16: one ulp of it is 2^-11.
            tolerance = 4e-3 if args.float16 else TOLERANCE
            row["status"] = "match" if got.shape == want.shape and row["rel"] <= tolerance else "DIFFERS"
            if float32_ref:
                full = np.load(float32_ref).astype(np.float64)
                row["rel_float32"] = float(np.max(np.abs(got.astype(np.float64) - full))) / (np.max(np.abs(full)) or 1.0)
            failed += row["status"] != "match"
        if args.bf16 and row["status"] == "match":
            low = os.path.join(folder, "dinfer-bf16")
            os.makedirs(low, exist_ok=True)
            bf16_ms, _, bf16_error = run_dinfer(args.dinfer, model, input_name, input_path, low, args.threads,
                                                runs, "bfloat16")
            if bf16_error:
                row["bf16_status"] = "error: " + bf16_error
                failed += 1
            else:
                got, full = np.load(os.path.join(low, "y.npy")), np.load(os.path.join(ours, "y.npy"))
                scale = float(np.max(np.abs(full))) or 1.0
                row["bf16_rel"] = float(np.max(np.abs(got.astype(np.float64) - full))) / scale
                row["bf16_ms"] = bf16_ms
        if args.whole_way and name in WHOLE_WAY and row["status"] == "match":
            ok, row["whole_way"] = whole_way(args.dinfer, name, folder, input_name)
            failed += not ok
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)

    def fmt(value, spec):
        return "-" if value is None else format(value, spec)

    header = ["model", "MB", "dinfer", "max diff / max |y|", "dinfer ms", "ORT ms", "ORT/dinfer speed",
              "dinfer peak MiB", "ORT peak MiB", "dinfer/ORT peak"]
    if args.bf16:
        header += ["bf16 ms", "bf16 speed over f32", "bf16 max diff / max |y f32|"]
    lines = []
    for r in rows:
        speed = r["ort_ms"] / r["dinfer_ms"] if r.get("dinfer_ms") and r.get("ort_ms") else None
        memory = r["dinfer_rss_mib"] / r["ort_rss_mib"] if r.get("dinfer_rss_mib") and r.get("ort_rss_mib") else None
        lines.append([r["model"], fmt(r["mb"], ".0f"), r["status"], fmt(r.get("rel"), ".1e"),
                      fmt(r.get("dinfer_ms"), ".1f"), fmt(r.get("ort_ms"), ".1f"), fmt(speed, ".2f"),
                      fmt(r.get("dinfer_rss_mib"), ".0f"), fmt(r.get("ort_rss_mib"), ".0f"), fmt(memory, ".2f")])
        if args.bf16:
            gain = r["dinfer_ms"] / r["bf16_ms"] if r.get("bf16_ms") and r.get("dinfer_ms") else None
            lines[-1] += [fmt(r.get("bf16_ms"), ".1f"), fmt(gain, ".2f"), fmt(r.get("bf16_rel"), ".1e")]
    speeds = [r["ort_ms"] / r["dinfer_ms"] for r in rows if r.get("dinfer_ms") and r.get("ort_ms")
              and r["status"] == "match"]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        for line in lines:
            print("  ".join(c.ljust(w) for c, w in zip(line, widths)))
    for r in rows:
        if "whole_way" in r:
            print("%s whole way: %s" % (r["model"], r["whole_way"]))
    matched = sum(r["status"] == "match" for r in rows)
    print("%d of %d models match ONNX Runtime (threads %d)" % (matched, len(rows), args.threads))
    if speeds:
        print("speed vs ONNX Runtime: geometric mean %.2fx, worst %.2fx" %
              (math.exp(sum(math.log(s) for s in speeds) / len(speeds)), min(speeds)))
    memories = [r["dinfer_rss_mib"] / r["ort_rss_mib"] for r in rows
                if r.get("dinfer_rss_mib") and r.get("ort_rss_mib") and r["status"] == "match"]
    if memories:
        print("peak RSS over ONNX Runtime's: geometric mean %.2f, worst %.2f (goal <= 1.00 on every model)" %
              (math.exp(sum(math.log(m) for m in memories) / len(memories)), max(memories)))
    off = [r for r in rows if "rel_float32" in r]
    if off:
        worst = max(off, key=lambda r: r["rel_float32"])
        print("float16 models: largest difference from ONNX Runtime's float32 output %.1e of its largest magnitude "
              "(%s)" % (worst["rel_float32"], worst["model"]))
    gains = [r["dinfer_ms"] / r["bf16_ms"] for r in rows if r.get("bf16_ms") and r.get("dinfer_ms")]
    if gains:
        worst = max(rows, key=lambda r: r.get("bf16_rel", 0))
        print("bfloat16 over float32 (dinfer): speed geometric mean %.2fx, worst %.2fx; largest difference %.1e "
              "of the output's largest magnitude (%s)"
              % (math.exp(sum(math.log(g) for g in gains) / len(gains)), min(gains), worst["bf16_rel"],
                 worst["model"]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
