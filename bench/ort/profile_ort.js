// Per-node times of one ONNX model in ONNX Runtime (its own profiler), to set
// beside `dinfer run --profile --profile-shapes` on the same file and threads:
// prints each op kind with its input shapes and mean ms per run, largest first,
// then the sum. ORT's shapes are those its kernels see (NCHWc-padded channels,
// fused nodes such as QuickGelu for x * sigmoid(x)).
// Usage: node profile_ort.js MODEL.onnx NAME=INPUT.npy THREADS RUNS
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const ort = require('onnxruntime-node');
const { readNpy } = require('./npy');

async function main() {
  const [model, inputSpec, threadsText, runsText] = process.argv.slice(2);
  if (!model || !inputSpec || !threadsText || !runsText) {
    console.error('usage: node profile_ort.js MODEL.onnx NAME=INPUT.npy THREADS RUNS');
    process.exit(2);
  }
  const threads = Number(threadsText), runs = Number(runsText);
  const [inputName, inputPath] = inputSpec.split('=');
  const feeds = { [inputName]: readNpy(inputPath) };
  const options = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
                    graphOptimizationLevel: 'all' };
  // One unprofiled session warms the page cache and ORT's own one-time work.
  await (await ort.InferenceSession.create(model, options)).run(feeds);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-profile-'));
  const session = await ort.InferenceSession.create(
      model, { ...options, enableProfiling: true, profileFilePrefix: path.join(dir, 'profile') });
  for (let i = 0; i < runs; ++i) await session.run(feeds);
  session.endProfiling();
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
  const events = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  fs.rmSync(dir, { recursive: true, force: true });
  const rows = new Map();
  let total = 0;
  for (const event of events) {
    if (event.cat !== 'Node' || !event.name.endsWith('_kernel_time')) continue;
    const shapes = (event.args.input_type_shape || []).map((s) => JSON.stringify(Object.values(s)[0])).join(' ');
    const key = `${event.args.op_name} ${shapes}`;
    rows.set(key, (rows.get(key) || 0) + event.dur);
    total += event.dur;
  }
  for (const [key, us] of [...rows.entries()].sort((a, b) => b[1] - a[1]))
    console.log(`${(us / 1000 / runs).toFixed(3).padStart(8)}  ${key}`);
  console.log(`${(total / 1000 / runs).toFixed(3).padStart(8)}  total`);
}

main().catch((error) => {
  console.error(`profile_ort.js: ${error.message}`);
  process.exit(1);
});
