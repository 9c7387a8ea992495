"""{{ cookiecutter.title }}: the network of this entry.

Replace it with yours, keeping what model.yaml declares: ``forward(seq)`` takes the one-hot
sequence ``(batch, {% if cookiecutter.channels == "first" %}4, {{ cookiecutter.sequence_length }}{% else %}{{ cookiecutter.sequence_length }}, 4{% endif %})`` (A, C, G, T{% if cookiecutter.channels == "first" %} rows{% else %} columns{% endif %}) and returns
``(batch, {{ cookiecutter.tasks.split(",") | length }})``, one {{ cookiecutter.output_kind }} per task. Every argument of ``__init__`` is
plain data, listed under ``args.config`` in model.yaml, so that the weights load without pickles.
"""
from __future__ import annotations

import torch
from torch import nn


class Model(nn.Module):
    """A convolution, a max over positions and a dense read-out per task.

    Parameters
    ----------
    sequence_length
        Bases per input window.
    n_tasks
        Outputs.
    filters, width
        Convolution filters and their width in bases.
    """

    def __init__(self, sequence_length: int = {{ cookiecutter.sequence_length }}, n_tasks: int = {{ cookiecutter.tasks.split(",") | length }},
                 filters: int = 32, width: int = 19) -> None:
        super().__init__()
        self.sequence_length = sequence_length
        self.conv = nn.Conv1d(4, filters, width, padding=width // 2)
        self.out = nn.Linear(filters, n_tasks)

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        x = seq{% if cookiecutter.channels == "last" %}.transpose(1, 2){% endif %}  # (batch, 4, length)
        x = torch.relu(self.conv(x)).amax(dim=2)
        {% if cookiecutter.output_kind == "probability" %}return torch.sigmoid(self.out(x)){% elif cookiecutter.output_kind == "coverage" %}return nn.functional.softplus(self.out(x)){% else %}return self.out(x){% endif %}
