import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOADER_OPTIONS, repoRoot } from '../../common/proto/load.js';

/**
 * Every rpc of every service in proto/, with a fast-check arbitrary of structurally valid request
 * messages whose field values are hostile: huge and control-laden strings, negative and huge
 * numbers, NaN. Read from the loaded package definition, so a new rpc is fuzzed without a word here.
 */

interface FieldDescriptor {
  name: string;
  label: string;
  type: string;
  typeName: string;
}

interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
  options: { mapEntry?: boolean } | null;
}

export interface Rpc {
  /** `/nsml.v1.SessionService/Submit`. */
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  /** Encodes a request object (camelCase fields) to bytes. */
  serialize(request: object): Buffer;
  /** Structurally valid requests with random field values. */
  request: fc.Arbitrary<object>;
}

/** The package definition of every .proto nsml serves: proto/nsml/v1/*.proto and the health service. */
export function loadDefinition(): protoLoader.PackageDefinition {
  const protoDir = join(repoRoot(), 'proto');
  const files = readdirSync(join(protoDir, 'nsml', 'v1')).filter((f) => f.endsWith('.proto')).map((f) => `nsml/v1/${f}`);
  return protoLoader.loadSync([...files, 'grpc/health/v1/health.proto'], { ...LOADER_OPTIONS, includeDirs: [protoDir] });
}

const SPECIAL_STRINGS = [
  '', ' ', '.', '..', '../../etc/passwd', '/', 'a/b/c', 'fuzz/scratch/1', 'alice/mnist/1', 'fuzz', 'admin', '*',
  'mnist@2', 'x'.repeat(10_240), 'é'.repeat(5_000), '\u0000', 'a\nb', '\u001b[2J', 'evil\u202egnp', '\u2066x\u2069',
  '\ud800', '%s%n', '${jndi:x}', '0'.repeat(64), 'f'.repeat(64), '-1', '9'.repeat(30),
];
const SPECIAL_NUMBERS = [0, -1, 1, -(2 ** 31), 2 ** 31 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 62];

const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('\u0000', '\u0007', '\u007f', '\u202e', '\u2066', '/', '.', 'a'), maxLength: 20 }) },
);

const int32 = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(0, -1, 1, -(2 ** 31), 2 ** 31 - 1));
const uint32 = fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(0, 1, 2 ** 32 - 1));
const int64 = fc.oneof(fc.integer(), fc.constantFrom(...SPECIAL_NUMBERS), fc.constantFrom('9223372036854775807', '-9223372036854775808'));
const uint64 = fc.oneof(fc.nat(), fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER, 2 ** 62), fc.constantFrom('18446744073709551615'));

function scalar(type: string): fc.Arbitrary<unknown> | undefined {
  switch (type) {
    case 'TYPE_STRING': return hostileString;
    case 'TYPE_BYTES': return fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constant(new Uint8Array(100_000)));
    case 'TYPE_BOOL': return fc.boolean();
    case 'TYPE_DOUBLE': case 'TYPE_FLOAT': return fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 1e308));
    case 'TYPE_INT32': case 'TYPE_SINT32': case 'TYPE_SFIXED32': return int32;
    case 'TYPE_UINT32': case 'TYPE_FIXED32': return uint32;
    case 'TYPE_INT64': case 'TYPE_SINT64': case 'TYPE_SFIXED64': return int64;
    case 'TYPE_UINT64': case 'TYPE_FIXED64': return uint64;
    case 'TYPE_ENUM': return fc.integer({ min: -1, max: 8 });
    default: return undefined;
  }
}

type Resolve = (typeName: string, scope: MessageDescriptor[]) => MessageDescriptor;

function messageArbitrary(message: MessageDescriptor, resolve: Resolve, depth: number): fc.Arbitrary<object> {
  if (depth > 3) return fc.constant({});
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of message.field) {
    let value: fc.Arbitrary<unknown>;
    if (f.type === 'TYPE_MESSAGE') {
      const nested = resolve(f.typeName, message.nestedType);
      if (nested.options?.mapEntry) {
        const [k, v] = [nested.field[0]!, nested.field[1]!];
        const valueArb = v.type === 'TYPE_MESSAGE' ? messageArbitrary(resolve(v.typeName, nested.nestedType), resolve, depth + 1) : scalar(v.type)!;
        fields[f.name] = fc.dictionary(scalar(k.type)!.map(String), valueArb, { maxKeys: 4 });
        continue;
      }
      value = messageArbitrary(nested, resolve, depth + 1);
    } else {
      value = scalar(f.type) ?? fc.constant(undefined);
    }
    fields[f.name] = f.label === 'LABEL_REPEATED' ? fc.array(value, { maxLength: depth === 0 ? 4 : 2 }) : value;
  }
  return fc.record(fields, { requiredKeys: [] });
}

/** Every rpc of every service in the definition, with its request arbitrary. */
export function listRpcs(definition: protoLoader.PackageDefinition): Rpc[] {
  const messages = new Map<string, MessageDescriptor>();
  for (const [name, entry] of Object.entries(definition)) {
    const type = (entry as { type?: MessageDescriptor; format?: string }).type;
    if ((entry as { format?: string }).format?.includes('DescriptorProto') && type) messages.set(name, type);
  }
  const rpcs: Rpc[] = [];
  for (const [serviceName, entry] of Object.entries(definition)) {
    if ('format' in entry) continue;
    const pkg = serviceName.slice(0, serviceName.lastIndexOf('.'));
    const resolve: Resolve = (typeName, scope) => {
      const bare = typeName.replace(/^\./, '');
      const found = scope.find((m) => m.name === bare) ?? messages.get(bare) ?? messages.get(`${pkg}.${bare}`);
      if (!found) throw new Error(`cannot resolve message type ${typeName} of ${serviceName}`);
      return found;
    };
    for (const method of Object.values(entry as protoLoader.ServiceDefinition)) {
      const requestType = method.requestType.type as unknown as MessageDescriptor;
      rpcs.push({
        path: method.path,
        requestStream: method.requestStream,
        responseStream: method.responseStream,
        serialize: (request) => method.requestSerialize(request),
        request: messageArbitrary(resolve(requestType.name, []), resolve, 0),
      });
    }
  }
  return rpcs;
}
