import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { checkControlBody } from '../../common/control-command.js';
import { MAX_COMMAND_ID_CHARS, type BridgeCommand } from './protocol.js';

/** `nsml control` words → a command body; shared with the CLI and the coordinator (common/control-command.ts). */
export { parseControlWords } from '../../common/control-command.js';

/** Checks a command before it goes down to a script (it comes from the coordinator's stream). */
export function validateCommand(command: BridgeCommand): BridgeCommand {
  const { id, name, args } = command as { id: unknown; name: unknown; args: unknown };
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_COMMAND_ID_CHARS) {
    throw new NsmlError(
      ErrorCodes.INVALID_ARGUMENT,
      `a command id must be a string of 1 to ${MAX_COMMAND_ID_CHARS} characters, got ${JSON.stringify(id)?.slice(0, 40)}`,
    );
  }
  const body = checkControlBody(name, args);
  return { id, name: body.name, args: body.args };
}
