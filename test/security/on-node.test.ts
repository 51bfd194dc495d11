import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

/*
 * A node that keeps users apart (issue 10), end to end: one real coordinator and one agent
 * running as root with --isolation users, two real Unix accounts created here, and alice's and
 * bob's sessions on the same node. Bob's script tries every on-node attack of the issue; each
 * must fail, while the same reads and the same socket work for alice's own script (so that no
 * check can pass because the thing it looks for is not there).
 */

const ROOT = process.getuid?.() === 0;
const TAG = randomBytes(3).toString('hex');
const ACCOUNTS = { alice: `nsmlt${TAG}a`, bob: `nsmlt${TAG}b` };
const JOIN_TOKEN = `jt-${randomBytes(16).toString('hex')}`;
const CANARY = `canary-${randomBytes(8).toString('hex')}`;
const SECRET = `alice-secret-${randomBytes(8).toString('hex')}`;
const CODE = `alice-code-${randomBytes(8).toString('hex')}`;
const CLEAN = `clean-shared-${randomBytes(8).toString('hex')}`;

/** Alice's session: reads what is hers, talks to her bridge, reports to the test, waits for `go`, reads the shared file again. */
const ALICE = `import json, os, socket, time
home = os.environ["HOME"]
paths = dict(zip(os.environ["DATASET_NAME"].split(":"), os.environ["DATASET_PATH"].split(":")))
out = {"pid": os.getpid(), "uid": os.getuid()}
out["secret"] = open(os.path.join(paths["alicepriv"], "secret.txt")).read()
out["code"] = open("alice_code.txt").read()
out["shared"] = open(os.path.join(paths["shared"], "train.txt")).read()
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ["NSML_AGENT_SOCKET"])
s.sendall(json.dumps({"type": "hello", "v": 1, "sdk": "on-node-test", "pid": os.getpid(), "rank": 0, "session": os.environ["NSML_SESSION"]}).encode() + b"\\n")
out["bridge"] = json.loads(s.makefile().readline())["type"]
s.close()
out["socket"] = os.environ["NSML_AGENT_SOCKET"]
try:  # a checkpoint saved and loaded through her bridge (the agent reads and writes her files for her)
    import nsml
    def load(path):
        out["loaded"] = open(path).read() if os.path.isfile(path) else sorted(os.listdir(path))
    nsml.bind(save=lambda path: open(path, "w").write("alice-weights"), load=load)
    nsml.save("best")
    nsml.load("best")
except Exception as e:
    out["loaded"] = "error: %r" % e
out["token_in_env"] = any("JOIN_TOKEN" in k or "JOIN_TOKEN" in v for k, v in os.environ.items())
open(os.path.join(home, "status.tmp"), "w").write(json.dumps(out))
os.replace(os.path.join(home, "status.tmp"), os.path.join(home, "status.json"))
while not os.path.exists(os.path.join(home, "go")):
    time.sleep(0.05)
print("after", open(os.path.join(paths["shared"], "train.txt")).read(), flush=True)
`;

/** A session that outlives an agent restart, then says hello on its socket. */
const READOPTED = `import json, os, socket, time
home = os.environ["HOME"]
open(os.path.join(home, "ready"), "w").write(os.environ["NSML_AGENT_SOCKET"])
while not os.path.exists(os.path.join(home, "go")):
    time.sleep(0.05)
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ["NSML_AGENT_SOCKET"])
s.sendall(json.dumps({"type": "hello", "v": 1, "sdk": "on-node-test", "pid": os.getpid(), "rank": 0, "session": os.environ["NSML_SESSION"]}).encode() + b"\\n")
print("bridge", json.loads(s.makefile().readline())["type"], flush=True)
`;

