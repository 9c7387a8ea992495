"""Sub-commands of the ``epizoo`` CLI (see `epizoo.cli.COMMANDS`)."""
