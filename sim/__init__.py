"""Simulator: the floor hardware stand-in, simulated controllers, the pygame viewer."""
