"""Writes a full checkpoint with every parameter a strategy file lays out.

  full_for_strategy.py INSPECT.json OUT.ckpt [EXTENT]

INSPECT.json is `dinfer inspect --json` of the strategy; every dimension gets
EXTENT (default 8) elements, which every split of the MindFormers samples
divides. Values are distinct per tensor so that misplaced bytes show.
"""
import json
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from ckpt import encode  # noqa: E402


def main():
    layouts = json.load(open(sys.argv[1]))["layouts"]
    extent = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    seen = []
    with open(sys.argv[2], "wb") as out:
        for layout in layouts:
            name = layout["param"]
            if name in seen:
                continue
            seen.append(name)
            shape = tuple([extent] * len(layout["tensor_map"]))
            count = int(np.prod(shape)) if shape else 1
            values = (np.arange(count) + 1000 * len(seen)).astype(np.float32).reshape(shape)
            out.write(encode(name, values, "Float32"))
    print("%d parameters" % len(seen))


if __name__ == "__main__":
    main()
