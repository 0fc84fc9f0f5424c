#!/usr/bin/env python3
"""edit.py FILE OLD NEW: replaces the one occurrence of OLD in FILE with NEW, or fails (so a
variant whose target code moved is skipped instead of measuring something else)."""
import sys

path, old, new = sys.argv[1:4]
text = open(path, encoding="utf-8").read()
count = text.count(old)
if count != 1:
    sys.exit(f"{path}: expected one occurrence of {old!r}, found {count}")
open(path, "w", encoding="utf-8").write(text.replace(old, new))
