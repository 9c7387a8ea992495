"""``epizoo.veff``: the variant-effect plugin, `epizoo.plugins.veff`, under its public name.

``import epizoo.veff`` and ``from epizoo.veff import ...`` give the very module
`epizoo.plugins.veff` (this module puts it in its own place), so there is one of each class.
"""
import sys

from epizoo.plugins import veff as _plugin

sys.modules[__name__] = _plugin
