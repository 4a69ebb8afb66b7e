"""Local-first intelligence for Mycel: LLM backends, a router that escalates to the cloud, and
sentence embeddings. Import the submodules (`llm`, `embeddings`); this file stays light so that
importing the package never loads torch."""