/** Bob's session: every attack of the issue, each recorded as OK:... or DENIED:ErrorName. */
const BOB = `import json, os, socket
p = json.load(open("params.json"))
r = {}
def attempt(name, fn):
    try:
        v = fn()
        r[name] = "OK:" + (v if isinstance(v, str) else repr(v))[:300]
    except Exception as e:
        r[name] = "DENIED:" + type(e).__name__ + ":" + str(getattr(e, "code", ""))
def walk(top):
    found = []
    for d, _, files in os.walk(top):
        found += [os.path.join(d, f) for f in files]
    return found
def scan_proc():
    hits, canary = [], False
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        for what in ("cmdline", "environ"):
            try:
                data = open("/proc/%s/%s" % (pid, what), "rb").read()
            except OSError:
                continue
            if p["token"].encode() in data:
                hits.append("%s/%s" % (pid, what))
            if p["canary"].encode() in data:
                canary = True
    return {"token_hits": hits, "canary_seen": canary}
alice, data, apid = p["alice_rank"], p["data"], p["alice_pid"]
mine = dict(zip(os.environ["DATASET_NAME"].split(":"), os.environ["DATASET_PATH"].split(":")))["shared"]
attempt("own_shared_read", lambda: open(os.path.join(mine, "train.txt")).read())
attempt("list_data_dir", lambda: os.listdir(data))
attempt("list_sessions", lambda: os.listdir(os.path.join(data, "sessions")))
attempt("list_sockets", lambda: os.listdir(os.path.join(data, "sessions", ".sock")))
r["walk_data_dir"] = walk(data)
attempt("alice_dataset", lambda: open(os.path.join(alice, "datasets", "alicepriv", "secret.txt")).read())
attempt("alice_workspace", lambda: open(os.path.join(alice, "workspace", "alice_code.txt")).read())
attempt("alice_output_log", lambda: open(os.path.join(alice, "output.log"), "rb").read())
attempt("alice_rank_json", lambda: open(os.path.join(alice, "rank.json")).read())
attempt("alice_checkpoints", lambda: os.listdir(os.path.join(alice, "checkpoints")))
attempt("alice_telemetry", lambda: open(os.path.join(alice, "telemetry.jsonl")).read())
attempt("cached_blob_read", lambda: open(p["secret_blob"]).read())
attempt("dataset_cache_index", lambda: os.listdir(os.path.join(data, "datasets")))
attempt("proc_cwd_list", lambda: os.listdir("/proc/%d/cwd" % apid))
attempt("proc_cwd_file", lambda: open("/proc/%d/cwd/alice_code.txt" % apid).read())
attempt("proc_root_file", lambda: open("/proc/%d/root%s/workspace/alice_code.txt" % (apid, alice)).read())
attempt("proc_environ_alice", lambda: open("/proc/%d/environ" % apid, "rb").read())
attempt("proc_environ_agent", lambda: open("/proc/%d/environ" % p["agent_pid"], "rb").read())
attempt("node_secret", lambda: open(os.path.join(data, "node-secret")).read())
attempt("node_id", lambda: open(os.path.join(data, "node-id")).read())
def hello():
    s = socket.socket(socket.AF_UNIX)
    s.connect(p["alice_socket"])
    s.sendall(json.dumps({"type": "hello", "v": 1, "sdk": "bob", "pid": os.getpid(), "rank": 0, "session": "bob"}).encode() + b"\\n")
    reply = s.makefile().readline()
    s.sendall(json.dumps({"type": "load", "id": "1", "name": "best"}).encode() + b"\\n")
    return reply
attempt("alice_bridge", hello)
attempt("view_write", lambda: open(os.path.join(mine, "train.txt"), "a").write("poison"))
attempt("view_chmod", lambda: os.chmod(os.path.join(mine, "train.txt"), 0o666))
attempt("view_unlink", lambda: os.unlink(os.path.join(mine, "train.txt")))
attempt("view_add", lambda: open(os.path.join(mine, "poison.txt"), "w").write("poison"))
attempt("view_hardlink", lambda: os.link(os.path.join(mine, "train.txt"), os.path.join(os.environ["HOME"], "t")))
attempt("cached_blob_write", lambda: open(p["shared_blob"], "a").write("poison"))
def load_hers():  # through his own bridge: the coordinator decides whose checkpoints a session may load
    import nsml
    got = {}
    nsml.bind(save=lambda path: open(path, "w").write("bob-weights"), load=lambda path: got.update(v=open(path).read() if os.path.isfile(path) else "dir"))
    nsml.load("best", session=p["alice_session"])
    return got.get("v")
attempt("alice_checkpoint_via_own_bridge", load_hers)
r.update(scan_proc())
print("BOB " + json.dumps(r), flush=True)
`;

function useradd(name: string): void {
  const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`useradd ${name}: ${r.stderr}`);
}

