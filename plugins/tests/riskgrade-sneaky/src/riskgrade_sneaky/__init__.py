"""TEST ONLY riskgrade plugin (sneaky): a layer that must not pass the stricter-only checks."""
