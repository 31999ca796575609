#!/usr/bin/python3
"""Collective bytes of dinfer's partitions against the Megatron minimum.

  comm_bench.py [--build build]

For each model and training strategy of the matrix below (written with
`dinfer strategy --preset megatron:...`), and each inference device count,
reads `dinfer layout --comm --json` (every rank's collectives and pipeline
sends, bytes by the ring algorithms' count) and prints the bytes the busiest
rank sends per inference step over the Megatron minimum, computed here from
the shapes and the predict layouts (`dinfer layout --json`):
  * one all_reduce per row-parallel product (a 2-D weight split along its
    input features; per use, as exporters share one initializer among equal
    layers), 2(t-1)/t of its output on the rank's tokens;
  * one all_reduce per vocabulary-parallel embedding (a table split along
    its rows), 2(t-1)/t of its output;
  * one gather of the output of a last product split along its output
    features (vocabulary-split logits), (t-1)/t of it;
  * one send of the hidden state per stage boundary;
  * one gather of a data-parallel output, (d-1)/d of it;
  * with sequence parallelism, a reduce_scatter and an all_gather in place of
    each all_reduce (the same bytes) and one gather of the sequence-split
    output, (t-1)/t of it.
Goal: 1.00 in every case. Prints the worst case and the geometric mean.

  comm_bench.py --mpirun [--hidden 1024] [--tokens 512] [--layers 2] [--repeat 10]

Tensor-parallel speed-up under mpirun: an MLP of LAYERS Megatron blocks
(hidden HIDDEN, FFN 4 x HIDDEN, TOKENS rows; made with onnx's helper),
trained as megatron:tp=2 (slices cut by dinfer reshard) and exported for 2
ranks, run side by side with one kernel thread per process: `dinfer run` of
the ONNX model on one process, and `mpirun -np 2 dinfer run OUT`. Prints both
medians, the speed-up (goal >= 1.6) and the largest difference of the
outputs.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# model, training devices, preset, training stages, inference device counts
CASES = [
    ("mlp", 2, "megatron:tp=2", 1, [2]),
    ("mlp", 4, "megatron:tp=4", 1, [4, 2]),
    ("mlp", 4, "megatron:tp=2,dp=2", 1, [4, 2]),
    ("gpt_block", 2, "megatron:tp=2", 1, [2]),
    ("gpt_block", 4, "megatron:tp=4", 1, [4, 2]),
    ("gpt_block", 4, "megatron:tp=2,dp=2", 1, [4, 2]),
    ("gpt_block", 8, "megatron:tp=2,opt-shard", 2, [8, 4, 2]),
    ("gpt_block", 2, "megatron:tp=2,sp", 1, [2]),
    # LLaMA-style: RMSNorm, rotary positions, SiLU-gated MLP, grouped-query
    # attention with 2 KV heads (tp 4 replicates each on 2 ranks).
    ("llama_tiny", 2, "megatron:tp=2", 1, [2]),
    ("llama_tiny", 4, "megatron:tp=4", 1, [4, 2]),
    ("llama_tiny", 8, "megatron:tp=4,dp=2", 1, [8, 4]),
    ("llama_tiny", 8, "megatron:tp=2,opt-shard", 2, [8, 4]),
    # Packed projections split per head: torch's nn.TransformerEncoder (in_proj,
    # Q, K and V in one weight) and llama_fused (Q, K and V of unequal GQA
    # parts in one weight, gate and up in one).
    ("encoder", 2, "megatron:tp=2", 1, [2]),
    ("encoder", 4, "megatron:tp=4", 1, [4, 2]),
    ("llama_fused", 4, "megatron:tp=4", 1, [4, 2]),
    ("llama_fused", 8, "megatron:tp=4,dp=2", 1, [8, 4]),
]


def run(cmd):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(map(str, cmd)), result.stderr[-500:]))
    return result.stdout


def weight_orientation(program):
    """Per parameter used as a product's weight: its contraction dimension
    (0 for [in, out], 1 for a transposed [out, in] weight); the embedding
    tables (gathered by row); the weight of the last product."""
    names = dict(re.findall(r'(%\w+) = dist\.param "([^"]+)"', program))
    contraction, tables, last = {}, set(), None
    uses = {}  # exporters share one initializer among equal layers' weights
    for line in program.splitlines():
        m = re.search(r"nn\.(?:batch_)?matmul %\w+, (%\w+)( \{[^}]*\})?", line)
        if m and m.group(1) in names:
            contraction[names[m.group(1)]] = 1 if m.group(2) and "transpose_b = true" in m.group(2) else 0
            last = names[m.group(1)]
            uses[last] = uses.get(last, 0) + 1
        m = re.search(r"nn\.gather (%\w+),", line)
        if m and m.group(1) in names:
            tables.add(names[m.group(1)])
    return contraction, tables, last, uses


def minimum(layouts, io, devices, weights, sequence_parallel=False):
    """The Megatron minimum of the busiest rank, in bytes sent per step."""
    contraction, tables, last, uses = weights
    stages = layouts["pipeline_stages"]
    per_stage = devices // stages
    x, y = io["inputs"][0]["shape"], io["outputs"][0]["shape"]
    token_ids = io["inputs"][0]["dtype"].lower() in ("int32", "int64")
    tokens = math.prod(x) if token_ids else math.prod(x[:-1])
    hidden = None if token_ids else x[-1]
    tp = 1
    row_outputs = {s: [] for s in range(stages)}
    embeddings = {s: [] for s in range(stages)}
    logits_split = 1
    for name, p in layouts["layouts"].items():
        tmap, dev = p["tensor_map"], p["dev_matrix"]
        if len(p["full_shape"]) != 2 or not all(isinstance(a, int) for a in tmap):
            continue
        degree = lambda axis: dev[len(dev) - 1 - axis] if axis >= 0 else 1
        if name in tables:
            hidden = hidden or p["full_shape"][1]
            if tmap[0] >= 0:
                embeddings[p["stage"]].append((p["full_shape"][1], degree(tmap[0])))
            continue
        if name not in contraction:
            continue
        k = contraction[name]
        if tmap[k] >= 0 and tmap[1 - k] < 0:  # split along its input features: row parallel
            t = degree(tmap[k])
            tp = max(tp, t)
            row_outputs[p["stage"]] += [(p["full_shape"][1 - k], t)] * uses[name]
        elif tmap[1 - k] >= 0:
            tp = max(tp, degree(tmap[1 - k]))
            if name == last:
                logits_split = degree(tmap[1 - k])
    dp = max(per_stage // tp, 1)
    while dp > 1 and x[0] % dp:
        dp -= 1
    local_tokens = tokens // dp
    busiest = 0
    for stage in range(stages):
        sent = sum(2 * (t - 1) / t * local_tokens * out * 4 for out, t in row_outputs[stage] + embeddings[stage]
                   if t > 1)
        if stage + 1 < stages:
            sent += local_tokens * hidden * 4
        if stage == stages - 1 and logits_split > 1:
            sent += (logits_split - 1) / logits_split * math.prod(y) / dp * 4
        if stage == stages - 1 and dp > 1:
            sent += (dp - 1) / dp * math.prod(y) * 4
        if stage == stages - 1 and sequence_parallel and tp > 1:
            sent += (tp - 1) / tp * math.prod(y) / dp * 4
        busiest = max(busiest, sent)
    return busiest


def median_ms(stderr):
    found = re.search(r"median ([0-9.]+) ms", stderr)
    if not found:
        raise RuntimeError("no timing in: " + stderr[-500:])
    return float(found.group(1))


def mpirun_speedup(args, dinfer):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    d, f = args.hidden, 4 * args.hidden
    rng = np.random.default_rng(0)
    nodes, weights, x = [], [], "x"
    for layer in range(args.layers):
        p = "layers.%d." % layer
        weights += [numpy_helper.from_array((rng.standard_normal((d, f)) / np.sqrt(d)).astype(np.float32),
                                            p + "fc1.weight"),
                    numpy_helper.from_array(np.zeros(f, np.float32), p + "fc1.bias"),
                    numpy_helper.from_array((rng.standard_normal((f, d)) / np.sqrt(f)).astype(np.float32),
                                            p + "fc2.weight"),
                    numpy_helper.from_array(np.zeros(d, np.float32), p + "fc2.bias")]
        nodes += [helper.make_node("MatMul", [x, p + "fc1.weight"], [p + "h0"]),
                  helper.make_node("Add", [p + "h0", p + "fc1.bias"], [p + "h1"]),
                  helper.make_node("Relu", [p + "h1"], [p + "h2"]),
                  helper.make_node("MatMul", [p + "h2", p + "fc2.weight"], [p + "h3"]),
                  helper.make_node("Add", [p + "h3", p + "fc2.bias"], [p + "h4"]),
                  helper.make_node("Add", [p + "h4", x], [p + "out"])]
        x = p + "out"
    nodes.append(helper.make_node("Identity", [x], ["y"]))
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [args.tokens, d])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [args.tokens, d])], weights)
    with tempfile.TemporaryDirectory() as work:
        model = os.path.join(work, "model.onnx")
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]), model)
        inputs = os.path.join(work, "x.npy")
        np.save(inputs, rng.standard_normal((args.tokens, d)).astype(np.float32))
        strategy, out = os.path.join(work, "tp2.json"), os.path.join(work, "out")
        run([dinfer, "strategy", "--model", model, "--device-num", 2, "--preset", "megatron:tp=2", "-o", strategy])
        run([dinfer, "convert", model, os.path.join(work, "full.mindir"), "--weights", os.path.join(work, "full.ckpt")])
        run([dinfer, "reshard", "--src", os.path.join(work, "full.ckpt"), "--src-strategy", "none", "--dst",
             os.path.join(work, "train"), "--dst-strategy", strategy, "--no-sync"])
        run([dinfer, "export", "--model", model, "--train-strategy", strategy, "--ckpt-dir",
             os.path.join(work, "train"), "--input", "x=%d,%d" % (args.tokens, d), "--device-num", 2, "--no-sync",
             "-o", out])
        one_dir, two_dir = os.path.join(work, "one"), os.path.join(work, "two")
        single = ["dinfer", "run", model, "--input", "x=" + inputs, "--threads", "1", "--repeat", str(args.repeat),
                  "--output-dir", one_dir]
        mpi = ["mpirun", "--allow-run-as-root", "-np", "2", dinfer, "run", out, "--input", "x=" + inputs, "--threads",
               "1", "--repeat", str(args.repeat), "--output-dir", two_dir]
        single[0] = dinfer
        times = {"one": [], "two": []}
        for _ in range(args.rounds):  # alternating, so that both see the same machine
            for key, command in (("one", single), ("two", mpi)):
                result = subprocess.run(command, capture_output=True, text=True)
                if result.returncode != 0:
                    raise RuntimeError("%s failed: %s" % (" ".join(command), result.stderr[-800:]))
                times[key].append(median_ms(result.stderr))
        one, two = sorted(times["one"])[len(times["one"]) // 2], sorted(times["two"])[len(times["two"]) // 2]
        y1 = np.load(os.path.join(one_dir, "y.npy"))
        y2 = np.load(os.path.join(two_dir, "y.npy"))
        print("MLP of %d Megatron blocks, hidden %d, FFN %d, %d tokens, %.0f MiB of weights; one kernel thread per "
              "process" % (args.layers, d, f, args.tokens, args.layers * 2 * d * f * 4 / (1 << 20)))
        print("1 process: %.2f ms; mpirun -np 2 (tensor parallel 2): %.2f ms; speed-up %.2fx (goal >= 1.6); "
              "largest output difference %.2g" % (one, two, one / two, float(np.abs(y1 - y2).max())))
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--mpirun", action="store_true", help="the tensor-parallel speed-up under mpirun instead")
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    dinfer = os.path.join(args.build, "bin", "dinfer")
    if args.mpirun:
        return mpirun_speedup(args, dinfer)
    ratios = []
    print("%-11s %-26s %-7s %-12s %-12s %-12s %s" % ("model", "training", "devices", "busiest", "minimum",
                                                     "over min", "collectives (busiest rank)"))
    with tempfile.TemporaryDirectory() as work:
        for model, train_devices, preset, train_stages, counts in CASES:
            path = os.path.join(ROOT, "test", "models", model, "model.onnx")
            io = json.loads(run([dinfer, "inspect", "--json", path]))
            weights = weight_orientation(run([os.path.join(args.build, "bin", "dinfer-translate"), "--import-onnx",
                                              path]))
            given = io["inputs"][0]
            shape = ",".join(map(str, given["shape"])) + (":" + given["dtype"].lower() if given["dtype"].lower() != "float32" else "")
            strategy = os.path.join(work, "%s-%d-%s.json" % (model, train_devices, preset.replace(":", "_")))
            run([dinfer, "strategy", "--model", path, "--device-num", train_devices, "--pipeline-stages", train_stages,
                 "--preset", preset, "-o", strategy])
            for devices in counts:
                common = ["--model", path, "--train-strategy", strategy, "--input", given["name"] + "=" + shape,
                          "--device-num", devices]
                comm = json.loads(run([dinfer, "layout"] + common + ["--comm", "--json"]))
                layouts = json.loads(run([dinfer, "layout"] + common + ["--json"]))
                rank = max(comm["ranks"], key=lambda r: r["sent_bytes"])
                least = minimum(layouts, io, devices, weights, sequence_parallel=preset.endswith(",sp"))
                ratio = rank["sent_bytes"] / least if least else (1.0 if rank["sent_bytes"] == 0 else math.inf)
                ratios.append(ratio)
                kinds = {}
                for c in rank["collectives"]:
                    kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
                training = "%s on %d%s" % (preset.split(":")[1], train_devices,
                                           " (%d stages)" % train_stages if train_stages > 1 else "")
                print("%-11s %-26s %-7d %-12d %-12d %-12.2f %s" % (
                    model, training, devices, rank["sent_bytes"], least, ratio,
                    " ".join("%s x%d" % kv for kv in sorted(kinds.items()))))
    finite = [r for r in ratios if math.isfinite(r) and r > 0]
    geo = math.exp(sum(math.log(r) for r in finite) / len(finite)) if finite else float("nan")
    print("busiest rank over the Megatron minimum: worst %.2f, geometric mean %.2f (goal 1.00)" % (max(ratios), geo))
    return 0


if __name__ == "__main__":
    sys.exit(main())
