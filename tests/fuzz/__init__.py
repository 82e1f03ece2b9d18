"""The fuzz suite (issue 10): every input gets a typed answer, in bounded time and memory (docs/fuzzing.md)."""
