"""``python -m epizoo`` runs the same CLI as the ``epizoo`` console script."""
import sys

from epizoo.cli import main

sys.exit(main())
