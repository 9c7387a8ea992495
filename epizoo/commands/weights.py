"""``epizoo weights``: make a trained state dict an entry's weights (weights.safetensors, its sha256 in
model.yaml, expect.h5)."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("entry", help="the entry's folder (made by `epizoo new`)")
    parser.add_argument("state", help="the network's state dict: .safetensors, or a PyTorch file of tensors "
                                      "(read with torch.load(weights_only=True): no pickled code)")


def run(args: argparse.Namespace) -> int:
    from epizoo.entry_writing import install_weights

    sha256 = install_weights(args.entry, read_state(args.state), {"source": args.state.rsplit("/", 1)[-1]})
    print(f"{args.entry}/weights.safetensors (sha256 {sha256}); expect.h5 written. Next: epizoo check {args.entry}")
    return 0


def read_state(path: str) -> dict:
    """Tensors by name from a safetensors file, or a torch file of tensors (``weights_only=True``)."""
    import torch

    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ValueError(f"{path} holds no state dict (tensors by name). Fix: save `network.state_dict()`")
    return state
