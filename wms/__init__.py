"""WMS core: the floor layout, inventory, slotting, waves, replenishment, returns.

Knows nothing of robots, sockets or pygame: everything here takes plain data
and returns plain data, so the fleet manager and the simulator can build on it.
"""
