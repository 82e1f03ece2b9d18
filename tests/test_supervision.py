"""Differentiated supervision: declarations per jurisdiction (stricter only), and what an enterprise gets."""

from __future__ import annotations

import datetime
import pathlib
import textwrap

import pytest

import riskgrade
from riskgrade import Level, RefinementError, RulesetError

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATE = datetime.date(2024, 6, 30)


def _layer(tmp_path: pathlib.Path, body: str, jurisdiction: str = "620421", name: str = "county.yaml") -> pathlib.Path:
    head = f"""\
        riskgrade: 1
        kind: supervision-layer
        id: test-county
        title: {{zh: 测试县, en: test county}}
        jurisdiction: "{jurisdiction}"
        refines: gansu-supervision
        version: "0.1"
        sources:
          test-doc: {{title: {{zh: 测试文件, en: test document}}, status: unverified}}
        """
    path = tmp_path / name
    path.write_text(textwrap.dedent(head) + textwrap.dedent(body), encoding="utf-8")
    return path


class TestLoadSupervision:
    def test_the_chain_province_city_county(self) -> None:
        s = riskgrade.load_supervision("620421")
        assert s.layers == ("620000 甘肃省", "620400 白银市", "620421 靖远县")
        # the county layer raises fireworks ORANGE from the province's 8 to 10; the city leaves it
        assert [s.inspections("fireworks", Level.ORANGE, upto=c) for c in ("620000", "620400", "620421")] == [8, 8, 10]
        assert s.inspections("nonmetal-mine", Level.ORANGE, upto="620400") == 4
        assert s.inspections("power", Level.RED) == s.inspections("default", Level.RED) == 6
        assert {c.id: c.months for c in s.cycles}["risk-identification-review"] == 6
        assert riskgrade.load_supervision("620402").inspections("fireworks", Level.ORANGE) == 8

    def test_every_value_names_its_source_and_kind(self) -> None:
        s = riskgrade.load_supervision("620421")
        counts, cites = s.row("coal")
        assert counts == (2, 4, 6, 8)
        assert [c.source for c in cites] == ["sx-2025", "sx-2025", "sx-2025", "jingyuan-example"]
        assert cites[3].basis == "local" and cites[3].status == "unverified" and cites[3].layer == "620421 靖远县"
        assert s.insurance.status == "unverified" and s.insurance.cite.number == "应急〔2017〕140号"
        hazchem = s.content["hazchem"][0]
        assert hazchem.ruleset == "hazchem-major-hidden-dangers" and len(hazchem.rules) == 20
        assert hazchem.cite.basis == "clause"

    def test_a_county_that_inspects_less_often_is_rejected_at_load(self, tmp_path: pathlib.Path) -> None:
        path = _layer(tmp_path, """\
            inspection:
              coal:
                ORANGE: 5
                cite: {source: test-doc, basis: local}
            """)
        with pytest.raises(RefinementError) as exc:
            riskgrade.load_supervision("620421", layers=[path])
        (p,) = exc.value.problems
        assert (p.code, p.file, p.line) == ("refine-looser", str(path), 12)
        assert "fewer than the 6 declared above" in p.message

    @pytest.mark.parametrize(("body", "line"), [
        ("cycles:\n  - {id: hazchem-diagnosis, months: 48, cite: {source: test-doc, basis: local}}\n", 11),
        ("insurance:\n  level: {RED: 0.1, cite: {source: test-doc, basis: local}}\n", 11),
        ("insurance:\n  accidents: {within_months: 6}\n", 11),
    ], ids=["longer-cycle", "lower-loading", "shorter-accident-window"])
    def test_other_loosenings_are_rejected(self, tmp_path: pathlib.Path, body: str, line: int) -> None:
        path = _layer(tmp_path, body)
        with pytest.raises(RefinementError) as exc:
            riskgrade.load_supervision("620421", layers=[path])
        assert [(p.code, p.line) for p in exc.value.problems] == [("refine-looser", line)]

    def test_a_stricter_county_loads(self, tmp_path: pathlib.Path) -> None:
        path = _layer(tmp_path, """\
            inspection:
              water:
                RED: 8
                cite: {source: test-doc, basis: local}
            """)
        s = riskgrade.load_supervision("620421", layers=[path])
        assert s.inspections("water", Level.RED) == 8 and s.inspections("water", Level.ORANGE) == 4

    def test_unknown_rules_and_sources_are_located(self, tmp_path: pathlib.Path) -> None:
        path = _layer(tmp_path, """\
            content:
              hazchem:
                - {ruleset: hazchem-major-hidden-dangers, rules: [hc-01, hc-99], cite: {source: nowhere, basis: clause}}
            """)
        with pytest.raises(RulesetError) as exc:
            riskgrade.load_supervision("620421", layers=[path])
        assert sorted((p.code, p.line) for p in exc.value.problems) == [("unknown-rule", 12), ("unknown-source", 12)]

    def test_a_layer_off_the_chain_is_an_error(self, tmp_path: pathlib.Path) -> None:
        path = _layer(tmp_path, "", jurisdiction="620422")
        with pytest.raises(RulesetError) as exc:
            riskgrade.load_supervision("620421", layers=[path])
        assert exc.value.codes == ["bad-value"]

    def test_no_default_for_another_province(self) -> None:
        with pytest.raises(RulesetError) as exc:
            riskgrade.load_supervision("110105")
        assert exc.value.codes == ["no-supervision"]


