import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import type { Command } from '../command.js';
import type { CliIo } from '../io.js';

type ExternalEntry = (argv: string[], io?: CliIo) => Promise<number | void> | number | void;

/**
 * Loads a command that lives in its own module, by a computed name so that a build without
 * that module still runs every other command and explains what is missing.
 */
export async function loadExternal(file: string, exportName: string, what: string): Promise<ExternalEntry> {
  const specifier = `./${file}.js`;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module|Failed to load url|Failed to resolve/i.test(errorMessage(err))) {
      throw new NsmlError(
        ErrorCodes.INTERNAL,
        `\`${what}\` is not available in this build: cli/commands/${file}.ts is missing; update nsml or rebuild it (npm run build)`,
        { cause: err },
      );
    }
    throw err;
  }
  const fn = mod[exportName];
  if (typeof fn !== 'function') {
    throw new NsmlError(ErrorCodes.INTERNAL, `cli/commands/${file}.ts does not export ${exportName}(argv); \`${what}\` cannot run`);
  }
  return fn as ExternalEntry;
}

async function runExternal(file: string, exportName: string, what: string, argv: string[], io: CliIo): Promise<number> {
  const entry = await loadExternal(file, exportName, what);
  const status = await entry(argv, io);
  return typeof status === 'number' ? status : 0;
}

/** `nsml sim ...`: the trace simulator's own command. */
export const simCommand: Command = {
  usage: 'Usage: nsml sim ... (run `nsml sim --help`)\n',
  run: (argv, io) => runExternal('sim', 'simCommand', 'nsml sim', argv, io),
};

/** `nsml agent gpus ...`: what the GPU probe sees on this node. */
export function runAgentGpus(argv: string[], io: CliIo): Promise<number> {
  return runExternal('agent-gpus', 'agentGpus', 'nsml agent gpus', argv, io);
}
