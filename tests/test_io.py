"""Result files: written atomically, as JSON that strict parsers read (no bare NaN or Infinity)."""

import json
import math

import numpy as np
import pytest

from nam._io import null_to_nan, write_json


def _strict(text):
    """json.loads as a strict (RFC 8259) parser: NaN, Infinity and -Infinity are errors."""

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_strict_parser_refuses_what_json_dumps_writes_by_default():
    with pytest.raises(ValueError, match="NaN"):
        _strict(json.dumps({"spike_rate": math.nan}))


def test_write_json_writes_non_finite_numbers_as_null(tmp_path):
    path = tmp_path / "results.json"
    obj = {
        "spike_rate": math.nan,
        "curve": [1.0, math.inf, -math.inf],
        "nested": {"x": (np.float64("nan"), 2)},
        "ok": 0.5,
        "name": "lstm",
        "flag": True,
        "none": None,
    }
    write_json(str(path), obj)
    assert _strict(path.read_text()) == {
        "spike_rate": None,
        "curve": [1.0, None, None],
        "nested": {"x": [None, 2]},
        "ok": 0.5,
        "name": "lstm",
        "flag": True,
        "none": None,
    }
    assert not list(tmp_path.glob("*.tmp*"))  # written through a temporary file, then renamed


def test_null_to_nan_reads_numbers_back():
    back = null_to_nan(_strict('{"mean": [[0.5, null]], "input_mean": [null], "completed": 3}'))
    assert back["mean"][0][0] == 0.5 and math.isnan(back["mean"][0][1]) and math.isnan(back["input_mean"][0])
    assert back["completed"] == 3
