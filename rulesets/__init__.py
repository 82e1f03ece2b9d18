"""The rulesets shipped with riskgrade (YAML and CSV data; see docs/ruleset-format.md)."""
