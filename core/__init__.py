"""The shared base every package may import: errors, the config loader, the clock.

`core` imports nothing of ``wms``, ``fleet``, ``sim`` or ``warehouse`` (and no
sockets or drawing), so each of them can build on it without depending on the
others (tests/test_architecture.py holds this).
"""
