#!/usr/bin/env bash
# The check of nsml on a real GPU machine (README: "Checked on a real GPU").
#
#   bash scripts/device-check.sh --pack   on the development machine: fills .device/ (ignored through
#                                         .git/info/exclude) with the last commit's files, its dist/,
#                                         this machine's node (compressed) and a production-only
#                                         node_modules (about 30 MB in all)
#   OUT=DIR bash scripts/device-check.sh  on the GPU machine (the device tool sets OUT), with .device/
#                                         carried (carry: [".device"]). It assembles the commit, dist/,
#                                         node_modules/ and examples/torch-gang from this checkout in
#                                         /tmp and runs from there; the checkout is left as it is.
#
# On the GPU machine, each step prints "PASS name" or "FAIL name (why)" and runs under `timeout`:
#   smi-idle    what nvidia-smi prints, in every form the probe uses, with nothing running
#   node        node from .device/ runs and better-sqlite3's native addon loads
#   probe-idle  `nsml agent gpus --json` agrees with nvidia-smi's own CSV (uuid, name, memory)
#   smi-busy    the same forms while a torch job holds the GPU; the probe lists its pid as foreign
#   up          `nsml up` (NSML_HOME under /tmp)
#   mnist       examples/torch-mnist through `nsml run -g 1`, one epoch, on CUDA; logs and metrics
#   gang        a second agent offering the same GPU; examples/torch-gang with -g 2
#               --gpus-per-node 1: two ranks, torch.distributed (gloo) all_reduce
# $OUT receives device-check.log, summary.txt, nvidia-smi.tar.gz (the captures), nsml-logs.tar.gz.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2

