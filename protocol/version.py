"""Protocol version. Miners and validators refuse messages whose major version differs."""

PROTOCOL_VERSION = "1.0.0"
PROTOCOL_MAJOR = int(PROTOCOL_VERSION.split(".")[0])
