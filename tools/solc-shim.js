#!/usr/bin/env node
// A native-solc look-alike over solc-js (the npm `solc` package), because no native solc binary can be
// downloaded here. It answers the two calls that py-solc-x (ape), forge and crytic-compile make:
//   solc --version
//   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths ...]   (input JSON on stdin)
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

function parseArgs(argv) {
  const opts = { standardJson: false, version: false, roots: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--version') opts.version = true;
    else if (arg === '--standard-json') opts.standardJson = true;
    else if (arg === '--base-path' || arg === '--include-path') opts.roots.push(argv[++i]);
    else if (arg === '--allow-paths') i++;
  }
  return opts;
}

function importResolver(roots) {
  const searchRoots = [...roots, process.cwd()].filter(Boolean);
  return (importPath) => {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : searchRoots.map((root) => path.resolve(root, importPath));
    for (const candidate of candidates) {
      if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
    }
    return { error: `File not found: ${importPath} (searched ${searchRoots.join(', ')})` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return 0;
  }
  if (!opts.standardJson) {
    process.stderr.write('solc-shim: only --version and --standard-json are supported\n');
    return 1;
  }
  const input = fs.readFileSync(0, 'utf8');
  process.stdout.write(solc.compile(input, { import: importResolver(opts.roots) }));
  return 0;
}

process.exitCode = main();
