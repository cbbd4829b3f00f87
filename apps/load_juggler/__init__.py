"""Load Juggler: balances EV chargers and switched loads under a site's breakers.

Loads are fed from grid, solar and battery; see README.md.
"""
