"""Kipoi descriptions carried by dataloader classes, with example files that Kipoi can hand out.

``kipoi get-example ENTRY -o DIR`` copies an argument's example into DIR only when the example is
a remote file (``{url, md5}``); a plain path it prints as it is, relative to an entry folder the
user is not in (kipoi/specs.py ``example_kwargs``). It reads the description from the class when
the entry's model.yaml names its dataloader by import (``default_dataloader: {defined_as: ...}``).
`describe` gives a class its description, each example file that exists as a ``file://`` remote
file with its md5, so that ``get-example`` copies it; `example_arguments` hands the same files to
``init_example`` (``predict_example``, ``kipoi test``) where they are, where Kipoi's own
``example_kwargs`` would copy them into the zoo's folder.

Kipoi annotates a dataloader class in place with every dataloader.yaml it loads
(``_add_description_factory``), so entries sharing a class would see the last one's examples and
folder; `OwnDescription` makes each such annotation a subclass of its own instead.
"""
from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kipoi_utils.utils import classproperty


class OwnDescription:
    """Mixin for Kipoi dataloaders: each description Kipoi loads annotates a subclass, not the class,
    and its example arguments are the example files where they are (`example_arguments`)."""

    @classproperty
    def example_kwargs(cls) -> dict:
        """The description's example arguments, example files where they are; remote ones Kipoi
        downloads as usual."""
        from kipoi.data import BaseDataLoader
        from kipoi.specs import RemoteFile

        examples = example_arguments(cls.args)
        if any(isinstance(value, RemoteFile) for value in examples.values()):
            return BaseDataLoader.__dict__["example_kwargs"].__get__(None, cls)
        return examples

    @classmethod
    def _add_description_factory(cls, descr):
        own = type(cls.__name__, (cls,), {"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                                          "__doc__": cls.__doc__, "_annotated_copy": True})
        return super(OwnDescription, own)._add_description_factory(descr)

    def __reduce_ex__(self, protocol):
        """Pickle (for worker processes) as the importable class, not the annotated copy."""
        importable = next(c for c in type(self).__mro__ if not c.__dict__.get("_annotated_copy"))
        return _unpickled, (importable, self.__dict__)


def _unpickled(cls: type, state: dict):
    instance = cls.__new__(cls)
    instance.__dict__.update(state)
    return instance


def describe(cls: type, description: str, base_dir: str | Path) -> type:
    """Annotate the Kipoi dataloader ``cls`` (an `OwnDescription`) itself with a dataloader.yaml
    ``description`` whose relative paths are relative to ``base_dir``; returns ``cls``."""
    from kipoi.specs import DataLoaderDescription, RemoteFile

    from epizoo.weights import file_digests

    parsed = DataLoaderDescription.from_string(description)
    for argument in parsed.args.values():
        path = Path(base_dir) / argument.example if isinstance(argument.example, str) else None
        if path is not None and path.is_file():
            argument.example = RemoteFile(url=path.resolve().as_uri(), md5=file_digests(path)["md5"], name=path.name)
    super(OwnDescription, cls)._add_description_factory(parsed)  # the class itself, for imports
    cls.source_dir = str(base_dir)
    return cls


def example_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The example value of each argument that has one, ``file://`` examples as local paths."""
    from kipoi.specs import RemoteFile
    from kipoi_utils.external.related.fields import UNSPECIFIED

    examples = {}
    for name, argument in arguments.items():
        example = argument.example
        if isinstance(example, UNSPECIFIED):
            continue
        if isinstance(example, RemoteFile) and example.url.startswith("file:"):
            example = urllib.request.url2pathname(urllib.parse.urlparse(example.url).path)
        examples[name] = example
    return examples
