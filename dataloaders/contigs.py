"""Reconcile chromosome names between files that disagree on ``chr1`` versus ``1``.

A VCF from one pipeline and a FASTA from another often name the same contig differently. The
`ContigResolver` maps a requested name onto the name a file uses, trying the exact name first and
then the usual aliases (with or without ``chr``, ``M``/``MT``), and logs each reconciliation once.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

logger = logging.getLogger(__name__)


class MissingContigError(KeyError):
    """A requested chromosome is in none of its aliases in a file."""

    def __init__(self, name: str, path: str, available: Iterable[str]) -> None:
        shown = sorted(available)
        listing = ", ".join(shown[:8]) + (" ..." if len(shown) > 8 else "")
        message = (
            f"chromosome {name!r} is not in {path} (also tried {', '.join(aliases(name)[1:]) or 'no alias'}); "
            f"it has: {listing or 'no contigs'}. Fix: use a file for the same genome build, "
            "or drop records on this chromosome."
        )
        super().__init__(message)
        self.name, self.path = name, path

    def __str__(self) -> str:
        return self.args[0]


def aliases(name: str) -> list[str]:
    """Names under which a file may store chromosome ``name``, the name itself first.

    >>> aliases("chr1")
    ['chr1', '1']
    >>> aliases("MT")
    ['MT', 'chrMT', 'chrM', 'M']
    """
    bare = name[3:] if name.lower().startswith("chr") else name
    candidates = [name, bare, f"chr{bare}"]
    if bare.upper() in {"M", "MT"}:
        candidates += ["chrM", "MT", "M", "chrMT"]
    seen: list[str] = []
    for candidate in candidates:
        if candidate not in seen:
            seen.append(candidate)
    return seen


class ContigResolver:
    """Map requested chromosome names onto the names a file uses.

    Parameters
    ----------
    available
        Contig names present in the file.
    path
        The file, named in errors and log messages.
    """

    def __init__(self, available: Iterable[str], path: str) -> None:
        self.available = set(available)
        self.path = str(path)
        self._resolved: dict[str, str | None] = {}

    def resolve(self, name: str) -> str | None:
        """The file's name for ``name``, or None if it has none of its aliases."""
        if name not in self._resolved:
            match = next((a for a in aliases(name) if a in self.available), None)
            if match is not None and match != name:
                logger.info("chromosome %r is named %r in %s", name, match, self.path)
            self._resolved[name] = match
        return self._resolved[name]

    def __call__(self, name: str) -> str:
        """Like `resolve`, but raise `MissingContigError` when the name is absent."""
        match = self.resolve(name)
        if match is None:
            raise MissingContigError(name, self.path, self.available)
        return match

    def __contains__(self, name: str) -> bool:
        return self.resolve(name) is not None
