"""The catalogue of error codes: every code riskgrade can raise, with its meaning in zh and en.

A code is stable: tests and tools may rely on it. ``kinds`` says where it appears:

- ``ruleset``: a :class:`~riskgrade.exceptions.Problem` in a ruleset, layer or roll-up file (``file:line:col``)
- ``monitor``: a Problem in a ``kind: monitor`` ruleset (``file:line:col``)
- ``fact``: :class:`~riskgrade.exceptions.FactError` -- facts or an enterprise register are wrong
- ``event``: :class:`~riskgrade.EventError` -- a monitoring event is wrong (one ``error`` record each)
- ``graph``: the ``code`` of an error record of ``riskgrade assess`` (register or region inconsistent)
- ``function``: a function or plugin failed while grading (``FunctionError.to_dict``)
- ``state``: the ``code`` of a :class:`~riskgrade.exceptions.MonitorError` -- a monitor checkpoint cannot be restored
- ``render``: the ``code`` of a :class:`~riskgrade.exceptions.RenderError` -- a map, risk card or register export cannot be written

One code may appear under several kinds (``bad-value`` is a schema problem and a fact error); it
means the same thing in each. ``docs/errors.md`` is generated from this table
(``tools/gen_errors_doc.py``).

>>> from riskgrade._core.codes import CODES, describe
>>> CODES["unknown-key"].kinds
('ruleset', 'monitor')
>>> describe("missing-fact", "zh")
'缺少必填事实(且无默认值)'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

__all__ = ["CODES", "KINDS", "Code", "describe"]

#: the kinds, in the order the documentation lists them, with their zh/en titles
KINDS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "ruleset": ("规则集问题(文件:行:列)", "Ruleset problems (file:line:col)"),
    "monitor": ("监测规则集问题(文件:行:列)", "Monitoring ruleset problems (file:line:col)"),
    "fact": ("事实错误(FactError)", "Fact errors (FactError)"),
    "event": ("监测事件错误(EventError)", "Event errors (EventError)"),
    "graph": ("企业图与区域错误(riskgrade assess 的错误记录)", "Graph and region errors (riskgrade assess error records)"),
    "function": ("函数或插件失败(FunctionError)", "A function or plugin failed (FunctionError)"),
    "state": ("监测检查点错误(MonitorError)", "Monitor checkpoint errors (MonitorError)"),
    "render": ("输出错误(RenderError:四色图、告知卡、台账导出)", "Output errors (RenderError: maps, risk cards, register exports)"),
    "supervision": ("差异化监管输出中的错误记录(riskgrade assess / plan)",
                    "Supervision error records (riskgrade assess / plan)"),
    "service": ("HTTP 服务错误(riskgrade serve 的问题文档)", "HTTP service errors (riskgrade serve problem documents)"),
})


@attrs.frozen
class Code:
    """One error code: ``code``, the ``kinds`` it appears under, and what it means in ``zh`` and ``en``."""

    code: str
    kinds: tuple[str, ...]
    zh: str
    en: str

    @property
    def kind(self) -> str:
        """The first (main) kind."""
        return self.kinds[0]

    def text(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en


R, M, F, E, G, FN = ("ruleset",), ("monitor",), ("fact",), ("event",), ("graph",), ("function",)
S = ("state",)
RD = ("render",)
SV = ("supervision",)
SVC = ("service",)

_TABLE: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    # --- reading a file (ruleset, layer, monitor ruleset, facts, register)
    ("yaml-syntax", R + M, "YAML 语法错误", "the file is not valid YAML"),
    ("yaml-value", R + M, "YAML 中有不支持的值或标签", "a YAML value or tag is not supported"),
    ("duplicate-key", R + M + F + E, "同一映射中键重复,或表中键值重复", "a key appears twice (in a mapping or in a table's rows)"),
    ("bad-key", R + M, "映射的键必须是标量", "a mapping key is not a scalar"),
    ("too-large", R + M + F + E, "超出限值(Limits):文件、展开后的文档、映射、整数位数、表达式生成的文本或列表过大",
     "over a limit (Limits): the file, the document it expands to, a mapping, an integer's digits, or a text or "
     "list an expression builds is too large"),
    ("too-deep", R + M + F + E, "嵌套过深(Limits.max_depth)", "the document or value nests too deeply (Limits.max_depth)"),
    ("not-utf8", R + M + F + E, "不是 UTF-8 编码", "the file is not UTF-8"),
    ("unreadable", R + M + F, "无法读取文件", "the file cannot be read"),
    # --- schema
    ("unknown-key", R + M, "未知的键(此处不允许,可能拼写有误)", "unknown key (not allowed here; a typo?)"),
    ("missing-key", R, "缺少必需的键", "a required key is missing"),
    ("not-in-matrix", F, "取值不在风险矩阵的坐标轴上", "the value is not on an axis of the risk matrix"),
    ("no-edition-in-force", R, "评定日期当天没有施行中的版本", "no edition of the ruleset was in force on the assessment date"),
    ("matrix-shape", R, "风险矩阵的行列数与坐标轴取值个数不符", "a matrix's cells do not match its axes"),
    ("matrix-not-monotone", R, "风险矩阵中等级沿坐标轴下降(如标准如此规定, 请在 exceptions 中注明出处)",
     "a matrix level falls along an axis (cite the exception if the standard says so)"),
    ("unknown-library", R, "没有这个刻度库(可用内置库 id 或规则集旁的文件路径)", "no scale library of that name (a shipped id, or a file beside the ruleset)"),
    ("unknown-matrix", R, "没有这个名称的风险矩阵", "no matrix of that name"),
    ("missing-layer", R, "辖区链上缺少所依赖的上级图层(插件未安装)", "a layer builds on a parent layer that is not installed"),
    ("reserved-key", R, "此键由辖区图层写入, 基础规则集中不得出现", "a key only layering writes (layer provenance); not allowed in a base ruleset"),
    ("wrong-type", R + F, "类型不对", "wrong type"),
    ("bad-value", R + F + E, "取值不对(不在允许范围或格式内)", "the value is not allowed (range, choice or form)"),
    ("conflicting-keys", R, "这些键不能同时使用", "keys that cannot be used together"),
    ("bad-length", R, "条目数量不对", "wrong number of items"),
    ("bad-name", R, "此处不允许这个名称", "the name is not allowed here"),
    ("schema", R, "不符合规则集格式", "does not fit the ruleset format"),
    # --- ruleset content
    ("unknown-ruleset", R, "没有这个规则集", "no such ruleset"),
    ("link-cycle", R, "规则集之间的关联(links)构成循环", "rulesets link each other in a cycle (links:)"),
    ("link-unavailable", R, "本次编译无法加载关联的规则集(请用 riskgrade.load 加载)",
     "this compilation cannot load linked rulesets (load the ruleset with riskgrade.load)"),
    ("fingerprint-mismatch", R, "反序列化的规则集与现有文件的指纹不一致(文件已更改)",
     "an unpickled ruleset no longer matches its files' fingerprint (a file changed)"),
    ("unknown-jurisdiction", R, "不是已知的行政区划代码(GB/T 2260)", "not a known area code (GB/T 2260)"),
    ("duplicate-id", R + M + F, "编号重复", "the id is used twice"),
    ("duplicate-name", R, "名称已定义", "the name is already defined"),
    ("type-mismatch", R, "输入的类型与对照表不符", "the input's type does not match its table"),
    ("unknown-method", R, "未知的评价方法", "unknown method"),
    ("no-default-level", R, "没有规则给出默认等级", "no rule gives a default level"),
    ("bad-default", R, "默认值不是有效的输入值", "the default is not a valid value of the input"),
    ("bad-range", R, "最小值大于最大值", "min is above max"),
    ("bad-level", R + M, "不是风险等级(红/橙/黄/蓝)", "not a risk level (RED/ORANGE/YELLOW/BLUE)"),
    ("derive-cycle", R, "派生值相互依赖(循环)", "derived values depend on each other (a cycle)"),
    ("unknown-source", R, "引用了未定义的依据来源", "no source with that name"),
    # --- tables and bands
    ("unknown-table", R, "没有这个对照表", "no table with that name"),
    ("unknown-column", R, "对照表中没有这一列", "the table has no such column"),
    ("unknown-row", R, "对照表或分级区间中没有这一行", "no such row in the table or bands"),
    ("bad-path", R, "CSV 须放在规则集旁(不能用绝对路径或 ..)", "a table CSV must sit beside the ruleset"),
    ("csv-missing", R, "无法读取 CSV 文件", "the CSV file cannot be read"),
    ("csv-invalid", R, "CSV 文件格式错误", "the CSV file is malformed"),
    ("csv-columns", R, "CSV 缺少列", "the CSV lacks columns"),
    ("csv-value", R, "CSV 单元格的值不对", "a CSV cell has a wrong value"),
    ("unknown-bands", R, "没有这个分级区间", "no bands with that name"),
    ("bands-without-levels", R, "分级区间的每一行都须给出等级", "the bands must give a level in every row"),
    ("band-output", R, "区间行须且只能有 level 或 value 之一", "a band row needs exactly one of level or value"),
    ("empty-band", R, "区间为空", "the band is empty"),
    ("band-gap", R, "区间之间有空缺", "the bands leave a gap"),
    ("band-overlap", R, "区间重叠", "the bands overlap"),
    # --- expressions
    ("unknown-name", R, "表达式中的名称未定义", "unknown name in an expression"),
    ("unknown-field", R + F + E, "记录没有这个字段(表达式、登记表或事件中)",
     "the record has no such field (in an expression, a register or an event)"),
    ("unknown-function", R, "未知的函数", "unknown function"),
    ("expr-type", R, "表达式须为文本或数值", "an expression must be text or a number"),
    ("expr-too-long", R, "表达式过长", "the expression is too long"),
    ("expr-empty", R, "表达式为空", "the expression is empty"),
    ("expr-syntax", R, "表达式语法错误", "syntax error in the expression"),
    ("expr-too-deep", R, "表达式嵌套过深", "the expression nests too deeply"),
    ("expr-number", R, "数值须为有限数", "numbers must be finite"),
    ("expr-constant", R, "不允许这种常量", "this kind of constant is not allowed"),
    ("expr-operator", R, "不允许这个运算符", "the operator is not allowed"),
    ("expr-exponent", R, "不允许这样的乘方", "this power is not allowed"),
    ("expr-starred", R, "不允许星号展开", "starred items are not allowed"),
    ("expr-dunder", R, "不允许以下划线开头的名称", "names starting with '_' are not allowed"),
    ("expr-function-value", R, "函数须被调用", "a function must be called"),
    ("expr-attribute", R, "不允许这种属性访问", "this attribute access is not allowed"),
    ("expr-call", R, "只能按名称调用已注册的函数", "only registered functions can be called, by name"),
    ("expr-keyword", R, "不允许关键字参数", "keyword arguments are not allowed"),
    ("expr-arity", R, "函数参数个数不对", "wrong number of arguments"),
    ("expr-argument", R, "函数参数不对", "a wrong argument"),
    ("expr-comprehension", R, "推导式写法不允许", "this comprehension is not allowed"),
    ("expr-shadow", R, "循环变量遮蔽了其他名称", "the loop variable hides another name"),
    ("expr-lambda", R, "不允许 lambda 表达式", "lambdas are not allowed"),
    ("expr-subscript", R, "不允许下标取值，请用 lookup(表, 键, 列)", "subscripts are not allowed; use lookup(table, key, column)"),
    ("expr-walrus", R, "不允许赋值表达式(:=)", "assignment expressions (:=) are not allowed"),
    ("expr-fstring", R, "不允许 f 字符串", "f-strings are not allowed"),
    ("expr-dict", R, "不允许字典字面量", "dict literals are not allowed"),
    ("expr-await", R, "不允许 await", "await is not allowed"),
    ("expr-yield", R, "不允许 yield", "yield is not allowed"),
    ("expr-construct", R, "表达式中不允许这种写法", "this construct is not allowed in expressions"),
    # --- layers
    ("layer-wrong-ruleset", R, "地方层细化的不是这个规则集", "the layer refines another ruleset"),
    ("layer-version", R, "地方层不适用于这个版本", "the layer does not apply to this version"),
    ("layer-conflict", R, "两个地方层修改了同一项", "two layers change the same item"),
    ("layer-no-default", R, "地方层不能去掉默认等级", "a layer cannot remove the default level"),
    ("layer-csv", R, "地方层的表须内联书写(rows:)", "a layer's tables are written inline (rows:)"),
    ("layer-band-order", R, "地方层使区间顺序错乱", "the layer puts the bands out of order"),
    ("unknown-rule", R, "没有这条规则", "no rule with that id"),
    ("inspection-not-monotone", R, "较高风险等级的检查次数少于较低等级", "a higher level is inspected less often than a lower one"),
    ("no-supervision", R, "该省没有差异化监管默认配置(kind: supervision)",
     "no supervision default is declared for the province (kind: supervision)"),
    ("refine-looser", R, "细化使标准变宽松(只能更严)", "the refinement makes the standard looser (it may only be stricter)"),
    # --- proofs at load (riskgrade validate): errors
    ("band-not-monotone", R, "分级区间中等级随分值升高而降低(如标准如此规定, 请在该行注明 exception 及出处)",
     "a level falls as the score rises along the bands (cite the exception on the row if the standard says so)"),
    ("type-compare", R, "表达式把文本与数值比较(条件永远不成立)", "an expression compares text with a number (never true)"),
    ("optional-no-default", R, "没有默认值的可选输入用于计算, 缺少它的记录在评级时出错",
     "an optional input without a default reaches a formula; a record without it fails at grade time"),
    ("bad-case", R, "用例的事实不符合输入定义(类型、取值、未知或缺少)",
     "a case's facts violate the inputs (type, allowed values, unknown or missing)"),
    ("unknown-code", R, "用例期望的错误代码不存在", "a case expects an error code riskgrade never raises"),
    # --- proofs at load: warnings (riskgrade validate --strict makes them errors)
    ("unreachable-rule", R, "规则永远不会触发(对所有允许的输入条件都不成立)",
     "the rule can never fire (its condition is false for every allowed input)"),
    ("shadowed-rule", R, "规则的等级不高于某条总是生效的规则的最低等级, 不会改变结果",
     "the rule's level never exceeds the lowest level a total rule always gives; it changes no result"),
    ("unused-input", R, "输入项没有被使用", "no rule, derived value or formula reads the input"),
    ("unused-table", R, "对照表没有被使用", "no input or lookup uses the table"),
    ("refine-may-fail", R, "地方层新增的内容可能出错,使基础标准能分级的记录变成错误",
     "what the layer adds may fail, turning a record the base grades into an error"),
    # --- riskgrade test: cases and coverage
    ("no-cases", R, "规则集没有用例(覆盖率按 0% 计)", "the ruleset has no cases (its coverage counts as 0 %)"),
    ("uncovered", R, "没有用例覆盖这条规则、分档行或判定项", "no case exercises this rule, band row or criterion"),
    ("low-coverage", R, "用例覆盖率低于 --min-coverage", "the cases cover less than --min-coverage"),
    # --- roll-up
    ("rollup-bad-type", R, "roll-up 段的结构不对", "the roll-up section has the wrong shape"),
    ("rollup-unknown-kind", R, "未知的节点类型", "unknown node kind"),
    ("rollup-bad-combine", R, "不支持的合成方式(用 max)", "unsupported combine (use max)"),
    ("rollup-duplicate-id", R, "修正项编号重复", "the modifier id is used twice"),
    ("rollup-missing-id", R, "修正项缺少编号", "the modifier has no id"),
    ("rollup-bad-effect", R, "修正项须且只能有一个效果", "a modifier needs exactly one effect"),
    ("rollup-bad-steps", R, "调整级数须为 1-3", "steps must be 1-3 levels"),
    ("rollup-lower-too-far", R, "最多只能降低一级", "a modifier may lower by one level at most"),
    ("rollup-bad-level", R, "不是风险等级", "not a risk level"),
    ("rollup-bad-label", R, "label 须为 {zh, en} 文本", "label must be {zh, en} text"),
    ("rollup-missing-basis", R, "修正项须注明依据", "the modifier cites no basis"),
    ("rollup-bad-basis", R, "依据写法不对", "the basis is malformed"),
    ("rollup-local-without-document", R, "本地配置依据须写明本地文件(cite)",
     "a local basis must name the local document (cite)"),
    ("rollup-bad-condition", R, "条件写法不对", "the condition is malformed"),
    ("rollup-not-applicable", R, "该条件不适用于这类节点", "the condition does not apply to this node kind"),
    # --- monitoring rulesets
    ("bad-ruleset", M, "监测规则集须为映射", "a monitoring ruleset must be a mapping"),
    ("not-screening", R, "不是准入审查规则集(缺少 kind: screening)", "the ruleset is not an admission-screening ruleset (kind: screening)"),
    ("not-monitor", M, "缺少 kind: monitor", "the file lacks kind: monitor"),
    ("bad-warnings", M, "warnings 须为预警规则列表", "warnings must be a list of warning rules"),
    ("bad-warning", M, "预警规则须为映射", "a warning rule must be a mapping"),
    ("unknown-kind", M, "未知的预警类型", "unknown warning kind"),
    ("bad-id", M, "编号只能含字母、数字、_ - .", "the id may hold letters, digits, '_', '-', '.'"),
    ("bad-limit", M, "限值写法不对", "the limit is malformed"),
    ("bad-count", M, "次数须为不小于 1 的整数", "count must be a whole number ≥ 1"),
    ("bad-points", M, "须列出两个不同的监测点", "points must list two different monitoring points"),
    ("bad-number", M, "须为不小于 0 的数", "must be a number ≥ 0"),
    ("bad-duration", M, "不是时长(如 30s、5min)", "not a duration (e.g. 30s, 5min)"),
    ("bad-alarms", M, "报警类型不对", "unknown alarm kinds"),
    ("bad-message", M, "消息须同时有 zh 和 en", "the message needs both zh and en"),
    ("bad-placeholder", M, "消息中的占位符未知", "unknown placeholder in the message"),
    ("missing-citation", M, "预警规则须注明依据", "the warning rule cites no source"),
    ("bad-citation-kind", M, "依据类型不对", "wrong citation kind"),
    ("bad-effect", M, "效果写法不对", "the effect is malformed"),
    # --- facts
    ("missing-fact", F, "缺少必填事实(且无默认值)", "a required fact is missing (and has no default)"),
    ("unknown-fact", F, "不是本规则集的输入项(可能拼写有误)", "not an input of this ruleset (a typo?)"),
    ("not-allowed", F, "不是允许的取值", "not an allowed value"),
    ("out-of-range", F + E, "超出取值范围", "out of range"),
    ("not-finite", F, "不是有限数值", "not a finite number"),
    ("not-real", F, "计算结果不是实数(如负数的分数次幂)", "the result is not a real number (a negative number to a fractional power)"),
    ("not-in-table", F, "在对照表中查不到", "not found in the table"),
    ("requirement-failed", F, "不满足规则集的要求", "a requirement of the ruleset failed"),
    ("eval-error", F, "无法计算", "cannot be computed"),
    ("not-a-mapping", F, "记录不是键值映射", "the record is not a mapping"),
    ("blank-line", F + E, "空行(JSON Lines 的每一行是一条记录; 监测事件日志亦然)",
     "a blank line (every line of JSON Lines is one record; of an event log too)"),
    ("not-a-table", F, "不是可成批评级的表(pyarrow 表、pandas 或 polars 数据框)",
     "not a table that can be graded in a batch (a pyarrow Table, a pandas or polars DataFrame)"),
    ("bad-syntax", F + E, "文件或行的语法错误(不是有效的 JSON 或 YAML); 监测事件的此错误原为 bad-json, 已改名",
     "syntax error in the file or line (not valid JSON or YAML); an event line said bad-json before, renamed"),
    ("too-few", F, "条目过少", "too few items"),
    ("too-many", F, "条目过多", "too many items"),
    ("bad-json", F, "已弃用, 现为 bad-syntax: 不是有效的 JSON(JSON 读取器的内部代码; 事实文件、企业台账、监测事件与服务都报告 bad-syntax)",
     "deprecated, now bad-syntax: not valid JSON (the JSON reader's internal code; facts files, enterprise "
     "registers, events and the service all report bad-syntax)"),
    ("bad-type", M + F + E, "类型不对", "wrong type"),
    ("bad-date", F, "不是日期(YYYY-MM-DD)", "not a date (YYYY-MM-DD)"),
    ("missing-field", M + F + E, "缺少必需的字段", "a required field is missing"),
    ("bad-jurisdiction", F, "不是六位行政区划代码", "not a six-digit area code"),
    ("bad-uscc", F, "不是有效的统一社会信用代码(GB 32100)", "not a valid unified social credit code (GB 32100)"),
    ("bad-accident-type", F, "不是 GB 6441-1986 的事故类别(物体打击……其他伤害)",
     "not an accident category of GB 6441-1986 (物体打击 ... 其他伤害)"),
    ("bad-control-category", F, "不是管控措施的类别(工程技术、管理、培训教育、个体防护、应急处置)",
     "not a kind of control measure (engineering, management, training, ppe, emergency)"),
    ("bad-phone", F, "不是电话号码(数字, 可含 +、空格、连字符、括号)",
     "not a telephone number (digits, optionally with +, spaces, hyphens, parentheses)"),
    ("ministry-conflict", F, "部级双重预防数据中的记录相互矛盾(企业编码不一、编号重复、扩展字段与标准字段重复)",
     "records of a ministry dual-prevention file contradict each other (company codes differ, an id repeats, an "
     "extension repeats a standard field)"),
    ("no-cjk-font", RD, "未安装中文(CJK)字体, 无法绘制中文标注", "no CJK font is installed, so Chinese labels cannot be drawn"),
    ("missing-extra", RD, "缺少可选依赖(pip install 'riskgrade[render]')", "an optional dependency is missing (pip install 'riskgrade[render]')"),
    ("bad-output", RD, "输出无法写入(不支持的文件类型, 或目标目录不可用)", "the output cannot be written (an unsupported file type, or an unusable target directory)"),
    ("bad-site-plan", RD, "无法绘制企业风险分布图(台账中无厂区坐标, 或混用平面米坐标与 WGS84)", "the enterprise risk map cannot be drawn (no site positions in the register, or site-plan metres mixed with WGS84)"),
    ("bad-boundary", RD, "边界 GeoJSON 无法使用(非 RFC 7946 面要素或缺少 adcode)", "the boundary GeoJSON cannot be used (not RFC 7946 polygons, or no adcode)"),
    ("outside-region", F, "坐标(WGS84)不在登记辖区的边界范围内", "the location (WGS84) lies outside the bounds of the register's jurisdiction"),
    ("unknown-reference", F, "引用的编号不存在", "no record with the id referred to"),
    ("missing-ruleset", F, "没有指定规则集", "no ruleset named"),
    ("unknown-input", F, "不是本规则集的输入项(whatif --fix)", "not an input of this ruleset (whatif --fix)"),
    ("cannot-generate", F, "无法为这个必填输入生成取值(文本、日期或列表), 请用 --facts 给出记录",
     "values of this required input cannot be generated (text, date or list); give records with --facts"),
    # --- events
    ("not-an-object", E, "事件须为 JSON 对象", "an event must be a JSON object"),
    ("unknown-type", E, "未知的事件类型", "unknown event type"),
    ("bad-time", E, "不是时间(ISO 8601 或秒数)", "not a time (ISO 8601 or seconds)"),
    ("naive-time", E, "时间缺少时区(如 +08:00)", "the time has no UTC offset (e.g. +08:00)"),
    ("wrong-enterprise", E, "事件属于另一家企业", "the event is for another enterprise"),
    ("unknown-point", E, "没有这个监测点", "no such monitoring point"),
    ("unknown-risk-point", E, "没有这个风险点", "no such risk point"),
    ("late-event", E, "事件晚于容许的乱序范围", "the event is older than the tolerance allows"),
    ("duplicate-event", E, "事件编号已收到过", "the event id was already received"),
    ("duplicate-hidden-danger", E, "隐患已存在", "the hidden danger already exists"),
    ("unknown-hidden-danger", E, "没有这个隐患", "no such hidden danger"),
    ("bad-transition", E, "隐患状态不允许这一步", "the hidden danger's status does not allow this step"),
    # --- monitor checkpoints
    ("bad-state", S, "检查点文件损坏或不是检查点", "the checkpoint is corrupt or not a monitor checkpoint"),
    ("state-mismatch", S, "检查点属于另一规则集、企业、容差或事件日志",
     "the checkpoint belongs to another monitoring ruleset, enterprise, tolerance or event log"),
    # --- graph (riskgrade assess)
    ("cycle", G, "依赖关系成环", "the dependencies form a cycle"),
    ("graph", G, "企业图不一致", "the enterprise graph is inconsistent"),
    ("ruleset", G, "规则集有问题", "a ruleset is wrong"),
    ("duplicate-enterprise", G, "同一企业出现两次", "the same enterprise appears twice"),
    # --- supervision (riskgrade assess, riskgrade plan)
    ("grid-unassigned", SV, "重大风险、重大危险源或重大事故隐患没有网格责任主体(属地政府或部门未配置)",
     "a major risk, major hazard installation or major hidden danger has no grid owner (no government or department declared)"),
    # --- functions and plugins
    ("function-error", FN, "函数或插件在评级时失败(代码缺陷,不是输入错误)",
     "a function or plugin failed while grading (a bug, not bad input)"),
    ("timeout", SVC, "请求超过服务的时间上限(--timeout, 408)", "the request took longer than the service's time limit (--timeout, 408)"),
    ("unauthorized", SVC, "缺少或不认可 API 密钥(401)", "no API key, or one the service does not know (401)"),
    ("bad-parameter", SVC, "查询或路径参数不对(400)", "a query or path parameter is wrong (400)"),
    ("bad-target", SVC, "目标等级不是 RED/ORANGE/YELLOW/BLUE 之一", "the target level is not one of RED/ORANGE/YELLOW/BLUE"),
    ("internal-error", FN, "插件或 riskgrade 自身意外失败(代码缺陷,不是输入错误)",
     "a plugin or riskgrade itself failed unexpectedly (a bug, not bad input)"),
    ("plugin-error", FN, "插件的钩子失败或返回了不能用的内容(插件缺陷,不是输入错误; 退出码 3)",
     "a plugin's hook failed or returned something unusable (a bug in the plugin, not bad input; exit 3)"),
)

#: code -> :class:`Code`, in catalogue order
CODES: Mapping[str, Code] = MappingProxyType({c: Code(c, k, zh, en) for c, k, zh, en in _TABLE})


def describe(code: str, lang: str = "en") -> str:
    """What ``code`` means, in ``lang`` (``zh`` or ``en``); ``""`` for a code not in the catalogue.

    >>> describe("band-gap")
    'the bands leave a gap'
    """
    entry = CODES.get(code)
    return entry.text(lang) if entry else ""
