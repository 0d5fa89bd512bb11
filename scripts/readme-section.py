#!/usr/bin/env python3
"""Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->` in
README.md with what comes on standard input: how the measuring scripts
(client-size.sh, setup-time.sh) keep their figures in the README current.

    some-measurement | scripts/readme-section.py NAME
"""
import pathlib
import sys

name = sys.argv[1]
path = pathlib.Path(__file__).resolve().parent.parent / "README.md"
text = path.read_text(encoding="utf-8")
start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
if start not in text or end not in text:
    sys.exit(f"{path} has no {start} … {end} section")
head, rest = text.split(start, 1)
_, tail = rest.split(end, 1)
body = sys.stdin.read().strip()
path.write_text(f"{head}{start}\n{body}\n{end}{tail}", encoding="utf-8")
print(f"written into {path.name}")
