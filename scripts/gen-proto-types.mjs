#!/usr/bin/env node
// Generates TypeScript types for every .proto under proto/ into common/proto/generated/,
// with the same loader options that common/proto/load.ts uses at run time.
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const protoDir = join(root, 'proto');
const outDir = join(root, 'common', 'proto', 'generated');

function protoFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return protoFiles(path);
    return name.endsWith('.proto') ? [relative(protoDir, path)] : [];
  });
}

rmSync(outDir, { recursive: true, force: true });
const bin = join(root, 'node_modules', '.bin', 'proto-loader-gen-types');
execFileSync(
  bin,
  [
    '--grpcLib=@grpc/grpc-js',
    '--longs=Number',
    '--enums=String',
    '--defaults',
    '--oneofs',
    '--includeComments',
    `--includeDirs=${protoDir}`,
    `--outDir=${outDir}`,
    '--targetFileExtension=.ts',
    '--importFileExtension=.js',
    ...protoFiles(protoDir),
  ],
  { stdio: 'inherit' },
);
