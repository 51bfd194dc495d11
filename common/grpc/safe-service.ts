import * as grpc from '@grpc/grpc-js';
import type { Readable } from 'node:stream';
import { echo } from '../echo.js';
import { ErrorCodes, NsmlError, errorMessage } from '../errors.js';
import { toServiceError } from './status.js';

/**
 * Services that answer bad input with NSML_E_* codes, in one place. grpc-js answers a request it
 * cannot decode with a bare INTERNAL ("Error deserializing request") and one whose handler throws
 * synchronously with a bare UNKNOWN. Here each method's decoder returns a marker instead of
 * throwing, and each handler is wrapped so that the marker (in a unary request or anywhere in a
 * request stream) and a synchronous throw are answered with the code: NSML_E_MALFORMED_REQUEST
 * (INVALID_ARGUMENT) for the marker, the thrown error's own code otherwise.
 */

const MALFORMED = Symbol('nsml.malformed-request');

interface Malformed {
  readonly [MALFORMED]: NsmlError;
}

function isMalformed(value: unknown): value is Malformed {
  return typeof value === 'object' && value !== null && MALFORMED in value;
}

/** `nsml.v1.SubmitRequest` for a method at `/nsml.v1.SessionService/Submit`. */
function requestTypeName(definition: grpc.MethodDefinition<unknown, unknown>): string {
  const name = (definition as { requestType?: { type?: { name?: unknown } } }).requestType?.type?.name;
  const service = definition.path.split('/')[1] ?? '';
  const pkg = service.slice(0, service.lastIndexOf('.'));
  return typeof name === 'string' ? (pkg ? `${pkg}.${name}` : name) : `request of ${definition.path}`;
}

function safeDeserialize(definition: grpc.MethodDefinition<unknown, unknown>): grpc.deserialize<unknown> {
  const decode = definition.requestDeserialize;
  const typeName = requestTypeName(definition);
  return (bytes: Buffer) => {
    try {
      return decode(bytes);
    } catch (err) {
      const error = new NsmlError(
        ErrorCodes.MALFORMED_REQUEST,
        `the request to ${definition.path} is not a valid ${typeName} message (${bytes.length} bytes: ${echo(errorMessage(err))}); encode it with the service's .proto files`,
        { cause: err },
      );
      return { [MALFORMED]: error } satisfies Malformed;
    }
  };
}

type Fail = (err: unknown) => void;

/** Makes a request stream answer a malformed message with `fail` instead of handing it on. */
function guardStream(call: Readable, fail: Fail): void {
  const push = call.push.bind(call);
  call.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (isMalformed(chunk)) {
      fail(chunk[MALFORMED]);
      return false;
    }
    return push(chunk, encoding);
  };
}

/** The handler of one method, wrapped by its kind. */
function safeHandler(definition: grpc.MethodDefinition<unknown, unknown>, handler: grpc.UntypedHandleCall, self: unknown): grpc.UntypedHandleCall {
  const run = (args: unknown[], fail: Fail) => {
    try {
      (handler as (...a: unknown[]) => void).apply(self, args);
    } catch (err) {
      fail(err);
    }
  };
  if (!definition.requestStream) {
    if (!definition.responseStream) {
      return ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const fail: Fail = (err) => callback(toServiceError(err));
        if (isMalformed(call.request)) return fail(call.request[MALFORMED]);
        run([call, callback], fail);
      }) as grpc.handleUnaryCall<unknown, unknown>;
    }
    return ((call: grpc.ServerWritableStream<unknown, unknown>) => {
      const fail: Fail = (err) => call.emit('error', toServiceError(err));
      if (isMalformed(call.request)) return fail(call.request[MALFORMED]);
      run([call], fail);
    }) as grpc.handleServerStreamingCall<unknown, unknown>;
  }
  if (!definition.responseStream) {
    return ((call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const fail: Fail = (err) => callback(toServiceError(err));
      guardStream(call, fail);
      run([call, callback], fail);
    }) as grpc.handleClientStreamingCall<unknown, unknown>;
  }
  return ((call: grpc.ServerDuplexStream<unknown, unknown>) => {
    const fail: Fail = (err) => call.emit('error', toServiceError(err));
    guardStream(call, fail);
    run([call], fail);
  }) as grpc.handleBidiStreamingCall<unknown, unknown>;
}

/** A service definition and implementation whose every method answers bad input with an NSML_E_* code. */
export function safeService(
  definition: grpc.ServiceDefinition,
  implementation: grpc.UntypedServiceImplementation,
): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation] {
  const safeDefinition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const safeImplementation: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition as Record<string, grpc.MethodDefinition<unknown, unknown>>)) {
    safeDefinition[name] = { ...method, requestDeserialize: safeDeserialize(method) };
    for (const key of [name, method.originalName]) {
      const handler = key === undefined ? undefined : implementation[key];
      if (key !== undefined && handler !== undefined) safeImplementation[key] = safeHandler(method, handler, implementation);
    }
  }
  return [safeDefinition as grpc.ServiceDefinition, safeImplementation];
}

/** A grpc.Server whose `addService` makes every service safe (`safeService`). */
export class SafeServer extends grpc.Server {
  override addService(service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    super.addService(...safeService(service, implementation));
  }
}
