"""The plugin platform: hook specifications, the records plugins return, the host."""
