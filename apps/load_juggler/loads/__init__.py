"""Load apps: adapters between one kind of HA device and the hub (they never decide)."""
