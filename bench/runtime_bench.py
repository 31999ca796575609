#!/usr/bin/python3
"""The runtime's four figures in one run (issue 5):

  1. single-rank transformer encoder time against ONNX Runtime, same threads
     (bench/encoder_vs_ort.py; goal >= 1.0x ORT's throughput);
  2. a matmul-heavy layer as a fraction of the machine's sgemm peak
     (dinfer-bench-matmul-peak; goal >= 0.7);
  3. in-process all_reduce bandwidth against memcpy (goal >= 0.5);
  4. MPI all_reduce against in-process, 2 ranks (bench/collectives_bench.py).

Each part prints its own report; the summary at the end collects the ratios.
Usage: bench/runtime_bench.py [--build build]
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(command):
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    print(result.stdout + result.stderr, end="", flush=True)
    if result.returncode != 0:
        sys.exit(f"{command[0]} failed ({result.returncode})")
    return result.stdout + result.stderr


def figure(report, pattern):
    found = re.search(pattern, report)
    return found.group(1) if found else "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    args = parser.parse_args()
    python = "/usr/bin/python3"
    encoder = run([python, os.path.join(HERE, "encoder_vs_ort.py"), "--build", args.build])
    matmul = run([os.path.join(args.build, "bin", "dinfer-bench-matmul-peak")])
    collectives = run([python, os.path.join(HERE, "collectives_bench.py"), "--build", args.build, "--ranks", "2",
                       "--mib", "32"])
    print()
    print("summary")
    print("  encoder: dinfer / ONNX Runtime throughput, worst case:  "
          + figure(encoder, r"worst case: ([0-9.]+x)") + "  (goal >= 1.0x)")
    print("  feed-forward block / sgemm peak:                        "
          + figure(matmul, r"block / sgemm peak: ([0-9.]+)") + "  (goal >= 0.7)")
    print("  in-process all_reduce / memcpy, 2 ranks:                "
          + figure(collectives, r"in-process all_reduce / memcpy throughput: ([0-9.]+)") + "  (goal >= 0.5)")
    print("  MPI all_reduce / in-process all_reduce, 2 ranks:        "
          + figure(collectives, r"MPI all_reduce / in-process all_reduce throughput: ([0-9.]+)"))


if __name__ == "__main__":
    main()
