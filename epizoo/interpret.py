"""``epizoo.interpret``: the interpretation plugin, `epizoo.plugins.interpret`, under its public name.

``import epizoo.interpret`` and ``from epizoo.interpret import ...`` give the very module
`epizoo.plugins.interpret` (this module puts it in its own place), so there is one of each class.
"""
import sys

from epizoo.plugins import interpret as _plugin

sys.modules[__name__] = _plugin
