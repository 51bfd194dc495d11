"""Writes a minimal pure-Python wheel, so tests install a real package with no index and no network.

Usage: python3 make-wheel.py OUT_DIR NAME VERSION [SOURCE_DIR]
The package `NAME` (dashes become underscores) holds VALUE = "NAME VERSION", or, with
SOURCE_DIR, the files of that folder (a package's own code, e.g. a test imitation of a library).
"""

import base64
import hashlib
import os
import sys
import zipfile


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def package_files(module, name, version, source):
    if source is None:
        return {"%s/__init__.py" % module: ('VALUE = "%s %s"\n' % (name, version)).encode()}
    files = {}
    for root, _, names in os.walk(source):
        for n in sorted(names):
            if n.endswith(".pyc"):
                continue
            full = os.path.join(root, n)
            with open(full, "rb") as f:
                files["%s/%s" % (module, os.path.relpath(full, source))] = f.read()
    return files


def main():
    out, name, version = sys.argv[1], sys.argv[2], sys.argv[3]
    module = name.replace("-", "_")
    info = "%s-%s.dist-info" % (module, version)
    files = package_files(module, name, version, sys.argv[4] if len(sys.argv) > 4 else None)
    files.update({
        "%s/METADATA" % info: ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)).encode(),
        "%s/WHEEL" % info: b"Wheel-Version: 1.0\nGenerator: nsml-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    })
    lines = [record_line(p, d) for p, d in files.items()] + ["%s/RECORD,," % info]
    files["%s/RECORD" % info] = ("\n".join(lines) + "\n").encode()
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "%s-%s-py3-none-any.whl" % (module, version))
    with zipfile.ZipFile(path, "w") as z:
        for p, d in files.items():
            z.writestr(p, d)
    print(path)


if __name__ == "__main__":
    main()
