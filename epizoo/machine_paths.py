"""Paths of the machine that made a file (a home folder, a temporary folder, a Windows drive): an
entry names its data by file name and checksum, so none may appear in what it ships (`epizoo
check`, and a test over every committed file)."""
from __future__ import annotations

import re
from pathlib import Path

#: an absolute path of a machine: a POSIX path under a usual root folder, or a Windows drive
ABSOLUTE = re.compile(r"(?<![\w.~})])/(?:home|tmp|work|Users|root|mnt|scratch|private|var|opt|srv|data|media|net)/[^\s\"',]+"
                      r"|\b[A-Za-z]:\\[^\s\"',]+")
TEXT = (".yaml", ".yml", ".tsv", ".csv", ".json", ".md", ".txt", ".j2", ".py", ".sh", ".toml", ".bed", "Snakefile", "/run")


def searchable_text(path: Path) -> str:
    """What of a file can hold a path: a text file's text, a safetensors file's metadata."""
    path = Path(path)
    if path.name.endswith(".safetensors"):
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            return repr(handle.metadata())
    return path.read_text(errors="replace") if str(path).endswith(TEXT) else ""


def machine_paths(path: Path) -> list[str]:
    """The absolute paths of a machine that the file ``path`` holds."""
    return ABSOLUTE.findall(searchable_text(path))
