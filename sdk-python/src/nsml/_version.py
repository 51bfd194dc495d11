"""Versions of the package and of the agent bridge protocol it speaks."""

__version__ = "0.1.0"

#: The version of proto/sdk-bridge.md this package speaks.
PROTOCOL_VERSION = 1
