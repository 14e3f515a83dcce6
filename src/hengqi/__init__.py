"""hengqi (衡器): an open platform for intelligent weighing instruments.

Layers, bottom to top (imports only point down; enforced by import-linter in CI):
``metrology`` (pure computation) < ``instruments`` / ``certificates`` < ``procedures`` / ``supervision``
< ``server`` < ``cli``.  :mod:`hengqi.errors` is shared by every layer.
"""

__version__ = "0.1.0"
