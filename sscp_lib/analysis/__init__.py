"""Analysis stage: pure functions turning validated tables into published tables and metrics."""
