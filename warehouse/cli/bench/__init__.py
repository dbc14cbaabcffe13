"""One module per ``warehouse bench`` subcommand; each defines ``register(subparsers)``."""
