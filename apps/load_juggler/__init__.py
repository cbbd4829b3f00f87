"""Load Juggler: balances EV chargers and switched loads under a site's breakers, from grid, solar and battery."""
