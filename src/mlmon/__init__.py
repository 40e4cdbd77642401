"""mlmon: a keyboard-driven terminal monitor for models tracked in MLflow."""

__version__ = "0.1.0"
