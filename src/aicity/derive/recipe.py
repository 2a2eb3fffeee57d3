"""A derive recipe: which records, which filters, how a record is placed, what is counted.

Declared once as pydantic models with unknown keys forbidden, so a typo is an error that names
the file, the key's path and the nearest known key, never a silently ignored setting.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from aicity.errors import InputError, Problem
from aicity.keys import line_of, nearest
from aicity.yamlfile import read_yaml

# The fields a quote template may use (docs/derive.md says what each holds).
TEMPLATE_FIELDS = ("value", "count", "records", "records_total", "counted", "unit_name", "metro", "year",
                   "years", "years_all", "unit_of_measure", "indicator", "population", "population_year", "missing")
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")  # \Z: "abc\n" is not a code ($ allowed it)


class _Strict(BaseModel):
    """Every key known; free notes go under `meta:` on any mapping."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    meta: dict[str, Any] | None = None


class Source(_Strict):
    """Where the record files come from: cited in every derived value's `url` and `source`."""

    publisher: str
    title: str
    repository: str | None = None  # owner/name on GitHub
    commit: str | None = None
    path: str | None = None  # the file's path in the repository
    url: str | None = None  # used as it is when there is no repository
    licence: str | None = None
    year: StrictInt | None = Field(default=None, ge=1800, le=2100)  # the records' edition, if they have one (true is not 1)

    @model_validator(mode="after")
    def _one_address(self) -> Source:
        if not self.url and not (self.repository and self.commit and self.path):
            raise ValueError("give 'url', or 'repository', 'commit' and 'path'")
        return self

    def address(self) -> str:
        """The file's address at the commit; for a pattern of many files ("<venue>/<venue><year>.json",
        "data/*.csv") the repository's tree at the commit (the pattern is in `source`)."""
        if self.repository and self.commit and self.path:
            if any(ch in self.path for ch in "<>*?"):
                return f"https://github.com/{self.repository}/tree/{self.commit}"
            return f"https://github.com/{self.repository}/blob/{self.commit}/{self.path}"
        return str(self.url)


