"""Pure decision code: no AppDaemon import may appear below this package."""
