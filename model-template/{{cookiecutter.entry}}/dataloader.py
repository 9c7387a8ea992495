"""This entry's dataloader: the regions of a BED file re-centred to {{ cookiecutter.sequence_length }} bp and one-hot
encoded as the model takes them (epizoo's `IntervalDataset`: N {% if cookiecutter.n_value == "0" %}is all zeros{% else %}is 0.25 in each base{% endif %}, windows past a
chromosome end padded with N and flagged). Kipoi loads it as ``dataloader.py::Windows``.
"""
from epizoo.dataloaders.interval_dataset import IntervalDataset


class Windows(IntervalDataset):
    """{{ cookiecutter.sequence_length }}-bp windows centred on the regions of ``intervals_file``, from ``fasta_file``."""

    def __init__(self, intervals_file: str, fasta_file: str) -> None:
        super().__init__(intervals_file, fasta_file, width={{ cookiecutter.sequence_length }}, n_value={{ cookiecutter.n_value }},
                         channels_first={{ cookiecutter.channels == "first" }})
