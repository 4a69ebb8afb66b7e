"""Hard bounds on every field of the wire protocol.

A validator or a miner parses messages from strangers. Every string, list and number has a ceiling
small enough that parsing it is cheap, and large enough for real patterns. Changing a bound changes
the protocol: bump `PROTOCOL_VERSION` in `protocol.version` and regenerate the JSON Schema.
"""

from __future__ import annotations

# Identifiers and short labels.
PATTERN_ID_HEX_LEN = 64  # sha256 hex digest
MAX_LABEL_LEN = 64  # domain, language, variable names, step names, package names
MAX_ACCOUNT_ID_LEN = 64  # NEAR account ids are 2..64 characters
MIN_ACCOUNT_ID_LEN = 2
MAX_MODEL_NAME_LEN = 200  # "org/model" ids or local names
MAX_CID_LEN = 100

# Free text.
MAX_TRIGGER_LEN = 1_000
MAX_REQUIREMENT_LEN = 500
MAX_TEMPLATE_LEN = 16_000
MAX_CODE_LEN = 32_000
MAX_QUERY_LEN = 8_000
MAX_CONTEXT_LEN = 16_000
MAX_TURN_LEN = 8_000
MAX_RESPONSE_LEN = 32_000
MAX_RATIONALE_LEN = 1_000
MAX_DETAIL_LEN = 500
MAX_EXAMPLE_JSON_LEN = 4_000

# Lists.
MAX_REQUIREMENTS = 16
MAX_VARIABLES = 32
MAX_DEPENDENCIES = 32
MAX_WORKFLOW_STEPS = 16
MAX_LOG_TURNS = 64
MAX_EXAMPLES = 16
MAX_OFFERED_PATTERNS = 16
MAX_CONTEXT_ITEMS = 32
MAX_SEARCH_K = 100  # ranked ids one search_patterns answer may hold
MAX_EMBEDDING_DIM = 1_024  # a query embedding sent instead of (or with) its text
MAX_FL_HISTORY = 64  # (noise, sample rate, steps) entries in one accountant report

# Numbers.
MAX_U64 = 2**64 - 1
MAX_U128 = 2**128 - 1  # NEAR balances are u128 yoctoNEAR
MAX_RATING = 5.0
MIN_DEADLINE_S = 0.1
MAX_DEADLINE_S = 120.0
MAX_FL_STEPS = 100_000  # local DP-SGD steps in one federated round
MAX_FL_BATCH = 65_536  # expected Poisson batch of one DP-SGD step

# A whole request or response body, enforced by the transport before parsing.
MAX_BODY_BYTES = 1_048_576
# A federated update travels by CID, not in a body; this caps the object a round may name.
MAX_FL_UPDATE_BYTES = 512 * 1_048_576
