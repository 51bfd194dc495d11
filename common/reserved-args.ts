/**
 * NSML's reserved arguments of a training script's command line: `--pause 1 --iteration NAME`
 * relaunch it from a checkpoint (fork, resume). Shared by the CLI (which drops a parent's before
 * setting them anew) and the coordinator (which sets them on a fork).
 */

/** The value of `--NAME V` or `--NAME=V` in a command line, if given ('' for a trailing `--NAME`). */
export function reservedArg(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i += 1) {
    const a = args[i]!;
    if (a === `--${name}`) return args[i + 1] ?? '';
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/** `args` without `--pause V` and `--iteration V` (a parent's, before a fork sets its own). */
export function withoutPauseArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const a = args[i]!;
    if (a === '--pause' || a === '--iteration') i += 1;
    else if (!a.startsWith('--pause=') && !a.startsWith('--iteration=')) out.push(a);
  }
  return out;
}

/** `args`, then `--pause 1 --iteration CHECKPOINT` where they are not given already. */
export function withPauseArgs(args: readonly string[], checkpoint: string): string[] {
  const out = [...args];
  if (reservedArg(args, 'pause') === undefined) out.push('--pause', '1');
  if (reservedArg(args, 'iteration') === undefined) out.push('--iteration', checkpoint);
  return out;
}
