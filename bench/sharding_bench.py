#!/usr/bin/python3
"""Propagation and partitioning time of a chain of Megatron matmul layers,
dinfer against upstream MLIR's `shard` dialect, side by side in one run.

    /usr/bin/python3 bench/sharding_bench.py [--layers 1000,2000,4000] [--devices 4,8] [--rounds 3]

For each layer count L (matrix products: L/2 column-parallel then row-parallel
pairs) and device count D, two equivalent programs are generated:
  * dinfer: nn.matmul with dist.strategy and parameter layouts (tensor
    parallel D), timed through `dinfer-opt --dist-propagate --dist-partition`;
  * upstream: linalg.matmul with shard.shard annotations of the weights on a
    grid of D, timed through LLVM 22's `mlir-opt` with
    `func.func(sharding-propagation,shard-partition)`.
Both tools report their passes' wall time (`--mlir-timing`); parsing and
printing are excluded. Prints the time per case, dinfer / upstream (goal
<= 0.5), how dinfer's time grows with layers (linear: 4000 layers ~ 4x 1000)
and with devices (flat).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B, H, F = 8, 64, 256


def dinfer_program(layers, devices):
    lines = [f"module attributes {{dist.device_num = {devices} : i64}} {{",
             f"  func.func @main(%x: tensor<{B}x{H}xf32>) -> tensor<{B}x{H}xf32> {{"]
    value = "%x"
    for i in range(layers // 2):
        lines.append(f'    %w{2*i} = dist.param "w{2*i}" {{layout = #dist.layout<dev_matrix = [{devices}], '
                     f'tensor_map = [-1, 0]>}} : tensor<{H}x{F}xf32>')
        lines.append(f'    %w{2*i+1} = dist.param "w{2*i+1}" {{layout = #dist.layout<dev_matrix = [{devices}], '
                     f'tensor_map = [0, -1]>}} : tensor<{F}x{H}xf32>')
        lines.append(f"    %h{i} = nn.matmul {value}, %w{2*i} {{dist.strategy = #dist.strategy<[1, 1], "
                     f"[1, {devices}]>}} : tensor<{B}x{H}xf32>, tensor<{H}x{F}xf32>")
        lines.append(f"    %y{i} = nn.matmul %h{i}, %w{2*i+1} {{dist.strategy = #dist.strategy<[1, {devices}], "
                     f"[{devices}, 1]>}} : tensor<{B}x{F}xf32>, tensor<{F}x{H}xf32>")
        value = f"%y{i}"
    lines += [f"    return {value} : tensor<{B}x{H}xf32>", "  }", "}"]
    return "\n".join(lines) + "\n"


def upstream_program(layers, devices):
    pairs = layers // 2
    args = [f"%x: tensor<{B}x{H}xf32>"]
    for i in range(pairs):
        args.append(f"%w{2*i}: tensor<{H}x{F}xf32>")
        args.append(f"%w{2*i+1}: tensor<{F}x{H}xf32>")
    lines = [f"shard.grid @grid(shape = {devices})",
             f"func.func @main({', '.join(args)}) -> tensor<{B}x{H}xf32> {{",
             "  %col = shard.sharding @grid split_axes = [[], [0]] : !shard.sharding",
             "  %row = shard.sharding @grid split_axes = [[0], []] : !shard.sharding"]
    value = "%x"
    for i in range(pairs):
        lines.append(f"  %s{2*i} = shard.shard %w{2*i} to %col : tensor<{H}x{F}xf32>")
        lines.append(f"  %s{2*i+1} = shard.shard %w{2*i+1} to %row : tensor<{F}x{H}xf32>")
        lines.append(f"  %e{2*i} = tensor.empty() : tensor<{B}x{F}xf32>")
        lines.append(f"  %h{i} = linalg.matmul ins({value}, %s{2*i} : tensor<{B}x{H}xf32>, tensor<{H}x{F}xf32>) "
                     f"outs(%e{2*i} : tensor<{B}x{F}xf32>) -> tensor<{B}x{F}xf32>")
        lines.append(f"  %e{2*i+1} = tensor.empty() : tensor<{B}x{H}xf32>")
        lines.append(f"  %y{i} = linalg.matmul ins(%h{i}, %s{2*i+1} : tensor<{B}x{F}xf32>, tensor<{F}x{H}xf32>) "
                     f"outs(%e{2*i+1} : tensor<{B}x{H}xf32>) -> tensor<{B}x{H}xf32>")
        value = f"%y{i}"
    lines += [f"  return {value} : tensor<{B}x{H}xf32>", "}"]
    return "\n".join(lines) + "\n"


def pass_seconds(command, names):
    result = subprocess.run(command + ["--mlir-timing", "--mlir-timing-display=list", "-o", "/dev/null"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    total = 0.0
    for name in names:
        found = re.search(rf"^\s+([0-9.]+) \(\s*[0-9.]+%\)\s+{name}\s*$", result.stderr, re.M)
        if not found:
            sys.exit(f"no time for {name} in:\n{result.stderr}")
        total += float(found.group(1))
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="1000,2000,4000")
    parser.add_argument("--devices", default="4,8")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    dinfer_opt = os.path.join(args.build, "bin", "dinfer-opt")
    mlir_opt = "/usr/lib/llvm-22/bin/mlir-opt"
    work = tempfile.mkdtemp(prefix="dinfer-sharding-bench-")
    layer_counts = [int(v) for v in args.layers.split(",")]
    device_counts = [int(v) for v in args.devices.split(",")]
    times = {}
    print(f"{'layers':>7} {'devices':>7} {'dinfer s':>9} {'upstream s':>10} {'dinfer/upstream':>15}")
    for layers in layer_counts:
        for devices in device_counts:
            ours, theirs = os.path.join(work, "dinfer.mlir"), os.path.join(work, "upstream.mlir")
            open(ours, "w").write(dinfer_program(layers, devices))
            open(theirs, "w").write(upstream_program(layers, devices))
            d = min(pass_seconds([dinfer_opt, ours, "--dist-propagate", "--dist-partition"],
                                 ["DistPropagate", "DistPartition"]) for _ in range(args.rounds))
            u = min(pass_seconds([mlir_opt, theirs,
                                  "--pass-pipeline=builtin.module(func.func(sharding-propagation,shard-partition))"],
                                 ["ShardingPropagation", "Partition"]) for _ in range(args.rounds))
            times[(layers, devices)] = (d, u)
            print(f"{layers:7d} {devices:7d} {d:9.4f} {u:10.4f} {d / u:14.2f}x")
    big, small = max(layer_counts), min(layer_counts)
    worst = max(d / u for d, u in times.values())
    print(f"dinfer / upstream, worst case: {worst:.2f} (goal <= 0.5)")
    for devices in device_counts:
        growth = times[(big, devices)][0] / times[(small, devices)][0]
        print(f"dinfer time {big} layers / {small} layers on {devices} devices: {growth:.2f} "
              f"(linear: {big / small:.1f})")
    lo, hi = min(device_counts), max(device_counts)
    print(f"dinfer time {hi} devices / {lo} devices at {big} layers: "
          f"{times[(big, hi)][0] / times[(big, lo)][0]:.2f} (flat: 1.0)")


if __name__ == "__main__":
    main()
