// Greedy generation in ONNX Runtime (npm onnxruntime-node): the decoder of
// `dinfer generate` (Hugging Face/Optimum cache convention) in the loop ORT's
// own users write, `present` fed back as `past` (the cache grows by one slot
// per step; no padding). Prints one JSON line, the shape of
// `dinfer generate --json`:
//   {"tokens": [[...]], "prefill_ms": x, "decode_ms_per_token": x, "tokens_per_s": x}
// Usage: node generate_ort.js MODEL.onnx PROMPT.npy NEW_TOKENS THREADS KV_HEADS HEAD_DIM
'use strict';
const ort = require('onnxruntime-node');
const { readNpy } = require('./npy');

function readInt64Npy(path) {
  const tensor = readNpy(path);
  if (tensor.type !== 'int64') throw new Error(`${path}: the prompt must be int64`);
  return tensor;
}

function int64Tensor(rows, columns, value) {
  const data = new BigInt64Array(rows * columns);
  for (let r = 0; r < rows; ++r) for (let c = 0; c < columns; ++c) data[r * columns + c] = BigInt(value(r, c));
  return new ort.Tensor('int64', data, [rows, columns]);
}

function lastArgmax(logits) {
  const [batch, positions, vocab] = logits.dims;
  const out = [];
  for (let b = 0; b < batch; ++b) {
    const row = (b * positions + positions - 1) * vocab;
    let best = 0;
    for (let v = 1; v < vocab; ++v) if (logits.data[row + v] > logits.data[row + best]) best = v;
    out.push(best);
  }
  return out;
}

async function main() {
  const [model, promptPath, newTokensText, threadsText, kvHeadsText, headDimText] = process.argv.slice(2);
  if (!model || !promptPath || !newTokensText || !threadsText || !kvHeadsText || !headDimText) {
    console.error('usage: node generate_ort.js MODEL.onnx PROMPT.npy NEW_TOKENS THREADS KV_HEADS HEAD_DIM');
    process.exit(2);
  }
  const newTokens = Number(newTokensText), threads = Number(threadsText);
  const kvHeads = Number(kvHeadsText), headDim = Number(headDimText);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const prompt = readInt64Npy(promptPath);
  const [batch, promptLength] = prompt.dims;
  const pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
  async function run(tokens, pastLength, past) {
    const t = tokens[0].length;
    const feeds = {
      input_ids: int64Tensor(batch, t, (b, c) => tokens[b][c]),
      attention_mask: int64Tensor(batch, pastLength + t, () => 1),
      position_ids: int64Tensor(batch, t, (b, c) => pastLength + c),
    };
    for (const name of pastNames) feeds[name] = past[name];
    return session.run(feeds);
  }

  function emptyPast(kvHeads, headDim) {
    const past = {};
    for (const name of pastNames) past[name] = new ort.Tensor('float32', new Float32Array(0), [batch, kvHeads, 0, headDim]);
    return past;
  }

  const tokens = [];
  for (let b = 0; b < batch; ++b) tokens.push(Array.from(prompt.data.slice(b * promptLength, (b + 1) * promptLength), Number));
  // Warm, as dinfer generate is before its clock starts: one prefill and one
  // decode step (ORT's first runs size its arena).
  {
    const warm = await run(tokens, 0, emptyPast(kvHeads, headDim));
    const past = {};
    for (const name of pastNames) past[name] = warm[name.replace('past_key_values.', 'present.')];
    await run(lastArgmax(warm.logits).map((t) => [t]), promptLength, past);
  }
  let began = process.hrtime.bigint();
  let outputs = await run(tokens, 0, emptyPast(kvHeads, headDim));
  let next = lastArgmax(outputs.logits);
  tokens.forEach((row, b) => row.push(next[b]));
  const prefillMs = Number(process.hrtime.bigint() - began) / 1e6;
  began = process.hrtime.bigint();
  for (let step = 1; step < newTokens; ++step) {
    const past = {};
    for (const name of pastNames) past[name] = outputs[name.replace('past_key_values.', 'present.')];
    outputs = await run(next.map((t) => [t]), promptLength + step - 1, past);
    next = lastArgmax(outputs.logits);
    tokens.forEach((row, b) => row.push(next[b]));
  }
  const decodeMs = Number(process.hrtime.bigint() - began) / 1e6;
  console.log(JSON.stringify({
    tokens,
    prefill_ms: prefillMs,
    decode_ms_per_token: newTokens > 1 ? decodeMs / (newTokens - 1) : 0,
    tokens_per_s: (batch * newTokens * 1000) / (prefillMs + decodeMs),
  }));
}

main().catch((error) => {
  console.error(`generate_ort.js: ${error.message}`);
  process.exit(1);
});
