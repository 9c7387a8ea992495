"""Genome, track and VCF readers, and the Kipoi dataloaders built on them."""
from epizoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
