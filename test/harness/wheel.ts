import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

/**
 * Builds a pure-Python wheel `NAME-VERSION-py3-none-any.whl` into `outDir` from the package
 * folder `packageDir` (copied as the top-level package NAME), with Python's zipfile, so that
 * tests can install packages with `--no-index --find-links outDir` and no network. Returns the
 * wheel's path.
 */
export function buildWheel(packageDir: string, name: string, version: string, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  return execFileSync('python3', ['-c', BUILD, packageDir, name, version, outDir], { encoding: 'utf8' }).trim();
}

const BUILD = `
import base64, hashlib, os, sys, zipfile
src, name, version, out = sys.argv[1:5]
dist = f"{name}-{version}.dist-info"
path = os.path.join(out, f"{name}-{version}-py3-none-any.whl")
records = []
def digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
with zipfile.ZipFile(path, "w") as z:
    def add(arc, data):
        z.writestr(arc, data)
        records.append(f"{arc},{digest(data)},{len(data)}")
    for root, _, files in os.walk(src):
        for f in sorted(files):
            if f.endswith(".pyc"):
                continue
            full = os.path.join(root, f)
            rel = os.path.relpath(full, src)
            with open(full, "rb") as fh:
                add(f"{name}/{rel}", fh.read())
    add(f"{dist}/METADATA", f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n".encode())
    add(f"{dist}/WHEEL", b"Wheel-Version: 1.0\\nGenerator: nsml-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
    records.append(f"{dist}/RECORD,,")
    z.writestr(f"{dist}/RECORD", "\\n".join(records) + "\\n")
print(path)
`;
