"""``epizoo simulate``: a seeded synthetic genome with planted motifs, tracks, peaks and a VCF."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from epizoo.dataloaders.simulate import add_arguments as simulator_arguments

    simulator_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from epizoo.dataloaders.simulate import run as simulate

    return simulate(args) or 0
