"""Reads what a workspace declares about its Python environment, without running any of it.

Usage: python3 read-declaration.py WORKSPACE

Prints one JSON object:
  {"header": "IMAGE" or "",            the `#nsml: IMAGE` first line of setup.py (NSML's image header)
   "setupPy": [..] or null,            setup(install_requires=[...]) when it is a literal list of strings
   "requirementsTxt": "..." or null,   the text of requirements.txt
   "pyproject": [..] or null,          [project] dependencies of pyproject.toml
   "warnings": [..]}                   what was found and could not be read

setup.py is parsed with `ast`, never executed: only a literal install_requires is understood.
Standard library only; Python 3.8 or later (pyproject.toml needs tomllib, Python 3.11).
"""

import ast
import json
import os
import sys

MAX_BYTES = 1024 * 1024


def read_text(path):
    with open(path, "rb") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValueError("%s is larger than %d bytes" % (os.path.basename(path), MAX_BYTES))
    return data.decode("utf-8", errors="replace")


def header_of(text):
    first = text.split("\n", 1)[0].strip()
    if first.startswith("#nsml:"):
        return first[len("#nsml:"):].strip()
    return ""


def is_setup_call(node):
    f = node.func
    return (isinstance(f, ast.Name) and f.id == "setup") or (isinstance(f, ast.Attribute) and f.attr == "setup")


def setup_requires(text, warnings):
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        warnings.append("setup.py does not parse (%s); its install_requires is ignored" % err.msg)
        return None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and is_setup_call(node)):
            continue
        for kw in node.keywords:
            if kw.arg != "install_requires":
                continue
            try:
                value = ast.literal_eval(kw.value)
            except ValueError:
                warnings.append("setup.py's install_requires is not a literal list; it is ignored (list the packages in requirements.txt)")
                return None
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                warnings.append("setup.py's install_requires is not a list of strings; it is ignored")
                return None
            return [v.strip() for v in value if v.strip()]
    return []


def pyproject_requires(text, warnings):
    try:
        import tomllib
    except ImportError:
        warnings.append("pyproject.toml needs Python 3.11 or later to be read; its dependencies are ignored")
        return None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        warnings.append("pyproject.toml does not parse (%s); its dependencies are ignored" % err)
        return None
    deps = doc.get("project", {}).get("dependencies")
    if deps is None:
        return None
    if not isinstance(deps, list) or not all(isinstance(v, str) for v in deps):
        warnings.append("pyproject.toml's [project] dependencies is not a list of strings; it is ignored")
        return None
    return [v.strip() for v in deps if v.strip()]


def main():
    root = sys.argv[1]
    out = {"header": "", "setupPy": None, "requirementsTxt": None, "pyproject": None, "warnings": []}
    warnings = out["warnings"]
    setup = os.path.join(root, "setup.py")
    if os.path.isfile(setup):
        text = read_text(setup)
        out["header"] = header_of(text)
        out["setupPy"] = setup_requires(text, warnings)
    req = os.path.join(root, "requirements.txt")
    if os.path.isfile(req):
        out["requirementsTxt"] = read_text(req)
    pyproject = os.path.join(root, "pyproject.toml")
    if os.path.isfile(pyproject):
        out["pyproject"] = pyproject_requires(read_text(pyproject), warnings)
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main()
