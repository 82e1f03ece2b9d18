"""Outputs people print and look at: the four-colour risk map (四色图), the register in Excel
(台账), risk cards (风险告知卡).

This package sits below ``_api`` and above the stages it draws from (``_enterprise``,
``_grade``, ``_core``). matplotlib, openpyxl and reportlab are optional (``riskgrade[render]``)
and are imported only inside the functions that draw, so ``import riskgrade`` stays light.
"""
