// Times an ONNX model in ONNX Runtime (npm onnxruntime-node) with a given
// intra-op thread count and prints one JSON line:
//   {"best_ms": ..., "median_ms": ..., "runs": N, "threads": T}
// Usage: node run_ort.js MODEL.onnx NAME=INPUT.npy THREADS RUNS [OUTPUT_NAME=OUT.npy]
// Float32, float16 and int64 .npy inputs and float32 or float16 outputs (little-endian, C order) are handled.
'use strict';
const ort = require('onnxruntime-node');
const { readNpy, writeNpy } = require('./npy');

async function main() {
  const [model, inputSpec, threadsText, runsText, outputSpec] = process.argv.slice(2);
  if (!model || !inputSpec || !threadsText || !runsText) {
    console.error('usage: node run_ort.js MODEL.onnx NAME=INPUT.npy THREADS RUNS [OUTPUT_NAME=OUT.npy]');
    process.exit(2);
  }
  const threads = Number(threadsText), runs = Number(runsText);
  const [inputName, inputPath] = inputSpec.split('=');
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = { [inputName]: readNpy(inputPath) };
  for (let i = 0; i < 3; ++i) await session.run(feeds);
  const times = [];
  let outputs;
  for (let i = 0; i < runs; ++i) {
    const began = process.hrtime.bigint();
    outputs = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - began) / 1e6);
  }
  times.sort((a, b) => a - b);
  if (outputSpec) {
    const [outputName, outputPath] = outputSpec.split('=');
    writeNpy(outputPath, outputs[outputName]);
  }
  console.log(JSON.stringify({ best_ms: times[0], median_ms: times[Math.floor(times.length / 2)], runs, threads }));
}

main().catch((error) => {
  console.error(`run_ort.js: ${error.message}`);
  process.exit(1);
});
