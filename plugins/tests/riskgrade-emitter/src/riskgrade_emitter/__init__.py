"""TEST ONLY riskgrade plugin (emitter): methods that try to reach past their declaration."""
