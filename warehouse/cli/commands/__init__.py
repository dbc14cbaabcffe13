"""One module per top-level subcommand; each defines ``register(subparsers)``."""
