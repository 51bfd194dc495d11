import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { coordinatorAddress, readClientConfig, writeClientConfig } from '../../common/config.js';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { parseToken } from '../../common/auth/token.js';
import { CoordinatorClient } from '../client.js';
import { type Command, printUsage, withClient } from '../command.js';
import { credentialsPath, removeCredential, saveCredential } from '../credentials.js';
import { parseFlags } from '../flags.js';
import { printJson } from '../io.js';

const LOGIN_USAGE = `Usage: nsml login [--coordinator HOST:PORT] [--token-file FILE | --with-token]

Logs this machine's CLI in to a coordinator: checks the token with the coordinator and keeps it
in $NSML_HOME/credentials (mode 600), one per coordinator. The token comes from --token-file,
from standard input with --with-token (\`echo "$TOKEN" | nsml login --with-token\`), or is asked
for. An admin gives you one with \`nsml user add NAME\`; \`nsml up\` logs you in by itself.
NSML_TOKEN, when set, is used instead of the file.

Options:
  --coordinator HOST:PORT   the coordinator (kept as the default for later commands)
  --token-file FILE         read the token from FILE (e.g. a coordinator's <data>/admin-token)
  --with-token              read the token from standard input
`;

const LOGIN_FLAGS = {
  coordinator: { type: 'string' },
  'token-file': { type: 'string' },
  'with-token': { type: 'boolean' },
} as const;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function tokenFrom(values: { 'token-file'?: string; 'with-token'?: boolean }, cwd: string): Promise<{ text: string; where: string }> {
  if (values['token-file'] !== undefined) {
    const path = resolve(cwd, values['token-file']);
    try {
      return { text: readFileSync(path, 'utf8'), where: path };
    } catch (err) {
      throw new NsmlError(ErrorCodes.NOT_FOUND, `cannot read the token file ${path}: ${errorMessage(err)}`, { cause: err });
    }
  }
  if (values['with-token'] || !process.stdin.isTTY) return { text: await readStdin(), where: 'standard input' };
  process.stderr.write('Token (from `nsml user add` or `nsml token create`): ');
  const text = await new Promise<string>((done) => process.stdin.once('data', (d) => done(String(d))));
  return { text, where: 'the prompt' };
}

export const loginCommand: Command = {
  usage: LOGIN_USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, LOGIN_FLAGS, 'login');
    if (!parsed) return printUsage(io, LOGIN_USAGE);
    const address = parsed.values.coordinator ?? coordinatorAddress(io.env);
    const given = await tokenFrom(parsed.values, io.cwd);
    const { token } = parseToken(given.text, given.where);
    const client = new CoordinatorClient({ env: io.env, address, token });
    try {
      const me = await client.whoami(io.signal);
      if (me.node) throw new NsmlError(ErrorCodes.UNAUTHENTICATED, `that is node ${me.node}'s credential, not a user's token; log in with a user token`);
      const path = saveCredential(address, token, me.user, io.env);
      if (parsed.values.coordinator !== undefined) writeClientConfig({ ...readClientConfig(io.env), coordinator: address }, io.env);
      io.out(`logged in to ${address} as ${me.user}${me.admin ? ' (admin)' : ''}; the token is kept in ${path}\n`);
      return 0;
    } finally {
      client.close();
    }
  },
};

const LOGOUT_USAGE = `Usage: nsml logout [--coordinator HOST:PORT]

Forgets this machine's token for the coordinator (it stays valid: revoke it with
\`nsml token revoke ID\` to end it everywhere).
`;

export const logoutCommand: Command = {
  usage: LOGOUT_USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, { coordinator: { type: 'string' } } as const, 'logout');
    if (!parsed) return printUsage(io, LOGOUT_USAGE);
    const address = parsed.values.coordinator ?? coordinatorAddress(io.env);
    const removed = removeCredential(address, io.env);
    io.out(removed ? `logged out of ${address} (${credentialsPath(io.env)})\n` : `no token kept for ${address}\n`);
    return 0;
  },
};

const WHOAMI_USAGE = `Usage: nsml whoami [--json]

Prints who the coordinator takes you for, from your token (NSML_TOKEN, else \`nsml login\`'s).
`;

export const whoamiCommand: Command = {
  usage: WHOAMI_USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, { json: { type: 'boolean' } } as const, 'whoami');
    if (!parsed) return printUsage(io, WHOAMI_USAGE);
    const me = await withClient(io, (client) => client.whoami(io.signal));
    if (parsed.values.json) printJson(io, me);
    else io.out(me.node ? `node ${me.node}\n` : `${me.user}${me.admin ? ' (admin)' : ''}\n`);
    return 0;
  },
};