class TestSupervise:
    def test_chem_plant(self) -> None:
        a = riskgrade.assess(None, ROOT / "examples/enterprises/chem-plant.yaml", as_of=DATE)
        s = riskgrade.supervise(a)
        sup = riskgrade.load_supervision("620402")
        assert (s.level, s.sector, s.jurisdiction) == (Level.RED, "hazchem", "620402")
        assert s.inspections == sup.inspections("hazchem", Level.RED) == 12
        assert s.item_ids[:2] == ["hazchem-major-hidden-dangers#hc-01", "hazchem-major-hidden-dangers#hc-02"]
        assert len(s.item_ids) == 20
        assert [c.id for c in s.cycles] == ["hazchem-diagnosis", "risk-identification-review"]
        assert [(sid, reason) for sid, _, _, reason in s.subjects] == [
            ("P-SYN-REACTOR", "major-risk"), ("U-TANK", "major-hazard"), ("HD-2024-007", "major-hidden-danger")]
        assert s.owner is not None and [d["zh"] for d in s.owner.departments()] == ["白银区人民政府", "白银区应急管理局"]
        assert s.errors == ()
        ins = sup.insurance
        # RED, standardisation 一级, no accident in the 12 months before 2024-06-30 (the one is from 2021)
        assert [(t, k) for t, k, _, _ in s.terms] == [("level", "RED"), ("standardisation", "一级"), ("accidents", "none")]
        assert s.factor == pytest.approx(ins.base + ins.level["RED"] + ins.standardisation["一级"] + ins.accidents["none"])
        assert s.factor == 1.0
        assert dict(s.tiers) == {r.id: (r.control_tier,) for r in a.risk_points}

    def test_an_accident_in_the_window_raises_the_factor(self) -> None:
        a = riskgrade.assess(None, ROOT / "examples/enterprises/mine.yaml", as_of=DATE)
        s = riskgrade.supervise(a)
        acc = {a_.severity for a_ in a.enterprise.accidents if DATE - datetime.timedelta(days=365) < a_.date <= DATE}
        assert acc == {"general"}
        assert [(t, k) for t, k, _, _ in s.terms] == [("level", a.level.name), ("standardisation", "二级"),
                                                       ("accidents", "一般")]
        assert s.factor == 1.25

    def test_a_zone_enterprise_answers_to_the_zone(self) -> None:
        a = riskgrade.assess(None, ROOT / "examples/region/hitech.yaml", as_of=DATE)
        s = riskgrade.supervise(a)
        assert s.jurisdiction == "620400/白银高新技术产业开发区"
        assert s.owner is not None and s.owner.government[0] == "白银高新技术产业开发区管理委员会"

    def test_no_government_is_an_error_record_for_every_subject(self) -> None:
        reg = {"id": "E-LZ-1", "name": "兰州示例化工", "sectors": ["hazchem"], "jurisdiction": "620102",
               "ruleset": "lec-generic", "units": [{"id": "U-1", "name": "罐区", "major_hazard_grade": "一级"}],
               "risk_points": [{"id": "P-1", "unit": "U-1", "name": "储罐", "facts": {"L": 10, "E": 6, "C": 15}}]}
        s = riskgrade.supervise(riskgrade.assess(None, reg, as_of=DATE))
        assert s.owner is None
        assert [(e["code"], e["record"]) for e in s.errors] == [
            ("grid-unassigned", "E-LZ-1"), ("grid-unassigned", "P-1"), ("grid-unassigned", "U-1")]
        assert s.to_dict()["grid"]["owner"] is None

    def test_the_json_is_canonical(self) -> None:
        a = riskgrade.assess(None, ROOT / "examples/enterprises/chem-plant.yaml", as_of=DATE)
        d = riskgrade.supervise(a).to_dict()
        assert sorted(d) == ["control_tiers", "grid", "inspection", "insurance"]
        assert d["insurance"]["status"] == "unverified" and "140" in d["insurance"]["note"]["en"]
        assert d["inspection"]["cite"]["basis"] == "local"
