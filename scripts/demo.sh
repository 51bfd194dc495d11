#!/usr/bin/env bash
# The embedded default end to end: start a coordinator and an agent on this machine
# (`nsml up`, on NSML_PORT or 7450), then train the example in examples/tiny-digits on it and follow its logs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
nsml() { node "$root/bin/nsml.js" "$@"; }
nsml up ${NSML_PORT:+--port "$NSML_PORT"}
cd "$root/examples/tiny-digits"
nsml run -m "demo: tiny-digits" -a "--epochs 5"
nsml ps -a
echo
echo "The cluster keeps running: try \`npx nsml ps -a\`, \`npx nsml node ls\`; stop it with \`npx nsml down\`."