pack() {
  set -e
  grep -qx '/.device/' .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo '/.device/' >>.git/info/exclude; }
  rm -rf .device
  mkdir -p .device
  local stage snap
  # The GPU machine runs the last commit (plus examples/torch-gang from the working tree), so that
  # uncommitted edits in this checkout do not decide the result: its sources and its dist/.
  snap=$(mktemp -d)
  git archive HEAD | tar -x -C "$snap"
  git archive HEAD | xz -T0 -9 >.device/head.tar.xz
  git rev-parse --short HEAD >.device/commit
  ln -s "$ROOT/node_modules" "$snap/node_modules"
  (cd "$snap" && node scripts/gen-proto-types.mjs && npx tsc -p tsconfig.build.json)
  cp -a "$snap/dist" .device/dist
  rm -rf "$snap"
  stage=$(mktemp -d)
  cp package.json package-lock.json "$stage/"
  cp -a node_modules "$stage/"
  (cd "$stage" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund)
  local sqlite="$stage/node_modules/better-sqlite3"
  rm -rf "$sqlite/deps" "$sqlite/src" "$sqlite/build/Release/obj" "$sqlite/build/Release/obj.target" \
    "$sqlite/build/Release/.deps" "$sqlite/build/deps" "$sqlite/build/Release/test_extension.node" "$sqlite"/build/Release/*.a
  tar -C "$stage" -cf - node_modules | xz -T0 -9 >.device/node_modules.tar.xz
  xz -T0 -9 -c "$(readlink -f "$(command -v node)")" >.device/node.xz
  # A fallback for node's one non-glibc dependency, used only if node does not start there.
  xz -9 -c "$(readlink -f /lib/x86_64-linux-gnu/libstdc++.so.6)" >.device/libstdc++.so.6.xz
  rm -rf "$stage"
  du -sh .device/*
  du -sh .device
}

if [ "${1:-}" = --pack ]; then
  pack
  exit $?
fi

# ---------------------------------------------------------------- on the GPU machine
if [ -z "${OUT:-}" ] || [ ! -f .device/head.tar.xz ]; then
  echo "device-check: set OUT and run \`bash scripts/device-check.sh --pack\` first (.device/ is missing)" >&2
  exit 2
fi
export OUT
export WORK=/tmp/nsml-device-check
rm -rf "$WORK"
mkdir -p "$OUT" "$WORK/smi" "$WORK/bin" "$WORK/lib"
exec > >(tee "$OUT/device-check.log") 2>&1
TEE_PID=$!
export PYTHONUNBUFFERED=1
export NSML_HOME=$WORK/home NSML_USER=device NSML_PORT=${NSML_PORT:-7450}
export SMI=$WORK/smi ROOT APP=$WORK/app
export PATH="$WORK/bin:$PATH"
command -v nvidia-smi >/dev/null || export PATH="$PATH:/usr/local/nvidia/bin:/usr/bin"
# The agent runs sessions with python3 from PATH: make it the one that has torch.
if ! python3 -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("torch") is None)' 2>/dev/null && [ -x /opt/torch/.venv/bin/python3 ]; then
  export PATH="/opt/torch/.venv/bin:$PATH"
fi
T0=$(date +%s)
RESULTS=()

# All steps end by T0 + DEADLINE_S (the device call's own limit is a little longer).
DEADLINE_S=${DEADLINE_S:-400}

# step NAME LIMIT_S FUNCTION: runs FUNCTION under timeout, records PASS/FAIL.
step() {
  local name=$1 limit=$2 fn=$3 started rc why left
  started=$(date +%s)
  left=$((T0 + DEADLINE_S - started))
  if [ "$left" -lt 15 ]; then
    skip "$name" "no time left"
    return 1
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo
  echo "=== $name (limit ${limit}s) at +$((started - T0))s"
  timeout -k 5 "$limit" bash -c "$fn"
  rc=$?
  if [ $rc -eq 0 ]; then
    RESULTS+=("PASS $name ($(($(date +%s) - started)) s)")
    echo "=== PASS $name"
  else
    why="exit $rc"
    [ $rc -eq 124 ] && [ $(($(date +%s) - started)) -ge "$limit" ] && why="timed out after ${limit}s"
    RESULTS+=("FAIL $name ($why)")
    echo "=== FAIL $name ($why)"
  fi
  return $rc
}
skip() { RESULTS+=("SKIP $1 ($2)"); echo "=== SKIP $1 ($2)"; }

nsml() { node "$APP/bin/nsml.js" "$@"; }
export -f nsml

USAGE_Q='index,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw'
APPS_Q='gpu_uuid,gpu_bus_id,pid,used_memory,process_name'
export USAGE_Q APPS_Q

# capture PREFIX: every nvidia-smi form the probe uses (and the plain ones), into $SMI/PREFIX.*
capture() {
  local p=$SMI/$1
  smi() {
    local file=$1
    shift
    nvidia-smi "$@" >"$file" 2>"$file.stderr" || echo "  nvidia-smi $* exited $?"
    [ -s "$file.stderr" ] || rm -f "$file.stderr"
  }
  smi "$p.table.txt"
  smi "$p.list.txt" -L
  smi "$p.xml" -q -x
  smi "$p.i0.xml" -q -x -i 0
  smi "$p.q.txt" -q
  smi "$p.query-gpu.csv" --query-gpu=$USAGE_Q --format=csv,noheader,nounits
  smi "$p.query-gpu.header.csv" --query-gpu=$USAGE_Q --format=csv
  timeout 3.5 nvidia-smi --query-gpu=$USAGE_Q --format=csv,noheader,nounits -lms 1000 >"$p.query-gpu.lms.csv" 2>&1 || true
  smi "$p.compute-apps.csv" --query-compute-apps=$APPS_Q --format=csv,noheader,nounits
  smi "$p.compute-apps.header.csv" --query-compute-apps=$APPS_Q --format=csv
  smi "$p.inventory.csv" --query-gpu=index,uuid,name,memory.total,driver_version,pci.bus_id --format=csv,noheader,nounits
  wc -c "$p".* | sed 's/^/  /'
  echo "  query-gpu: $(cat "$p.query-gpu.csv")"
  echo "  compute-apps: $(tr '\n' ';' <"$p.compute-apps.csv")"
}
export -f capture

s_smi_idle() {
  set -e
  command -v nvidia-smi
  nvidia-smi --version || true
  capture idle
  grep -q '<nvidia_smi_log' "$SMI/idle.xml"
  cat "$SMI/idle.table.txt"
}
export -f s_smi_idle

s_node() {
  set -e
  # xz may be missing there: python's lzma reads both the binary and the tar.
  python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' .device/node.xz "$WORK/bin/node"
  chmod +x "$WORK/bin/node"
  untar() { python3 -c 'import tarfile,sys; t=tarfile.open(sys.argv[1]); t.extractall(sys.argv[2], **({"filter":"fully_trusted"} if hasattr(tarfile,"fully_trusted_filter") else {}))' "$@"; }
  mkdir -p "$APP"
  untar .device/head.tar.xz "$APP"
  untar .device/node_modules.tar.xz "$APP"
  cp -a .device/dist "$APP/dist"
  cp -a examples/torch-gang "$APP/examples/"
  echo "running commit $(cat .device/commit) (and examples/torch-gang of the checkout) from $APP"
  if ! node --version; then
    echo "node does not start; trying the carried libstdc++"
    python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' .device/libstdc++.so.6.xz "$WORK/lib/libstdc++.so.6"
    echo "export LD_LIBRARY_PATH=$WORK/lib" >"$WORK/env.sh"
    export LD_LIBRARY_PATH=$WORK/lib
    node --version
  fi
  (cd "$APP" && node -e "const D=require('better-sqlite3'); const db=new D(':memory:'); console.log('better-sqlite3 loads: sqlite', db.prepare('select sqlite_version() v').get().v)")
  nsml --help | head -3
}
export -f s_node

# probe_vs_csv STATE.json INVENTORY.csv [PID]: the probe's GPUs equal nvidia-smi's CSV; PID listed.
cat >"$WORK/compare.mjs" <<'EOF'
import { readFileSync } from 'node:fs';
const [statePath, csvPath, pid] = process.argv.slice(2);
const state = JSON.parse(readFileSync(statePath, 'utf8'));
const rows = readFileSync(csvPath, 'utf8').trim().split('\n').map((l) => l.split(',').map((s) => s.trim()));
const problems = [];
if (state.error) problems.push(`probe error: ${state.error}`);
if (state.gpus.length !== rows.length) problems.push(`probe has ${state.gpus.length} GPUs, nvidia-smi ${rows.length}`);
for (const [index, uuid, name, memoryTotal] of rows) {
  const gpu = state.gpus.find((g) => g.index === Number(index));
  if (!gpu) { problems.push(`GPU ${index} missing`); continue; }
  if (gpu.uuid !== uuid) problems.push(`GPU ${index} uuid ${gpu.uuid} != ${uuid}`);
  if (gpu.name !== name) problems.push(`GPU ${index} name ${gpu.name} != ${name}`);
  if (Number(gpu.memoryTotalMib) !== Number(memoryTotal)) problems.push(`GPU ${index} memory ${gpu.memoryTotalMib} != ${memoryTotal}`);
  if (gpu.health !== 'ok') problems.push(`GPU ${index} health ${gpu.health}: ${gpu.healthReason}`);
  console.log(`GPU ${index}: ${gpu.name} ${gpu.uuid} ${gpu.memoryUsedMib}/${gpu.memoryTotalMib} MiB util ${gpu.utilizationPct}% ${gpu.temperatureC} C ${gpu.powerW} W health ${gpu.health}; processes ${JSON.stringify(gpu.processes)}`);
}
if (pid && !state.gpus.some((g) => (g.processes ?? []).some((p) => String(p.pid) === pid))) problems.push(`pid ${pid} not among the probe's GPU processes`);
console.log(`driver ${state.driverVersion}, CUDA ${state.cudaVersion}`);
for (const p of problems) console.log(`MISMATCH ${p}`);
process.exit(problems.length ? 1 : 0);
EOF

s_probe_idle() {
  set -e
  [ -f "$WORK/env.sh" ] && . "$WORK/env.sh"
  nsml agent gpus
  nsml agent gpus --json >"$SMI/idle.probe.json"
  node "$WORK/compare.mjs" "$SMI/idle.probe.json" "$SMI/idle.inventory.csv"
}
export -f s_probe_idle

s_smi_busy() {
  set -e
  [ -f "$WORK/env.sh" ] && . "$WORK/env.sh"
  cat >"$WORK/busy.py" <<'EOF'
import os, sys, time, torch
work = sys.argv[1]
x = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
hold = torch.empty(4 << 30, dtype=torch.uint8, device="cuda")  # 4 GiB more, to show in memory.used
torch.cuda.synchronize()
open(os.path.join(work, "busy.pid"), "w").write(str(os.getpid()))
n, t0 = 0, time.time()
while time.time() - t0 < 60 and not os.path.exists(os.path.join(work, "busy.stop")):
    for _ in range(20):
        y = x @ x
    torch.cuda.synchronize()
    n += 20
dt = time.time() - t0
print(f"busy: {n} bf16 8192^3 products in {dt:.1f} s = {n * 2 * 8192**3 / dt / 1e12:.0f} TFLOP/s on {torch.cuda.get_device_name(0)}", flush=True)
EOF
  python3 "$WORK/busy.py" "$WORK" &
  local job=$! i
  for i in $(seq 1 60); do
    [ -f "$WORK/busy.pid" ] && break
    kill -0 $job 2>/dev/null || { echo "the torch job died before touching the GPU"; wait $job; exit 1; }
    sleep 0.5
  done
  [ -f "$WORK/busy.pid" ]
  sleep 3 # let utilization.gpu catch up
  capture busy
  nsml agent gpus
  nsml agent gpus --json >"$SMI/busy.probe.json"
  touch "$WORK/busy.stop"
  wait $job
  grep -q "$(cat "$WORK/busy.pid")" "$SMI/busy.compute-apps.csv" || { echo "pid $(cat "$WORK/busy.pid") not in --query-compute-apps"; exit 1; }
  node "$WORK/compare.mjs" "$SMI/busy.probe.json" "$SMI/busy.inventory.csv" "$(cat "$WORK/busy.pid")"
}
export -f s_smi_busy

s_up() {
  set -e
  [ -f "$WORK/env.sh" ] && . "$WORK/env.sh"
  python3 -c 'import torch, sys; print("python", sys.version.split()[0], sys.executable, "torch", torch.__version__, "cuda", torch.cuda.is_available())' || true
  nsml up --port "$NSML_PORT"
  nsml node ls
}
export -f s_up

# session_run NAME_FILE ARGS...: submit from examples/, wait, print logs and metrics.
session_run() {
  local name_file=$1
  shift
  (cd "$APP/examples" && nsml run --detach --json "$@") >"$WORK/submit.json"
  node -e "const r=JSON.parse(require('fs').readFileSync('$WORK/submit.json','utf8')); console.log(r.name); console.error('submitted', r.name, r.state, r.uploadedBytes, 'bytes uploaded')" >"$name_file"
  local name
  name=$(cat "$name_file")
  local i
  for i in $(seq 1 40); do # until it leaves the queue, to see its GPU processes
    case "$(nsml ps -a --json | node -e "let t='';process.stdin.on('data',d=>t+=d).on('end',()=>console.log(JSON.parse(t).find(s=>s.name==='$name')?.state))")" in
      queued | starting | '') sleep 0.5 ;;
      *) break ;;
    esac
  done
  sleep 5 # the script imports torch and touches the GPU
  nsml ps -a
  echo "GPU processes: $(nvidia-smi --query-compute-apps=$APPS_Q --format=csv,noheader,nounits | tr '\n' ';')"
  local rc=0
  nsml wait "$name" || rc=$?
  echo "--- nsml logs $name"
  nsml logs "$name"
  echo "--- nsml metrics $name"
  nsml metrics "$name" || true
  nsml ps -a
  return $rc
}
export -f session_run

s_mnist() {
  set -e -o pipefail
  [ -f "$WORK/env.sh" ] && . "$WORK/env.sh"
  session_run "$WORK/mnist.name" -g 1 -e torch-mnist/main.py -a "--epochs 1" -m "device check" | tee "$WORK/mnist.out"
  grep -q ' on cuda' "$WORK/mnist.out" || { echo "torch-mnist did not run on CUDA"; exit 1; }
  grep -o 'epoch 0: .*' "$WORK/mnist.out" | head -1
}
export -f s_mnist

s_gang() {
  set -e -o pipefail
  [ -f "$WORK/env.sh" ] && . "$WORK/env.sh"
  $(command -v setsid) node "$APP/bin/nsml.js" agent --coordinator "127.0.0.1:$NSML_PORT" --data "$WORK/agent2" --name gang2 \
    --advertise 127.0.0.1 --gpus "${GANG_GPUS:-0}" >"$WORK/agent2.log" 2>&1 </dev/null &
  echo $! >"$WORK/agent2.pid"
  local i
  for i in $(seq 1 60); do
    [ "$(nsml node ls | grep -c ' ready')" -ge 2 ] && break
    sleep 0.5
  done
  nsml node ls
  session_run "$WORK/gang.name" -g 2 --gpus-per-node 1 -e torch-gang/main.py -m "device gang" | tee "$WORK/gang.out"
  [ "$(grep -c 'all_reduce sum = 3 (expected 3) OK' "$WORK/gang.out")" -eq 2 ] || { echo "expected both ranks to print the all_reduce sum 3"; exit 1; }
}
export -f s_gang

bundle_smi() { tar -C "$SMI" -czf "$OUT/nvidia-smi.tar.gz" . 2>/dev/null; }

step smi-idle 45 s_smi_idle
bundle_smi
if step node 60 s_node; then
  step probe-idle 45 s_probe_idle
  step smi-busy 90 s_smi_busy
  bundle_smi
  if step up 45 s_up; then
    step mnist 150 s_mnist
    step gang 90 s_gang
  else
    skip mnist "up did not pass"
    skip gang "up did not pass"
  fi
else
  for s in probe-idle smi-busy up mnist gang; do skip $s "node failed"; done
fi

echo
echo "=== cleanup at +$(($(date +%s) - T0))s"
[ -f "$WORK/env.sh" ] && . "$WORK/env.sh"
[ -f "$WORK/agent2.pid" ] && kill "$(cat "$WORK/agent2.pid")" 2>/dev/null
timeout 30 node "$APP/bin/nsml.js" down 2>&1 || true
bundle_smi
mkdir -p "$WORK/home/logs"
cp "$WORK"/*.log "$WORK"/*.out "$WORK"/*.json "$WORK"/*.py "$WORK/home/logs/" 2>/dev/null
tar -C "$WORK/home" -czf "$OUT/nsml-logs.tar.gz" logs 2>/dev/null

echo
echo "=== summary (+$(($(date +%s) - T0)) s)"
printf '%s\n' "${RESULTS[@]}" | tee "$OUT/summary.txt"
grep -h 'epoch 0: ' "$WORK/mnist.out" 2>/dev/null | head -1 | sed 's/^/mnist: /' | tee -a "$OUT/summary.txt"
grep -h 'all_reduce sum' "$WORK/gang.out" 2>/dev/null | sed 's/^/gang: /' | tee -a "$OUT/summary.txt"
rc=0
grep -q '^FAIL\|^SKIP' "$OUT/summary.txt" && rc=1
exec >&- 2>&-
wait "$TEE_PID" 2>/dev/null
exit $rc
