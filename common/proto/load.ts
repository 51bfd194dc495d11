import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType as AdminProto } from './generated/admin.js';
import type { ProtoGrpcType as AgentProto } from './generated/agent.js';
import type { ProtoGrpcType as BlobProto } from './generated/blob.js';
import type { ProtoGrpcType as CheckpointProto } from './generated/checkpoint.js';
import type { ProtoGrpcType as DatasetProto } from './generated/dataset.js';
import type { ProtoGrpcType as HealthProto } from './generated/health.js';
import type { ProtoGrpcType as SessionProto } from './generated/session.js';
import type { ProtoGrpcType as UserProto } from './generated/user.js';

/** The loader options; scripts/gen-proto-types.mjs generates the types with the same ones. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The repository root: the nearest folder above this file that holds proto/nsml. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'proto', 'nsml', 'v1'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find proto/nsml/v1 above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export type NsmlProto = SessionProto & AgentProto & BlobProto & AdminProto & HealthProto & DatasetProto & CheckpointProto & UserProto;

let cached: NsmlProto | undefined;

/** Loads every nsml service definition once per process. */
export function loadProto(): NsmlProto {
  if (cached) return cached;
  const protoDir = join(repoRoot(), 'proto');
  const files = ['nsml/v1/session.proto', 'nsml/v1/agent.proto', 'nsml/v1/blob.proto', 'nsml/v1/admin.proto', 'nsml/v1/dataset.proto', 'nsml/v1/checkpoint.proto', 'nsml/v1/user.proto', 'grpc/health/v1/health.proto'];
  const definition = protoLoader.loadSync(files, { ...LOADER_OPTIONS, includeDirs: [protoDir] });
  cached = grpc.loadPackageDefinition(definition) as unknown as NsmlProto;
  return cached;
}
