"""TEST ONLY riskgrade plugin (mes): a declared grading method and the graph hooks, end to end."""