class Records(_Strict):
    """Record files read as they are: CSV, JSON (an array of objects) or Parquet."""

    files: list[str] = Field(min_length=1)  # paths or globs, relative to --records (or the recipe)
    format: Literal["csv", "json", "parquet"] | None = None  # default: from each file's extension
    # CSV only: the reader's options, for files such as a script's data block
    delimiter: str | None = Field(default=None, min_length=1)  # "" was ignored unsaid
    header: bool = True
    skip: int = Field(default=0, ge=0)  # lines before the header (or the first record)
    comment: str | None = None  # lines starting with it are skipped
    columns: list[str] | None = None  # names for a file without a header
    # fields added to every record of this group, the same value for each: which list a record
    # came from when several are read together ({provider: AWS})
    constants: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _csv_only(self) -> Records:
        bad = [k for k in self.constants if not _CODE.match(k)]
        if bad:
            raise ValueError(f"constants: {', '.join(repr(b) for b in bad)} is not a field name (a letter, then letters, digits or _)")
        csv_only = [k for k in ("delimiter", "comment", "columns") if getattr(self, k) is not None]
        if (self.skip or not self.header):
            csv_only.append("skip/header")
        if csv_only and self.format not in (None, "csv"):
            raise ValueError(f"{', '.join(csv_only)} apply to CSV records only")
        if not self.header and not self.columns:
            raise ValueError("header: false needs 'columns' (a name for each column)")
        return self

    @field_validator("files", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class Filter(_Strict):
    """Exactly one test on one field: equals, in, in_file, range ([lo, hi], inclusive), non_empty
    or contains (a case-insensitive substring); `not: true` keeps the records that fail it.
    Values compare as text, so `equals: true` matches a boolean field's true. `in_file` names a
    CSV (`value, reason, source, note`: each value with why it is listed and who says so), found
    as crosswalks are; the engine reads it into `in` (engine.load_filter_files) and compares the
    values as text, without surrounding spaces, tabs or line breaks."""

    field: str  # a dotted name reaches into nested records: owner.type
    equals: str | int | float | bool | None = None
    in_: list[str | int | float] | None = Field(default=None, alias="in")
    range: tuple[float | None, float | None] | None = None
    non_empty: bool | None = None
    contains: str | None = None
    in_file: str | None = None
    not_: bool = Field(default=False, alias="not")
    leading_number: bool = False  # range only: compare the text's first number ("=21" -> 21, "501-510" -> 501)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _exactly_one(self) -> Filter:
        given = [k for k in ("equals", "in_", "in_file", "range", "non_empty", "contains") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a filter takes exactly one of equals, in, in_file, range, non_empty, contains")
        if self.in_file is not None and not self.in_file.strip():
            raise ValueError("'in_file' is empty")
        if self.in_ is not None and not self.in_:
            raise ValueError("'in' needs at least one value")
        if self.range is not None:
            lo, hi = self.range
            if lo is None and hi is None:
                raise ValueError("'range' needs a lower or an upper bound")
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"'range' lower bound {lo} is above the upper bound {hi}")
        if self.leading_number and self.range is None:
            raise ValueError("'leading_number' goes with 'range'")
        if self.non_empty is False:
            raise ValueError("'non_empty' can only be true")
        return self


class RecordsCrosswalk(_Strict):
    """A crosswalk built at run time from a record file (e.g. a university list with cities),
    so a table whose licence forbids redistribution is read, never bundled."""

    name: str
    records: Records
    key: str  # the field matched (a list field, e.g. JSON `domains`, gives one row per item)
    match: Literal["exact", "contains", "domain"] = "contains"
    kind: str = "institution"
    place: str | None = None  # field: the city, looked up in the gazetteer with the country
    country: str | None = None  # field: the country (name or ISO code)
    alias: str | None = None  # field: a name placed through the other crosswalks
    brackets: Literal["keep", "alias"] = "keep"  # "alias": "Name (ABBR)" -> keys "Name" and "ABBR"
    source: Source

    @model_validator(mode="after")
    def _target(self) -> RecordsCrosswalk:
        if not self.place and not self.alias:
            raise ValueError("a records crosswalk needs 'place' or 'alias'")
        return self


CrosswalkRef = str | RecordsCrosswalk


class Place(_Strict):
    """How a record is placed: texts through crosswalks, or coordinates through metro circles.
    With coordinates, `crosswalks` correct points: a record whose `label` is a crosswalk row's
    key (an exact row with lat and lon) is placed at that row's point instead of its own
    (a list whose coordinates lie away from the city it names, each row citing why)."""

    field: str | None = None  # the text: an affiliation, a city name, an institution
    split: str | None = None  # several places per record (a paper's authors): 1/n each
    subsplit: str | None = None  # several places per entry (an author's affiliations): 1/(n k)
    domain_field: str | None = None  # e-mail domains, aligned with `field`, tried when it fails
    empty_field: str | None = None  # used when `field` is empty (a city-state's blank City: its Country)
    country_field: str | None = None
    crosswalks: list[CrosswalkRef] = Field(default_factory=list)
    domain_crosswalks: list[CrosswalkRef] = Field(default_factory=list)
    lat: str | None = None
    lon: str | None = None
    label: str | None = None  # field shown in unplaced.csv for coordinate records (e.g. a name)

    @model_validator(mode="after")
    def _how(self) -> Place:
        by_text = self.field is not None
        by_point = self.lat is not None or self.lon is not None
        if by_text == by_point:
            raise ValueError("place records by 'field' (through crosswalks) or by 'lat' and 'lon', one of the two")
        if by_point and (self.lat is None or self.lon is None):
            raise ValueError("'lat' and 'lon' go together")
        if by_text and not self.crosswalks:
            raise ValueError("'field' needs at least one crosswalk in 'crosswalks'")
        if self.domain_field and not self.domain_crosswalks:
            raise ValueError("'domain_field' needs 'domain_crosswalks'")
        if self.domain_crosswalks and not self.domain_field:
            raise ValueError("'domain_crosswalks' needs 'domain_field'")
        if self.empty_field and (self.split or not by_text):
            raise ValueError("'empty_field' goes with a single text 'field' (no split)")
        if self.subsplit and not self.split:
            raise ValueError("'subsplit' needs 'split'")
        if by_point and (self.split or self.domain_field):
            raise ValueError("coordinates place a record at one point: no split or domain_field")
        if by_point and self.crosswalks and not self.label:
            raise ValueError("with coordinates, 'crosswalks' correct points by the record's 'label': give 'label'")
        return self


class PerCapita(_Strict):
    column: str = "population"  # a column of the metro table
    per: float = Field(default=1_000_000, gt=0, allow_inf_nan=False)


class Indicator(_Strict):
    code: str
    unit_of_measure: str
    count: Literal["rows", "distinct", "fractional", "sum", "mean"]
    field: str | None = None  # the field for distinct, sum and mean
    per_year: str | None = None  # field holding each record's year: one value per unit and year
    year: StrictInt | None = Field(default=None, ge=1800, le=2100)  # the year of a single value (true is not 1)
    per_capita: PerCapita | None = None
    # which placed items count (fractional counts only): `kind`, those whose place text (else
    # e-mail domain) first matches a crosswalk row of this kind, rows of kind `place` aside;
    # `hq: false` leaves out those placed at a company's headquarters (flag hq)
    kind: str | None = None
    hq: bool = True
    # count: distinct only: a CSV (`value, same_as, source, note`) of values that name the same
    # thing as another value (one government under two names): each counts as its `same_as`
    same_as: str | None = None
    names: dict[str, str] = Field(default_factory=dict)
    quote: str | None = None  # a template; see docs/derive.md for the fields it may use
    note: str | None = None

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not _CODE.match(v):
            raise ValueError(f"'{v}' is not a code (a letter, then letters, digits or _)")
        return v

    @field_validator("quote")
    @classmethod
    def _quote(cls, v: str | None) -> str | None:
        """A template of the known fields only, written {field}: no attribute, index, format
        spec or conversion ({count.__class__}, {count[0]}, {count:>10}, {count!r})."""
        if v is None:
            return v
        import string

        try:
            parts = list(string.Formatter().parse(v))
        except ValueError as exc:
            raise ValueError(f"quote is not a template ({exc}); write {{field}}, and {{{{ }}}} for a brace") from None
        for _, name, spec, conversion in parts:
            if name is None:
                continue
            if name not in TEMPLATE_FIELDS or spec or conversion:
                raise ValueError(f"quote: '{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}' is not "
                                 f"one of the fields {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}")
        return v

    @field_validator("names")
    @classmethod
    def _names(cls, v: dict[str, str]) -> dict[str, str]:
        from aicity.framework import TEXT_LANGS

        unknown = [lang for lang in v if lang not in TEXT_LANGS]
        if unknown:
            raise ValueError(f"unknown language(s) {unknown} (known: {', '.join(TEXT_LANGS)})")
        if v and "en" not in v:
            raise ValueError("names need 'en' (the other languages are optional)")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        if self.count in ("distinct", "sum", "mean") and not self.field:
            raise ValueError(f"count '{self.count}' needs 'field'")
        if self.count in ("rows", "fractional") and self.field:
            raise ValueError(f"count '{self.count}' takes no 'field'")
        if (self.kind is not None or not self.hq) and self.count != "fractional":
            raise ValueError("'kind' and 'hq: false' select placed items by how they were placed; they go with count: fractional")
        if self.kind is not None and not self.kind.strip():
            raise ValueError("'kind' is empty")
        if self.same_as is not None and self.count != "distinct":
            raise ValueError("'same_as' merges values counted distinct; it goes with count: distinct")
        if self.same_as is not None and not self.same_as.strip():
            raise ValueError("'same_as' is empty")
        if self.count == "mean" and self.per_capita is not None:
            raise ValueError("count 'mean' is an average per record already: it takes no per_capita")
        if (self.per_year is None) == (self.year is None):
            raise ValueError("give 'year' (one value) or 'per_year' (the field holding each record's year), one of the two")
        return self


class Recipe(_Strict):
    description: str | None = None
    records: list[Records] = Field(min_length=1)  # one group, or several read together by name
    source: Source
    filters: list[Filter] = Field(default_factory=list)
    place: Place
    counted: str = "records"  # what a record is, for quotes: "papers", "companies"
    metros: str | None = None  # a metro table (CSV); default: the bundled one
    indicators: list[Indicator] = Field(min_length=1)

    @field_validator("records", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _unique_codes(self) -> Recipe:
        years = {i.per_year for i in self.indicators if i.per_year}
        if len(years) > 1:
            raise ValueError(f"indicators of one recipe take their year from one field, not {sorted(years)}")
        sums = {i.field for i in self.indicators if i.count in ("sum", "mean")}
        dist = {i.field for i in self.indicators if i.count == "distinct"}
        if len(sums) > 1 or len(dist) > 1:
            raise ValueError("indicators of one recipe sum (or average) one field and count one distinct field at most")
        if self.place.split and any(i.count == "mean" for i in self.indicators):
            raise ValueError("count 'mean' averages whole records; a recipe that splits a record among places "
                             "(place.split) would average shares of them: use sum or fractional there")
        if self.place.field is None and any(i.kind for i in self.indicators):
            raise ValueError("'kind' needs records placed by text (place.field): coordinates have no kind")
        seen: set[str] = set()
        for ind in self.indicators:
            if ind.code in seen:
                raise ValueError(f"indicator code '{ind.code}' appears twice")
            seen.add(ind.code)
        names = [c.name for c in self.place.crosswalks + self.place.domain_crosswalks if isinstance(c, RecordsCrosswalk)]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"records crosswalk name(s) {sorted(dup)} appear more than once")
        return self


# ---------------------------------------------------------------------------------------------

def _known_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that holds the key at `loc` (for 'did you mean')."""
    model: Any = Recipe
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            field = next((f for f in model.model_fields.values() if f.alias == part), None)
        if field is None:
            return None
        ann = field.annotation
        model = _first_model(ann)
    return model


def _first_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part not in ("RecordsCrosswalk", "str", "function-after[_one_or_many(), list[str]]"):
            out += ("." if out else "") + part
    return out or "(top level)"


def _problems(exc: ValidationError, shown: str, text: str) -> list[Problem]:
    out: list[Problem] = []
    for e in exc.errors():
        loc = tuple(p for p in e["loc"] if p not in ("RecordsCrosswalk", "str"))
        line = line_of(text, loc)
        where = _where(loc)
        if e["type"] == "extra_forbidden":
            key = str(loc[-1])
            model = _model_at(loc)
            known = _known_keys(model) if model else []
            near = nearest(key, known)
            hint = f"; did you mean '{near}'?" if near else (f" (known: {', '.join(known)})" if known else "")
            reason = f"unknown key '{key}' at {where}{hint}"
        elif e["type"] == "missing":
            reason = f"missing key '{loc[-1]}' at {_where(loc[:-1])}"
        else:
            reason = f"{where}: {e['msg'].removeprefix('Value error, ')}"
        out.append(Problem(shown, reason + (f" (line {line})" if line else "")))
    # one problem per place: pydantic reports each union branch of a crosswalk entry
    seen: set[str] = set()
    unique = []
    for p in out:
        if str(p) not in seen:
            seen.add(str(p))
            unique.append(p)
    return unique


def parse_recipe(raw: Any, shown: str, text: str = "") -> Recipe:
    if not isinstance(raw, dict):
        raise InputError([Problem(shown, "a recipe is a mapping (records, source, place, indicators, ...)")])
    try:
        return Recipe.model_validate(raw)
    except ValidationError as exc:
        raise InputError(_problems(exc, shown, text)) from None


def load_recipe(path: str | Path) -> Recipe:
    """Read a recipe YAML; every problem at once, with the line it is on."""
    raw, text = read_yaml(path, "recipe file")
    return parse_recipe(raw, str(path), text)

