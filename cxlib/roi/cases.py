"""The intervention cases: uncertain inputs (:class:`Quantity`, :class:`JointNormal`), :class:`Case`, and
reading and validating the cases file (schema: ``docs/roi-cases.md``)."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from cxlib import paths
from cxlib.catalog import Lang, bilingual
from cxlib.errors import DataError
from cxlib.roi.labels import EFFECTS, INPUT_LABELS

Distribution = Literal["triangular", "pert"]


@dataclass(frozen=True)
class Quantity:
    """An uncertain input: ``low ≤ mode ≤ high`` (a fixed number has all three equal).

    >>> Quantity(1, 2, 6).mean()
    3.0
    """

    low: float
    mode: float
    high: float

    @classmethod
    def fixed(cls, value: float) -> Quantity:
        """A number without uncertainty.  ``Quantity.fixed(5).is_fixed`` → True"""
        return cls(float(value), float(value), float(value))

    @property
    def is_fixed(self) -> bool:
        return self.low == self.high

    def mean(self, distribution: Distribution = "triangular") -> float:
        """Mean of the distribution: (a+m+b)/3 triangular, (a+4m+b)/6 PERT."""
        if distribution == "triangular":
            return (self.low + self.mode + self.high) / 3
        if distribution == "pert":
            return (self.low + 4 * self.mode + self.high) / 6
        raise ValueError(f"distribution must be 'triangular' or 'pert', not {distribution!r}")

    def draw(self, rng: np.random.Generator, n: int, distribution: Distribution = "triangular") -> np.ndarray:
        """``n`` random draws (triangular, or PERT = scaled Beta(1+4(m−a)/(b−a), 1+4(b−m)/(b−a)))."""
        if self.is_fixed:
            return np.full(n, self.mode, dtype=float)
        a, m, b = self.low, self.mode, self.high
        if distribution == "triangular":
            return rng.triangular(a, m, b, size=n)
        if distribution == "pert":
            alpha = 1 + 4 * (m - a) / (b - a)
            beta = 1 + 4 * (b - m) / (b - a)
            return a + (b - a) * rng.beta(alpha, beta, size=n)
        raise ValueError(f"distribution must be 'triangular' or 'pert', not {distribution!r}")


@dataclass(frozen=True)
class JointNormal:
    """The estimated sampling distribution of measured effects: a multivariate normal on the models'
    own scales (``mean``, ``cov``, one entry per ``names``) and, for each case input it drives, a
    function of the drawn matrix (``n × k``, columns in ``names`` order) giving that input's draws.
    :func:`simulate` draws these inputs from it instead of their ``{low, mode, high}`` range.

        >>> j = JointNormal(("x",), (1.0,), ((4.0,),), {"reach": lambda z: 100 + z[:, 0]})
        >>> j.draw(np.random.default_rng(1), 3)["reach"].shape
        (3,)
    """

    names: tuple[str, ...]
    mean: tuple[float, ...]
    cov: tuple[tuple[float, ...], ...]
    inputs: Mapping[str, Callable[[np.ndarray], np.ndarray]] = field(default_factory=dict, compare=False)
    note: str = ""

    def __post_init__(self) -> None:
        k = len(self.names)
        cov = np.asarray(self.cov, dtype=float)
        if len(self.mean) != k or cov.shape != (k, k):
            raise DataError(f"need a mean and a {k}×{k} covariance for {self.names}", column="cov")
        if not np.allclose(cov, cov.T) or np.linalg.eigvalsh(cov).min() < -1e-12 * max(1.0, float(np.abs(cov).max())):
            raise DataError(f"the covariance of {self.names} must be symmetric positive semi-definite", column="cov")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws of the effects on their models' scales (an ``n × k`` array)."""
        return rng.multivariate_normal(
            np.asarray(self.mean, dtype=float), np.asarray(self.cov, dtype=float), size=n, method="eigh"
        )

    def draw(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """``n`` draws of each driven case input, from one :meth:`sample`."""
        z = self.sample(rng, n)
        return {k: np.asarray(f(z), dtype=float).reshape(n) for k, f in self.inputs.items()}


#: Cost inputs of a case (CNY), all ≥ 0.
COST_FIELDS: tuple[str, ...] = ("one_off_cost", "yearly_cost", "cost_per_customer")
INPUTS: tuple[str, ...] = (*COST_FIELDS, "reach", *EFFECTS)
#: Inputs that enter the cash flows (satisfaction and complaints are reported, not monetised:
#: their money effect runs through retention and referrals, which would otherwise count twice).
MONETARY_INPUTS: tuple[str, ...] = (
    *COST_FIELDS,
    "reach",
    "retention_gain",
    "referral_gain",
    "spend_gain",
    "extra_customers",
)
_CASE_FIELDS = {
    "id",
    "name_zh",
    "name_en",
    *COST_FIELDS,
    "reach",
    "effects",
    "group",
    "combines",
    "seed_claim",
    "attribution",
    "provenance",
    "centers",
}
#: fields a case may give per center (under ``centers: {<center_id>: {...}}``)
_CENTER_FIELDS = {*COST_FIELDS, "reach", "effects", "provenance"}
_REQUIRED = ("id", "name_zh", "name_en", *COST_FIELDS, "reach", "effects", "provenance")
_CLAIM_FIELDS = {"text_zh", "text_en", "roi", "formula", "gain", "cost", "gain_note", "cost_note", "values"}
_FORMULAS = ("net_over_cost", "gain_over_cost")


@dataclass(frozen=True)
class Case:
    """One intervention case: costs, reach and effects as :class:`Quantity` ranges.

    >>> Case("x", "例", "Example", reach=Quantity.fixed(10)).inputs()["reach"].mode
    10.0
    """

    id: str
    name_zh: str
    name_en: str
    one_off_cost: Quantity = Quantity.fixed(0)
    yearly_cost: Quantity = Quantity.fixed(0)
    cost_per_customer: Quantity = Quantity.fixed(0)
    reach: Quantity = Quantity.fixed(0)
    effects: Mapping[str, Quantity] = field(default_factory=dict)
    group: str | None = None
    combines: tuple[str, ...] = ()
    seed_claim: Mapping[str, Any] | None = None
    attribution: str | None = None
    provenance: str = ""
    #: per-center figures of the cases file: center id -> {field: Quantity, "effects": {...}, "provenance": text}
    centers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, compare=False)
    #: the center whose figures replaced the file's network figures (:func:`for_center`), else None
    center: str | None = None
    #: measured effects drawn from their estimated sampling distribution (:func:`update_program_value`);
    #: the inputs it drives are drawn from it by :func:`simulate`, their ranges serve :func:`tornado`
    sampling: JointNormal | None = field(default=None, compare=False)

    def inputs(self) -> dict[str, Quantity]:
        """All numeric inputs by name (effects not declared are fixed at 0)."""
        out = {k: getattr(self, k) for k in (*COST_FIELDS, "reach")}
        for k in EFFECTS:
            out[k] = self.effects.get(k, Quantity.fixed(0))
        return out

    def name(self, lang: Lang = "both") -> str:
        """Bilingual display name."""
        return bilingual(self.name_zh, self.name_en, lang=lang)


