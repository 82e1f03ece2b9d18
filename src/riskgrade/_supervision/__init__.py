"""Differentiated supervision (差异化监管): declared per jurisdiction in YAML, applied to enterprise assessments.

``declaration`` reads and merges the province default and its city/county layers (stricter only);
``outputs`` turns an enterprise assessment into inspection frequency and content, grid owners,
the insurance factor and control tiers; ``plan`` makes the year's enforcement plan for a region.
"""
