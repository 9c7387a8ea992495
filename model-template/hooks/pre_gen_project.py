"""Refuse answers that would make an entry `epizoo check` cannot pass (cookiecutter runs this first)."""
import re
import sys

entry, method = "{{ cookiecutter.entry }}", "{{ cookiecutter.method }}"
length, n_value, tasks = "{{ cookiecutter.sequence_length }}", "{{ cookiecutter.n_value }}", "{{ cookiecutter.tasks }}"
problems = []
for name, value in (("entry", entry), ("method", method)):
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
        problems.append(f"{name} {value!r}: letters, digits, '.', '_' and '-' only (it is a folder name)")
if not length.isdigit() or int(length) < 16:
    problems.append(f"sequence_length {length!r}: a whole number of bases, at least 16")
if n_value not in ("0", "0.25"):
    problems.append(f"n_value {n_value!r}: what an N is in each base channel, 0 or 0.25")
names = [t.strip() for t in tasks.split(",")]
if not all(names) or len(set(names)) != len(names):
    problems.append(f"tasks {tasks!r}: comma-separated names, each once")
if problems:
    print("model-template: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
