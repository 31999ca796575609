// .npy reading and writing for the ONNX Runtime scripts: float32, float16 and
// int64 arrays (little-endian, C order).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function readNpy(path) {
  const bytes = fs.readFileSync(path);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
  const int64 = header.includes("'<i8'"), half = header.includes("'<f2'");
  if (!int64 && !half && !header.includes("'<f4'"))
    throw new Error(`${path}: only float32, float16 and int64 .npy files are supported`);
  if (header.includes("'fortran_order': True")) throw new Error(`${path}: Fortran order is not supported`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const offset = headerStart + headerLength;
  const raw = bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + bytes.length);
  if (int64) return new ort.Tensor('int64', new BigInt64Array(raw), shape);
  if (half) return new ort.Tensor('float16', new Uint16Array(raw), shape);
  return new ort.Tensor('float32', new Float32Array(raw), shape);
}

function writeNpy(path, tensor) {
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  const descr = tensor.type === 'float16' ? '<f2' : '<f4';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  fs.writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(tensor.data.buffer)]));
}

module.exports = { readNpy, writeNpy };
