"""Reader-given weights ("infrastructure=2", `{"INFRA": 2}`): checked by one rule for the
command line, the web API and the Python API.

A weight names a code, an alias or a name of the framework; it is 0 or a finite number from
0.000001 to 1,000,000 (weights are relative: the bounds keep the arithmetic exact, where a weight
of 5e-324 would round the scores it weighs); and, applied over the
framework's own weights, it must leave every group at least one child with a weight above 0.
Every problem is reported at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from aicity.data import parse_number
from aicity.errors import InputError, Problem
from aicity.framework import Framework, all_zero_reason, find_code, weight_problem


def check_weights(framework: Framework, weights: Mapping[str, object], source: str = "weights") -> dict[str, float]:
    """{code: weight} from keys that may be codes, aliases or names; see the module's rule."""
    out: dict[str, float] = {}
    problems: list[Problem] = []
    for key, value in weights.items():
        try:
            code = find_code(framework, str(key))
        except InputError:
            problems.append(Problem(source, f"no code, alias or name '{key}' in the framework"))
            continue
        if isinstance(value, str):  # from a command line: the documented number forms only
            parsed = math.nan if value.strip().casefold() == "nan" else parse_number(value.strip())
        else:
            try:
                parsed = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                parsed = None
        if parsed is None:
            problems.append(Problem(source, f"weight '{value}' of '{key}' is not a number"))
            continue
        weight = parsed
        why = weight_problem(value if isinstance(value, bool) else weight)
        if why:
            problems.append(Problem(source, f"weight of '{key}' is {why}"))
            continue
        if code in out and out[code] != weight:
            problems.append(Problem(source, f"'{key}' names '{code}', which already has weight {out[code]:g}"))
            continue
        out[code] = weight
    if not problems and out:
        # the framework's own rule: no group left without weight
        problems += [Problem(source, all_zero_reason(p)) for p in sorted(framework.groups_without_weight(out))]
    if problems:
        raise InputError(problems)
    return out


def parse_weights(framework: Framework, text: str, source: str = "--weights") -> dict[str, float]:
    """'infrastructure=2,industry=1' -> {"INFRA": 2.0, "INDUSTRY": 1.0}, checked."""
    pairs: dict[str, str] = {}
    problems: list[Problem] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "=" not in part:
            problems.append(Problem(source, f"'{part}' is not CODE=WEIGHT"))
            continue
        key, value = (s.strip() for s in part.split("=", 1))
        if key in pairs:
            problems.append(Problem(source, f"'{key}' is given twice ({key}={pairs[key]}, {key}={value})"))
            continue
        pairs[key] = value
    if problems:
        raise InputError(problems)
    if not pairs:
        raise InputError([Problem(source, "no weights given (CODE=WEIGHT, comma-separated)")])
    return check_weights(framework, pairs, source)
