"""Protocol version. Peers refuse messages whose major version differs or that are older than
`MIN_PEER_VERSION` (1.1.0 added search_patterns: a 1.0 peer cannot answer every task)."""

PROTOCOL_VERSION = "1.1.0"
PROTOCOL_MAJOR = int(PROTOCOL_VERSION.split(".")[0])
MIN_PEER_VERSION = "1.1.0"
