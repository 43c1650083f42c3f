"""Application services: orchestrate the pure domain and the AWS adapters for one use case."""
