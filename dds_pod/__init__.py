"""dds-pod: the Democracy Data Space pod and federation server."""

__version__ = "0.1.0"
