"""The Mycel validator: ground-truth challenges, querying, scoring, score store and weights."""
