"""riskgrade plugin for 靖远县 (620421): an *example* county layer refining the Baiyin city layer."""