function uidOf(name: string): number {
  return Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe.skipIf(!ROOT)('on-node isolation: bob\'s session cannot reach alice\'s (real users; needs root, to create them)', () => {
  let c: TestCluster;
  let files: string;
  let canary: ChildProcess | undefined;
  const made: string[] = [];
  let data = '';

  beforeAll(async () => {
    files = mkdtempSync(join(tmpdir(), 'nsml-on-node-'));
    for (const name of Object.values(ACCOUNTS)) {
      useradd(name);
      made.push(name);
    }
    const users = join(files, 'users');
    writeFileSync(users, `# nsml user → account\nalice ${ACCOUNTS.alice}\nbob ${ACCOUNTS.bob}\n`, { mode: 0o644 });
    const token = join(files, 'join-token');
    writeFileSync(token, `${JOIN_TOKEN}\n`, { mode: 0o600 });
    c = await TestCluster.start({
      agents: 1,
      agentArgs: ['--isolation', 'users', '--run-as', users, '--join-token-file', token],
      prepare: (dir) => chmodSync(dir, 0o711), // mkdtemp's 0700 would keep the session users out (the agent refuses to start then)
    });
    data = join(c.dir, 'node1');
  }, 120_000);

  afterAll(async () => {
    canary?.kill('SIGKILL');
    await c?.destroy();
    for (const name of made) spawnSync('userdel', [name]);
    if (files) rmSync(files, { recursive: true, force: true });
  });

  it('reports that it keeps users apart, and its data is root\'s alone', async () => {
    const nodes = await c.nsmlJson<Array<{ id: string; inventory: { isolation: string } }>>(['node', 'ls']);
    expect(nodes.map((n) => [n.id, n.inventory.isolation])).toEqual([['node1', 'users']]);
    const table = (await c.nsml(['node', 'ls'])).stdout;
    expect(table).not.toContain('shared uid');
  });

  it('runs each user as their account; every attack of bob\'s session on alice\'s fails; the same things work for alice', async () => {
    const alice = c.asUser('alice');
    const bob = c.asUser('bob');
    const priv = makeWorkspace({ 'secret.txt': SECRET }, files);
    const shared = makeWorkspace({ 'train.txt': CLEAN }, files);
    expect((await c.nsml(['dataset', 'push', 'alicepriv', priv, '--private'], { env: alice })).exitCode).toBe(0);
    expect((await c.nsml(['dataset', 'push', 'shared', shared, '--public'], { env: alice })).exitCode).toBe(0);

    // Alice's session runs and waits, holding her dataset, workspace and socket.
    const aws = makeWorkspace({ 'main.py': ALICE, 'alice_code.txt': CODE }, files);
    const run = await c.nsml(['run', '--detach', '--json', '-d', 'alicepriv,shared'], { cwd: aws, env: alice });
    expect(run.exitCode, run.stderr).toBe(0);
    const aliceSession = (JSON.parse(run.stdout) as { name: string }).name;
    const sessions = join(data, 'sessions');
    let aliceRank = '';
    await c.waitFor(() => {
      aliceRank = readdirSync(sessions).filter((n) => n.startsWith('alice+')).map((n) => join(sessions, n))[0] ?? '';
      return aliceRank !== '' && existsSync(join(aliceRank, 'home', 'status.json'));
    }, 'alice\'s script to report', 60_000);
    const status = JSON.parse(readFileSync(join(aliceRank, 'home', 'status.json'), 'utf8')) as {
      pid: number; uid: number; secret: string; code: string; shared: string; bridge: string; socket: string; token_in_env: boolean; loaded: unknown;
    };
    // The positive controls: alice reads her private dataset, her code and the shared dataset, and her bridge answers.
    expect(status).toMatchObject({ uid: uidOf(ACCOUNTS.alice), secret: SECRET, code: CODE, shared: CLEAN, bridge: 'welcome', token_in_env: false, loaded: 'alice-weights' });
    const procStatus = readFileSync(`/proc/${status.pid}/status`, 'utf8');
    expect(procStatus).toMatch(new RegExp(`^Uid:\\s+${uidOf(ACCOUNTS.alice)}\\s+${uidOf(ACCOUNTS.alice)}\\s`, 'm'));
    expect(procStatus).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(procStatus).toMatch(/^Groups:\s+\d+\s*$/m); // her own group only
    expect(readFileSync(`/proc/${status.pid}/environ`).includes(JOIN_TOKEN)).toBe(false); // as root: nothing to find

    const agentPid = (JSON.parse(readFileSync(join(data, 'agent.lock'), 'utf8')) as { pid: number }).pid;
    expect(readFileSync(`/proc/${agentPid}/cmdline`, 'utf8')).toContain('--join-token-file');
    expect(readFileSync(`/proc/${agentPid}/cmdline`).includes(JOIN_TOKEN)).toBe(false);
    expect(readFileSync(join(data, 'node-secret'), 'utf8').trim()).not.toBe(''); // there is a secret to steal
    // A process whose command line bob can read, to prove his /proc scan would see a token there.
    canary = spawn('python3', ['-c', 'import time; time.sleep(600)', CANARY], { stdio: 'ignore' });

    const params = {
      data, alice_session: aliceSession, alice_rank: aliceRank, alice_socket: status.socket, alice_pid: status.pid, agent_pid: agentPid, token: JOIN_TOKEN, canary: CANARY,
      secret_blob: join(data, 'blobs', sha(SECRET).slice(0, 2), sha(SECRET)), shared_blob: join(data, 'blobs', sha(CLEAN).slice(0, 2), sha(CLEAN)),
    };
    expect(readFileSync(params.secret_blob, 'utf8')).toBe(SECRET); // the paths bob guesses are the right ones
    const bws = makeWorkspace({ 'main.py': BOB, 'params.json': JSON.stringify(params) }, files);
    const attack = await c.nsml(['run', '-d', 'shared'], { cwd: bws, env: bob, timeoutMs: 90_000 });
    expect(attack.exitCode, attack.stdout + attack.stderr).toBe(0);
    const line = attack.stdout.split('\n').find((l) => l.startsWith('BOB '));
    expect(line, attack.stdout + attack.stderr).toBeDefined();
    const r = JSON.parse(line!.slice(4)) as Record<string, unknown>;

    expect(r.own_shared_read).toBe(`OK:${CLEAN}`); // bob reads his own view
    const denied = [
      'list_data_dir', 'list_sessions', 'list_sockets', 'alice_dataset', 'alice_workspace', 'alice_output_log', 'alice_rank_json',
      'alice_checkpoints', 'alice_telemetry', 'cached_blob_read', 'dataset_cache_index', 'proc_cwd_list', 'proc_cwd_file', 'proc_root_file',
      'proc_environ_alice', 'proc_environ_agent', 'node_secret', 'node_id', 'alice_bridge', 'view_write', 'view_chmod', 'view_unlink',
      'view_add', 'view_hardlink', 'cached_blob_write',
    ];
    expect(Object.fromEntries(denied.map((k) => [k, String(r[k]).split(':')[0]]))).toEqual(Object.fromEntries(denied.map((k) => [k, 'DENIED'])));
    // Through his own bridge, the coordinator refuses him alice's checkpoint (or does not admit it exists).
    expect(r.alice_checkpoint_via_own_bridge).toMatch(/^DENIED:NsmlError:NSML_E_(PERMISSION_DENIED|SESSION_NOT_FOUND|NOT_FOUND)$/);
    expect(r.walk_data_dir).toEqual([]);
    expect(r.token_hits).toEqual([]);
    expect(r.canary_seen).toBe(true);

    // Nothing bob did reached alice: her view and the cache still hold the clean bytes.
    expect(readFileSync(params.shared_blob, 'utf8')).toBe(CLEAN);
    writeFileSync(join(aliceRank, 'home', 'go'), '');
    const done = await c.nsml(['wait', aliceSession, '--timeout', '60s'], { env: alice });
    expect(done.exitCode, done.stdout + done.stderr).toBe(0);
    const logs = await c.nsml(['logs', aliceSession], { env: alice });
    expect(logs.stdout).toContain(`after ${CLEAN}`);
  }, 180_000);

  it('gives a re-adopted session its socket again, to its user alone, after an agent restart', async () => {
    const alice = c.asUser('alice');
    const ws = makeWorkspace({ 'main.py': READOPTED }, files);
    const run = await c.nsml(['run', '--detach', '--json'], { cwd: ws, env: alice });
    expect(run.exitCode, run.stderr).toBe(0);
    const name = (JSON.parse(run.stdout) as { name: string }).name;
    const sessions = join(data, 'sessions');
    let rank = '';
    await c.waitFor(() => {
      rank = readdirSync(sessions).map((n) => join(sessions, n)).find((d) => existsSync(join(d, 'home', 'ready'))) ?? '';
      return rank !== '';
    }, 'the script to start', 60_000);
    await c.termAgent('node1');
    await c.startAgent('node1');
    await c.waitFor(async () => (await c.nodes()).some((n) => n.id === 'node1' && n.state === 'ready'), 'the agent to come back');
    const socket = readFileSync(join(rank, 'home', 'ready'), 'utf8');
    await c.waitFor(() => existsSync(socket), 'the socket to be served again');
    expect(spawnSync('stat', ['-c', '%u %a', join(socket, '..')], { encoding: 'utf8' }).stdout.trim()).toBe(`${uidOf(ACCOUNTS.alice)} 700`);
    writeFileSync(join(rank, 'home', 'go'), '');
    const done = await c.nsml(['wait', name, '--timeout', '60s'], { env: alice });
    expect(done.exitCode, done.stdout + done.stderr).toBe(0);
    expect((await c.nsml(['logs', name], { env: alice })).stdout).toContain('bridge welcome');
  }, 120_000);

  it('leaves no folder of a finished session to its user', async () => {
    const sessions = join(data, 'sessions');
    await c.waitFor(() => readdirSync(sessions).filter((n) => !n.startsWith('.')).every((n) => !existsSync(join(sessions, n, 'workspace'))), 'workspaces to go');
    for (const n of readdirSync(sessions).filter((x) => !x.startsWith('.'))) {
      for (const d of ['checkpoints', 'home', 'datasets', 'loaded-checkpoints']) {
        const path = join(sessions, n, d);
        if (existsSync(path)) expect([path, spawnSync('stat', ['-c', '%u', path], { encoding: 'utf8' }).stdout.trim()]).toEqual([path, '0']);
      }
    }
  });
});
