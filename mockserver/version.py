"""The version, in one place: the package metadata reads it (pyproject.toml), and the
server's health answer and the CLI show it without importing importlib.metadata, whose
import alone costs a first health check several milliseconds."""

__version__ = "0.1.0"
