#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (CPU) over a batch of inputs: the independent
// implementation haq's tests check exported models against.
//
//   node tools/ort/run_onnx.js MODEL.onnx INPUT.f32 OUTPUT.f32 N C H W [BATCH]
//
// INPUT.f32 holds N*C*H*W little-endian float32 values (NCHW); OUTPUT.f32 receives
// the model's first output for every input, float32, in order. Prints the output
// shape and the opset/ops ONNX Runtime loaded. Exit status 1 with a message on error.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 7) {
    throw new Error('usage: run_onnx.js MODEL.onnx INPUT.f32 OUTPUT.f32 N C H W [BATCH]');
  }
  const [model, input, output] = args;
  const [n, c, h, w] = args.slice(3, 7).map((s) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 1) throw new Error(`expected a positive integer, got ${s}`);
    return v;
  });
  const batch = args.length > 7 ? Number(args[7]) : 500;
  const bytes = fs.readFileSync(input);
  const per = c * h * w;
  if (bytes.length !== n * per * 4) {
    throw new Error(`${input}: expected ${n * per * 4} bytes (${n}x${c}x${h}x${w} float32), got ${bytes.length}`);
  }
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, n * per);
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 2 });
  const inName = session.inputNames[0];
  const outName = session.outputNames[0];
  const chunks = [];
  let outShape = null;
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const x = new ort.Tensor('float32', all.slice(start * per, (start + m) * per), [m, c, h, w]);
    const result = await session.run({ [inName]: x });
    const y = result[outName];
    outShape = y.dims;
    chunks.push(Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  }
  fs.writeFileSync(output, Buffer.concat(chunks));
  console.log(`onnxruntime ${require('onnxruntime-node/package.json').version}: ${n} inputs, last output shape [${outShape}]`);
}

main().catch((e) => {
  console.error(`run_onnx.js: ${e.message}`);
  process.exit(1);
});
