"""Plugins that ship with molq, each in its own subpackage (``molq.plugins.nerve``).

They are listed in ``molq.plugin.BUILTIN_PLUGIN_FACTORIES`` and imported only
when attached. Other packages add plugins through the ``molq.plugins``
entry-point group instead (see ``molq.plugin``).
"""

from __future__ import annotations

__all__: list[str] = []
