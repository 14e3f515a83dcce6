"""Errors of the one exception tree survive pickling (``hengqi.errors.HengqiError.__reduce__``): an error raised
in a rendering process (:mod:`hengqi.server.rendering`) reaches the request whole.  Before, ``InputError`` could
be pickled but not unpickled (its ``__init__`` takes two arguments), which broke the rendering pool."""

from __future__ import annotations

import pickle

import pytest

from hengqi.errors import FieldError, HengqiError, InputError, SpecificationError, UnitError
from hengqi.server.errors import NotFoundError

ERRORS: list[HengqiError] = [
    HengqiError("plain", details={"a": 1}),
    InputError("file", "worksheet unreadable at row 3 (KeyError)", details={"row": 3}),
    InputError("", "no path"),
    UnitError("load", "unknown unit 'lb'", template="unknown unit {unit}", params={"unit": "lb"}),
    SpecificationError("e", "e must be at least 1 mg", rule="OIML R 76-1:2006, 3.4.2"),
    FieldError("max", template="not a number"),
    InputError("load", "must not be negative").at("tests[2]"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_an_error_round_trips_through_pickle(error: HengqiError) -> None:
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert again.args == error.args
    assert again.__dict__ == error.__dict__
    assert again.code == error.code


def test_a_server_error_round_trips_through_pickle() -> None:
    error = NotFoundError("instrument", 7)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is NotFoundError
    assert str(again) == "instrument 7 not found"
    assert again.details == {"entity": "instrument", "id": "7"}
