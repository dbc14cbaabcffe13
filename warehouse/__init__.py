"""Application layer: the `warehouse` command line and the whole-system config.

A thin shell over the packages' public functions (DESIGN §8); it holds no
domain logic of its own.
"""
