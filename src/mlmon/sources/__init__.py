"""All I/O: tracking stores, prediction logs, the host and serving endpoints."""
