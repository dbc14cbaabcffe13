"""The fleet manager: a pure decision core (events and time in, commands out).

No sockets, threads, databases or wall clock in here: `fleet.manager.adapter`
binds the core to the bus and the store, and `warehouse serve` wires them.
"""
