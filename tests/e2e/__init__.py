"""End-to-end tests: a real Home Assistant and a real AppDaemon process on loopback."""
