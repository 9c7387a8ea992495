"""``epizoo.train``: the training plugin, `epizoo.plugins.train`, under its public name.

``import epizoo.train`` and ``from epizoo.train import ...`` give the very module
`epizoo.plugins.train` (this module puts it in its own place), so there is one of each class.
"""
import sys

from epizoo.plugins import train as _plugin

sys.modules[__name__] = _plugin
