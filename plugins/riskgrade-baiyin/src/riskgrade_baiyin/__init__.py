"""riskgrade plugin for 白银市 (620400): an *example* of local refinement of lec-generic."""