def input_label(name: str, *, lang: Lang = "both") -> str:
    """Bilingual label of a case input.

    >>> input_label("reach", lang="en")
    'Customers reached a year'
    """
    return bilingual(*INPUT_LABELS.get(name, (name, name)), lang=lang)


# ------------------------------------------------------------------------------ loading
class _UniqueKeyLoader:
    """A YAML SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""

    @staticmethod
    def make() -> type:
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = loader.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
                seen[key] = 1
            return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

        Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
        return Loader


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def _effects(raw: Any, where: str, err: FieldError) -> dict[str, Quantity]:
    """The ``effects`` mapping of a case (or of a center's figures of it), checked: known
    effect names, shares within -1..1, no negative extra customers; ``where`` names it in errors."""
    if not isinstance(raw, Mapping):
        raise err("must be a mapping of effect name to a number or range", where)
    effects = {}
    for k, v in raw.items():
        if k not in EFFECTS:
            raise err(f"unknown effect (allowed: {', '.join(EFFECTS)})", f"{where}.{k}")
        qq = _quantity(v, f"{where}.{k}", err)
        if EFFECTS[k][0] == "share" and not (-1 <= qq.low and qq.high <= 1):
            raise err("a share must lie within -1..1 (0.05 = 5 percentage points)", f"{where}.{k}")
        if k == "extra_customers" and qq.low < 0:
            raise err("must not be negative", f"{where}.{k}")
        effects[k] = qq
    return effects


def _quantity(raw: Any, where: str, err: FieldError) -> Quantity:
    if is_number(raw):
        return Quantity.fixed(float(raw))
    if isinstance(raw, Mapping):
        keys = set(raw)
        if keys - {"low", "mode", "high"}:
            bad = sorted(map(str, keys - {"low", "mode", "high"}))[0]
            raise err(f"unknown key {bad!r} in a range (allowed: low, mode, high)", f"{where}.{bad}")
        for k in ("low", "mode", "high"):
            if k not in raw:
                raise err(f"missing {k!r} in a range (give low, mode and high, or one number)", f"{where}.{k}")
            if not is_number(raw[k]):
                raise err(f"{k} must be a number, got {raw[k]!r}", f"{where}.{k}")
        lo, mo, hi = (float(raw[k]) for k in ("low", "mode", "high"))
        if not lo <= mo <= hi:
            raise err(f"range out of order: need low ≤ mode ≤ high, got {lo:g}, {mo:g}, {hi:g}", where)
        return Quantity(lo, mo, hi)
    raise err(f"must be a number or {{low, mode, high}}, got {raw!r}", where)


#: raises the error of one field of a case: ``err(message, field)``
FieldError = Callable[[str, str], DataError]


def _parse_case(raw: Any, pos: int, path: str, ids: set[str]) -> Case:
    """One case of the cases file (``pos`` its place, ``ids`` those read before it), checked
    field by field; the first problem raises a :class:`DataError` naming the case and field."""
    label = f"#{pos + 1}"
    if isinstance(raw, Mapping) and isinstance(raw.get("id"), str) and raw["id"].strip():
        label = repr(raw["id"])

    def err(msg: str, fld: str) -> DataError:
        return DataError(f"case {label}: field {fld}: {msg}", file=path, column=fld)

    _check_case_fields(raw, err)
    cid = raw["id"].strip()
    if cid in ids:
        raise err("duplicate id: every case needs its own id", "id")
    costs = _costs_and_reach(raw, "", err)
    effects = _effects(raw["effects"], "effects", err)
    group, combines, attribution = _case_links(raw, err)
    claim = _seed_claim(raw.get("seed_claim"), err)
    return Case(
        id=cid,
        name_zh=raw["name_zh"].strip(),
        name_en=raw["name_en"].strip(),
        one_off_cost=costs["one_off_cost"],
        yearly_cost=costs["yearly_cost"],
        cost_per_customer=costs["cost_per_customer"],
        reach=costs["reach"],
        effects=effects,
        group=group,
        combines=combines,
        seed_claim=claim,
        attribution=attribution,
        provenance=raw["provenance"].strip(),
        centers=_parse_centers(raw.get("centers"), err),
    )


def _check_case_fields(raw: Any, err: FieldError) -> None:
    """A case is a mapping of known fields with every required one, its names and provenance texts."""
    if not isinstance(raw, Mapping):
        raise err(f"a case must be a mapping of fields, got {type(raw).__name__}", "(case)")
    unknown = sorted(map(str, set(raw) - _CASE_FIELDS))
    if unknown:
        raise err(f"unknown field (allowed: {', '.join(sorted(_CASE_FIELDS))})", unknown[0])
    for f in _REQUIRED:
        if f not in raw or raw[f] is None:
            raise err("missing required field", f)
    for f in ("id", "name_zh", "name_en", "provenance"):
        if not isinstance(raw[f], str) or not raw[f].strip():
            raise err(f"must be a non-empty text, got {raw[f]!r}", f)


def _costs_and_reach(fields: Mapping[str, Any], where: str, err: FieldError) -> dict[str, Quantity]:
    """The cost fields and the reach present in ``fields``, each a number or range ≥ 0
    (``where`` prefixes the field names in errors: ``centers.SH-JQ.``)."""
    got: dict[str, Quantity] = {}
    for f in (*COST_FIELDS, "reach"):
        if f in fields:
            got[f] = _quantity(fields[f], f"{where}{f}", err)
            if got[f].low < 0:
                raise err(f"must not be negative, got low = {got[f].low:g}", f"{where}{f}")
    return got


def _case_links(raw: Mapping[str, Any], err: FieldError) -> tuple[str | None, tuple[str, ...], str | None]:
    """The case's mutually exclusive ``group``, the cases it ``combines`` and its ``attribution`` note."""
    group = raw.get("group")
    if group is not None and (not isinstance(group, str) or not group.strip()):
        raise err(f"must be a text naming a mutually exclusive group, got {group!r}", "group")
    combines = raw.get("combines") or []
    if not isinstance(combines, list) or not all(isinstance(c, str) for c in combines):
        raise err(f"must be a list of case ids, got {combines!r}", "combines")
    if combines and len(combines) < 2:
        raise err("a combination names at least two cases", "combines")
    attribution = raw.get("attribution")
    if attribution is not None and not isinstance(attribution, str):
        raise err("must be a text", "attribution")
    return (group.strip() if group else None), tuple(combines), (attribution.strip() if attribution else None)


def _seed_claim(claim: Any, err: FieldError) -> dict[str, Any] | None:
    """The seed study's point claim of a case (optional): known fields, numbers where numbers
    belong, and a claimed ROI with its gain, cost and formula."""
    if claim is None:
        return None
    if not isinstance(claim, Mapping):
        raise err("must be a mapping", "seed_claim")
    bad = sorted(map(str, set(claim) - _CLAIM_FIELDS))
    if bad:
        raise err(f"unknown field (allowed: {', '.join(sorted(_CLAIM_FIELDS))})", f"seed_claim.{bad[0]}")
    if "roi" in claim and not is_number(claim["roi"]):
        raise err(f"must be a number, got {claim['roi']!r}", "seed_claim.roi")
    for k in ("gain", "cost"):
        if k in claim and not (is_number(claim[k]) or claim[k] in ("first_year_revenue", "first_year_cost")):
            raise err(
                f"must be a number, 'first_year_revenue' or 'first_year_cost', got {claim[k]!r}", f"seed_claim.{k}"
            )
        if k in claim and is_number(claim[k]) and claim[k] < 0:
            raise err("must not be negative", f"seed_claim.{k}")
    if "roi" in claim:
        for k in ("gain", "cost", "formula"):
            if k not in claim:
                raise err("missing: a claimed ROI needs gain, cost and formula", f"seed_claim.{k}")
        if claim["formula"] not in _FORMULAS:
            raise err(f"must be one of {', '.join(_FORMULAS)}, got {claim['formula']!r}", "seed_claim.formula")
    if "values" in claim and not (
        isinstance(claim["values"], Mapping) and all(is_number(v) for v in claim["values"].values())
    ):
        raise err("must be a mapping of names to numbers", "seed_claim.values")
    return dict(claim)


def _parse_centers(raw: Any, err: FieldError) -> dict[str, dict[str, Any]]:
    """The optional ``centers:`` block of a case: per center id, figures that replace the case's own."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not raw:
        raise err("must be a mapping of center id to the figures of that center", "centers")
    out: dict[str, dict[str, Any]] = {}
    for cid, fields in raw.items():
        where = f"centers.{cid}"
        if not isinstance(cid, str) or not cid.strip():
            raise err(f"a center id must be a non-empty text, got {cid!r}", "centers")
        if not isinstance(fields, Mapping) or not fields:
            raise err(f"must be a mapping of fields (allowed: {', '.join(sorted(_CENTER_FIELDS))})", where)
        bad = sorted(map(str, set(fields) - _CENTER_FIELDS))
        if bad:
            raise err(f"unknown field (allowed: {', '.join(sorted(_CENTER_FIELDS))})", f"{where}.{bad[0]}")
        got: dict[str, Any] = dict(_costs_and_reach(fields, f"{where}.", err))
        if "effects" in fields:
            got["effects"] = _effects(fields["effects"], f"{where}.effects", err)
        if "provenance" in fields:
            if not isinstance(fields["provenance"], str) or not fields["provenance"].strip():
                raise err(f"must be a non-empty text, got {fields['provenance']!r}", f"{where}.provenance")
            got["provenance"] = fields["provenance"].strip()
        out[cid.strip()] = got
    return out


def for_center(cases: Sequence[Case], center: str) -> list[Case]:
    """The cases as they apply to one center: a case whose ``centers:`` block names ``center``
    takes that center's figures (costs, reach, the effects it lists; other effects stay the
    case's own) and says so in its ``center`` and provenance; every other case, and every case
    for the network (``"all"``), is the file's own.

        >>> c = Case("x", "例", "Ex", reach=Quantity.fixed(3000), centers={"SH-JQ": {"reach": Quantity.fixed(800)}})
        >>> [k.reach.mode for k in for_center([c], "SH-JQ")], for_center([c], "SH-JQ")[0].center
        ([800.0], 'SH-JQ')
        >>> for_center([c], "all")[0].reach.mode
        3000.0
    """
    out = []
    for c in cases:
        figures = c.centers.get(center) if center != "all" else None
        if not figures:
            out.append(c)
            continue
        changes: dict[str, Any] = {k: v for k, v in figures.items() if k in (*COST_FIELDS, "reach")}
        if "effects" in figures:
            changes["effects"] = {**c.effects, **figures["effects"]}
        named = ", ".join(sorted(k for k in figures if k != "provenance"))
        note = f" Figures for center {center} ({named}) from the cases file"
        note += f": {figures['provenance']}" if figures.get("provenance") else "."
        out.append(dataclasses.replace(c, center=center, provenance=c.provenance + note, **changes))
    return out


def parse_cases(data: Any, *, path: str = "<cases>") -> list[Case]:
    """Validate already-parsed YAML data (``{"cases": [...]}``) into cases; see :func:`load_cases`.

    >>> parse_cases({"cases": [{"id": "x", "name_zh": "例", "name_en": "Ex", "one_off_cost": 0,
    ...   "yearly_cost": 0, "cost_per_customer": 0, "reach": 10, "effects": {}, "provenance": "test"}]})[0].id
    'x'
    """
    if not isinstance(data, Mapping) or "cases" not in data:
        raise DataError("the file must be a mapping with a top-level 'cases:' list", file=path, column="cases")
    extra = sorted(map(str, set(data) - {"cases", "version", "currency"}))
    if extra:
        raise DataError(
            f"unknown top-level field {extra[0]!r} (allowed: version, currency, cases)", file=path, column=extra[0]
        )
    raw_cases = data["cases"]
    if not isinstance(raw_cases, list) or not raw_cases:
        raise DataError("'cases' must be a non-empty list", file=path, column="cases")
    cases: list[Case] = []
    ids: set[str] = set()
    for i, raw in enumerate(raw_cases):
        c = _parse_case(raw, i, path, ids)
        ids.add(c.id)
        cases.append(c)
    for c in cases:
        for other in c.combines:
            if other == c.id:
                raise DataError(
                    f"case {c.id!r}: field combines: a case cannot combine itself", file=path, column="combines"
                )
            if other not in ids:
                raise DataError(
                    f"case {c.id!r}: field combines: {other!r} is not another case of the file",
                    file=path,
                    column="combines",
                )
    return cases


CASES_FILE = paths.CASES_FILE


def cases_path(cases_file: str | os.PathLike[str] | None, raw_dir: str | os.PathLike[str] | None) -> Path | None:
    """The cases file of a run: ``cases_file`` when given, else ``cases_interventions.yaml`` of
    the raw folder (the raw folder is the unit: never the shipped sample's file). None when
    neither is given. Whether the file exists is :func:`cxlib.results.missing_file`'s question.

        >>> cases_path(None, "data/raw").as_posix(), cases_path("my/cases.yaml", "data/raw").as_posix()
        ('data/raw/cases_interventions.yaml', 'my/cases.yaml')
    """
    if cases_file not in (None, ""):
        return Path(cases_file)
    return None if raw_dir in (None, "") else Path(raw_dir) / CASES_FILE


def load_cases(path: str | os.PathLike[str], center: str | None = None) -> list[Case]:
    """Read and validate the intervention cases file (schema: ``docs/roi-cases.md``); with
    ``center``, the cases as they apply to that center (:func:`for_center`).

    A bad file raises :class:`DataError` naming the file, the case and the field.

        >>> from cxlib import paths
        >>> [c.id for c in load_cases(paths.SAMPLE_CASES)][:3]
        ['realtime_push', 'workshop_screen', 'advisor_checkins']
    """
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("cases file not found", file=str(p)) from None
    except UnicodeDecodeError as e:
        raise DataError(f"not UTF-8 text ({e.reason})", file=str(p)) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader.make())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(e, "problem", None) or str(e)
        where = f"YAML syntax error at line {line}" if line else "YAML syntax error"
        raise DataError(f"{where}: {problem}", file=str(p)) from None
    cases = parse_cases(data, path=str(p))
    return cases if center is None else for_center(cases, center)


def case_by_id(cases: Sequence[Case], case_id: str) -> Case:
    for c in cases:
        if c.id == case_id:
            return c
    raise KeyError(f"no case {case_id!r}; known: {', '.join(c.id for c in cases)}")


def get_case(cases: Sequence[Case], case_id: str) -> Case:
    """The case with id ``case_id`` (KeyError naming the known ids otherwise).

    >>> get_case([Case("x", "例", "Ex")], "x").name_en
    'Ex'
    """
    return case_by_id(cases, case_id)
