import { chmodSync, statSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { RunAsUser, SessionUsers } from '../run-as/run-as-user.js';
import { RunnerFixture, shippedLines } from '../testing/runner-fixture.js';
import { Runner } from './runner.js';

const ROOT = process.getuid?.() === 0;
/** An unprivileged uid with no account: setuid needs none. */
const U: RunAsUser = { name: 'nsmlt-u', uid: 54_322, gid: 54_322 };
const users: SessionUsers = {
  resolve: async (user) => {
    if (user === 'mallory') throw new NsmlError(ErrorCodes.PERMISSION_DENIED, 'nsml user mallory has no account on this node');
    return U;
  },
};

/** Run as the session's user: prints what it could and could not do. */
const PROBE = `
import json, os
rank = os.path.dirname(os.environ["NSML_CHECKPOINT_DIR"])
print("ids", os.getuid(), os.getgid(), os.getgroups(), os.environ["USER"])
print("home", os.environ["HOME"] == os.path.join(rank, "home"), os.access(os.environ["HOME"], os.W_OK))
def attempt(what, fn):
    try:
        fn()
        print("did", what)
    except OSError:
        print("refused", what)
attempt("forge-exit", lambda: open(os.path.join(rank, "exit.json"), "w").write(json.dumps({"exitCode": 0})))
attempt("forge-child", lambda: open(os.path.join(rank, "child.json"), "w").write(json.dumps({"pid": 1, "pgid": 1})))
attempt("read-launch", lambda: open(os.path.join(rank, "launch.json")).read())
attempt("write-workspace-file", lambda: open("main.py", "a").write("#"))
attempt("chmod-workspace-file", lambda: os.chmod("main.py", 0o777))
attempt("write-cwd", lambda: open("new.txt", "w").write("x"))
attempt("write-checkpoint", lambda: open(os.path.join(os.environ["NSML_CHECKPOINT_DIR"], "w.pt"), "w").write("w"))
attempt("append-telemetry", lambda: open(os.environ["NSML_TELEMETRY_FILE"], "a").write(""))
attempt("setuid-root", lambda: os.setuid(0))
`;

describe.skipIf(!ROOT)('a rank that runs as its own user (as root)', () => {
  const fixtures: RunnerFixture[] = [];
  const runners: Runner[] = [];
  let umask = 0;
  beforeAll(() => {
    umask = process.umask(0o077); // as the agent sets it (agent/run-as)
  });
  afterAll(() => void process.umask(umask));
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stopAll(0, 'test over');
    for (const f of fixtures.splice(0)) f.cleanup();
  });
  function setup(): { f: RunnerFixture; runner: Runner } {
    const f = new RunnerFixture();
    fixtures.push(f);
    chmodSync(f.dir, 0o711);
    const runner = Runner.open(f.sessionsDir, f.deps({ sessionUsers: users }));
    chmodSync(f.sessionsDir, 0o711);
    runners.push(runner);
    return { f, runner };
  }

  it('runs the process as the user, which can use what it was given and forge nothing of the supervisor\'s', async () => {
    const { f, runner } = setup();
    const r = runner.start(f.spec({ workspace: f.workspace({ 'main.py': PROBE }) }));
    await r.whenDone();
    const out = shippedLines(r.dir).map((l) => l.text);
    expect(r.record.end, out.join('\n')).toMatchObject({ exitCode: 0, signal: null });
    expect(out).toEqual([
      `ids ${U.uid} ${U.gid} [${U.gid}] ${U.name}`,
      'home True True',
      'refused forge-exit',
      'refused forge-child',
      'refused read-launch',
      'refused write-workspace-file',
      'refused chmod-workspace-file',
      'did write-cwd',
      'did write-checkpoint',
      'did append-telemetry',
      'refused setuid-root',
    ]);
    for (const name of ['exit.json', 'child.json', 'output.log', 'launch.json', 'user.json'] as const) {
      const info = statSync(r.dir.file(name));
      expect([name, info.uid, info.mode & 0o077]).toEqual([name, 0, 0]);
    }
    expect(statSync(r.dir.root).mode & 0o777).toBe(0o711);
    // Taken back once the rank ended.
    for (const d of [r.dir.checkpoints, r.dir.home]) expect(statSync(d).uid).toBe(0);
    expect(statSync(r.dir.telemetry).uid).toBe(U.uid);
  });

  it('fails to start, saying why, when the user has no account here', async () => {
    const { f, runner } = setup();
    const r = runner.start(f.spec({ user: 'mallory', session: 'mallory/scratch/1', workspace: f.workspace({ 'main.py': 'print("never")\n' }) }));
    await r.whenDone();
    expect(r.record.phase).toBe('failed_to_start');
    expect(r.record.end?.message).toMatch(/nsml user mallory has no account on this node/);
  });
});
