"""Fleet manager: robots, tasks, assignment, traffic, and the VDA 5050 bus.

Knows nothing of pygame; builds its navigation graph from `wms.layout`.
"""
