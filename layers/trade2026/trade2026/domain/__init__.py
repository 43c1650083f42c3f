"""Pure domain code: standard library and numpy only; no AWS, no environment variables, no I/O."""
