"""TEST ONLY riskgrade plugin (loosener): a layer that must not pass the stricter-only checks."""
