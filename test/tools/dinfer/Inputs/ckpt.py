"""MindSpore checkpoints and safetensors from numpy, independently of dinfer's own readers and writers.

Every command that reads a checkpoint also reads a safetensors file or a Hugging Face folder (its index and shards).

  ckpt.py make OUT.ckpt NAME=SHAPE[:DTYPE] ...   tensors with values 0, 1, 2, ... (per tensor)
  ckpt.py to-safetensors IN OUT [SHARDS]         OUT.safetensors, or with SHARDS a Hugging Face folder of that many
                                                 shards and model.safetensors.index.json, as Hugging Face writes them
  ckpt.py check-safetensors FILE|DIR             the header is 8-byte aligned and the dinfer_sha256 of each file's
                                                 data section is right
  ckpt.py full-of SPEC.json OUT.ckpt             the same from {"name": [shape], ...}
  ckpt.py compare A.ckpt B.ckpt                  same names (in any order), shapes, dtypes and bytes
  ckpt.py slice FULL.ckpt OUT.ckpt NAME=OFFSET:SHAPE ...   check OUT's tensors against boxes of FULL
  ckpt.py random OUT.ckpt NAME=SHAPE ...        Float32 tensors of normal random values (seed 0)
  ckpt.py converted A.ckpt B.ckpt DTYPE          B holds A's floats rounded to float16 or bfloat16
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"BFloat16": np.uint16, "Float32": np.float32, "Float16": np.float16, "Float64": np.float64, "Int32": np.int32,
          "Int64": np.int64, "Int8": np.int8, "UInt8": np.uint8, "Bool": np.bool_, "Int16": np.int16}


def varint(value):
    out = bytearray()
    value &= (1 << 64) - 1
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(key, payload):
    return bytes([key]) + varint(len(payload)) + payload


def encode(name, array, type_name):
    dims = b"".join(b"\x08" + varint(d) for d in (array.shape or (0,)))
    tensor = dims + field(0x12, type_name.encode()) + field(0x1A, np.ascontiguousarray(array).tobytes())
    return field(0x0A, field(0x0A, name.encode()) + field(0x12, tensor))


def read_varint(data, pos):
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def fields(data):
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(data, pos)
            yield number, value
        elif wire == 2:
            length, pos = read_varint(data, pos)
            yield number, data[pos:pos + length]
            pos += length
        else:
            raise ValueError("unexpected wire type %d" % wire)


SAFETENSORS = {"F64": "Float64", "F32": "Float32", "F16": "Float16", "BF16": "BFloat16", "I64": "Int64",
               "I32": "Int32", "I16": "Int16", "I8": "Int8", "U8": "UInt8", "BOOL": "Bool"}


def is_safetensors(data):
    return len(data) >= 9 and struct.unpack("<Q", data[:8])[0] <= len(data) - 8 and data[8:9] == b"{"


def load_safetensors(data):
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    header.pop("__metadata__", None)
    body = data[8 + size:]
    out = {}
    for name, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        begin, end = entry["data_offsets"]
        type_name = SAFETENSORS[entry["dtype"]]
        array = np.frombuffer(body[begin:end], dtype=DTYPES[type_name]).reshape(tuple(entry["shape"]))
        out[name] = (array, type_name)
    return out


def safetensors_files(path):
    if os.path.isdir(path):
        with open(os.path.join(path, "model.safetensors.index.json")) as f:
            index = json.load(f)
        return [os.path.join(path, name) for name in sorted(set(index["weight_map"].values()))]
    return [path]


def write_safetensors(path, tensors):
    """Hugging Face's layout: compact JSON header padded with spaces to 8 bytes, data in order."""
    names = {v: k for k, v in SAFETENSORS.items()}
    header, offset, body = {"__metadata__": {"format": "pt"}}, 0, []
    for name, (array, type_name) in tensors.items():
        raw = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": names[type_name], "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        body.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(body))


def load(path):
    """{name: array} in file order, joining tensors split over several values."""
    if os.path.isdir(path):
        out = {}
        for file in safetensors_files(path):
            out.update(load(file))
        return out
    tensors = {}
    with open(path, "rb") as f:
        data = f.read()
    if is_safetensors(data):
        return load_safetensors(data)
    if data[-17:-10] == b"crc_num":
        data = data[:-17]
    for _, value in fields(data):
        name, dims, type_name, content = None, [], None, b""
        for number, payload in fields(value):
            if number == 1:
                name = payload.decode()
            elif number == 2:
                for n, p in fields(payload):
                    if n == 1:
                        dims.append(p)
                    elif n == 2:
                        type_name = p.decode()
                    elif n == 3:
                        content = bytes(p)
        if name in tensors:
            tensors[name] = (tensors[name][0] + content, dims, type_name)
        else:
            tensors[name] = (content, dims, type_name)
    out = {}
    for name, (content, dims, type_name) in tensors.items():
        array = np.frombuffer(content, dtype=DTYPES[type_name])
        shape = () if dims == [0] and array.size == 1 else tuple(dims)
        out[name] = (array.reshape(shape), type_name)
    return out


