#!/usr/bin/python3
"""In-process and MPI all_reduce side by side, in one run.

Runs build/bin/dinfer-bench-collectives (threads) and, under mpirun, build/bin/
dinfer-bench-collectives-mpi (processes) on the same rank count and buffer
size, prints both reports and then:
  * in-process all_reduce / memcpy throughput (goal >= 0.5);
  * MPI all_reduce / in-process all_reduce throughput.

Usage: bench/collectives_bench.py [--build build] [--ranks 2] [--mib 64] [--rounds 5]
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    print(result.stdout, end="")
    return result.stdout


def milliseconds(report, name):
    found = re.search(rf"^\s+{name}\s+([0-9.]+) ms", report, re.M)
    if not found:
        sys.exit(f"no {name} time in:\n{report}")
    return float(found.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    binaries = os.path.join(args.build, "bin")
    threads = run([os.path.join(binaries, "dinfer-bench-collectives"), str(args.ranks), str(args.mib),
                   str(args.rounds)])
    processes = run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(args.ranks),
                     os.path.join(binaries, "dinfer-bench-collectives-mpi"), str(args.mib), str(args.rounds)])
    in_process = milliseconds(threads, "all_reduce")
    mpi = milliseconds(processes, "all_reduce")
    print(f"in-process all_reduce / memcpy throughput: {milliseconds(threads, 'memcpy') / in_process:.2f} "
          f"(goal >= 0.5)")
    print(f"MPI all_reduce / in-process all_reduce throughput: {in_process / mpi:.2f} ({args.ranks} ranks)")


if __name__ == "__main__":
    main()
