/**
 * Which nsml session a GPU process belongs to. The agent starts every session process with
 * `NSML_SESSION` in its environment, and children inherit it, so reading
 * `/proc/<pid>/environ` finds the owner of any process of a session; a process without it (or
 * that cannot be read) is foreign.
 */
import { readFileSync } from 'node:fs';

/** The session owning `pid`, or "" when foreign. */
export type SessionResolver = (pid: number) => string;

export interface ProcSessionResolverOptions {
  /** Environment variable naming the session, default `NSML_SESSION`. */
  envVar?: string;
  /** Default `/proc`. */
  procRoot?: string;
  /** Owners the agent knows directly (its own child PIDs), consulted first. */
  known?: () => ReadonlyMap<number, string>;
  /**
   * Whether a session runs on this node now. A process naming any other session is foreign:
   * anyone can put NSML_SESSION in an environment, only the agent starts sessions.
   */
  isRunning?: (session: string) => boolean;
}

export function createProcSessionResolver(options: ProcSessionResolverOptions = {}): SessionResolver {
  const prefix = `${options.envVar ?? 'NSML_SESSION'}=`;
  const procRoot = options.procRoot ?? '/proc';
  return (pid) => {
    const known = options.known?.().get(pid);
    if (known !== undefined) return known;
    let environ: string;
    try {
      environ = readFileSync(`${procRoot}/${pid}/environ`, 'latin1');
    } catch {
      return '';
    }
    const entry = environ.split('\0').find((e) => e.startsWith(prefix));
    const session = entry ? entry.slice(prefix.length) : '';
    return session !== '' && (options.isRunning?.(session) ?? true) ? session : '';
  };
}

/** Every process is foreign: for the CLI, which runs no sessions. */
export const foreignResolver: SessionResolver = () => '';