def make(path, specs):
    with open(path, "wb") as f:
        for spec in specs:
            name, rest = spec.split("=")
            shape_text, _, type_name = rest.partition(":")
            type_name = type_name or "Float32"
            shape = tuple(int(d) for d in shape_text.split(",") if d)
            count = int(np.prod(shape)) if shape else 1
            array = (np.arange(count) % 251).astype(DTYPES[type_name]).reshape(shape)
            f.write(encode(name, array, type_name))


def main():
    command = sys.argv[1]
    if command == "make":
        make(sys.argv[2], sys.argv[3:])
    elif command == "to-safetensors":
        tensors = load(sys.argv[2])
        if len(sys.argv) < 5:
            write_safetensors(sys.argv[3], tensors)
            return
        shards = int(sys.argv[4])
        os.makedirs(sys.argv[3], exist_ok=True)
        names = list(tensors)
        weight_map, total = {}, 0
        for k in range(shards):
            part = names[k * len(names) // shards:(k + 1) * len(names) // shards]
            file = "model-%05d-of-%05d.safetensors" % (k + 1, shards)
            write_safetensors(os.path.join(sys.argv[3], file), {n: tensors[n] for n in part})
            for n in part:
                weight_map[n] = file
                total += tensors[n][0].nbytes
        with open(os.path.join(sys.argv[3], "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    elif command == "check-safetensors":
        for file in safetensors_files(sys.argv[2]):
            with open(file, "rb") as f:
                data = f.read()
            size = struct.unpack("<Q", data[:8])[0]
            metadata = json.loads(data[8:8 + size]).get("__metadata__", {})
            if (8 + size) % 8:
                sys.exit("%s: the data section starts at %d, not on 8 bytes" % (file, 8 + size))
            if metadata.get("dinfer_sha256") != hashlib.sha256(data[8 + size:]).hexdigest():
                sys.exit("%s: dinfer_sha256 is not the SHA-256 of the data section" % file)
            if metadata.get("format") != "pt":
                sys.exit("%s: __metadata__ has no format pt" % file)
        print("safetensors ok: %d files" % len(safetensors_files(sys.argv[2])))
    elif command == "compare":
        a, b = load(sys.argv[2]), load(sys.argv[3])
        if sorted(a) != sorted(b):
            sys.exit("tensor names differ: %s" % sorted(set(a) ^ set(b)))
        for name in a:
            (x, tx), (y, ty) = a[name], b[name]
            if tx != ty or x.shape != y.shape or x.tobytes() != y.tobytes():
                sys.exit("tensor %s differs: %s%s vs %s%s" % (name, tx, x.shape, ty, y.shape))
        print("same: %d tensors" % len(a))
    elif command == "slice":
        full, part = load(sys.argv[2]), load(sys.argv[3])
        for spec in sys.argv[4:]:
            name, box = spec.split("=")
            offset_text, shape_text = box.split(":")
            offset = [int(v) for v in offset_text.split(",") if v]
            shape = [int(v) for v in shape_text.split(",") if v]
            index = tuple(slice(o, o + s) for o, s in zip(offset, shape))
            expected = full[name][0][index]
            got = part[name][0]
            if got.shape != expected.shape or got.tobytes() != expected.tobytes():
                sys.exit("%s: tensor %s is not the box %s of the full tensor" % (sys.argv[3], name, box))
        print("slices match")
    elif command == "random":
        rng = np.random.default_rng(0)
        with open(sys.argv[2], "wb") as f:
            for spec in sys.argv[3:]:
                name, shape_text = spec.split("=")
                shape = tuple(int(d) for d in shape_text.split(",") if d)
                f.write(encode(name, (rng.standard_normal(shape) * 100).astype(np.float32), "Float32"))
    elif command == "converted":
        a, b = load(sys.argv[2]), load(sys.argv[3])
        target = sys.argv[4]
        for name, (x, _) in a.items():
            y, type_name = b[name]
            if target == "float16":
                expected = x.astype(np.float16)
                ok = type_name == "Float16" and y.tobytes() == expected.tobytes()
            else:
                u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
                expected = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
                ok = type_name == "BFloat16" and y.view(np.uint16).tobytes() == expected.tobytes()
            if not ok:
                sys.exit("tensor %s is not %s rounded to %s" % (name, sys.argv[2], target))
        print("converted: %d tensors" % len(a))
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main()
