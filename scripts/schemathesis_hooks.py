"""Teaches schemathesis (scripts/schemathesis.sh) the one body format a JSON schema cannot
describe: `format: csv`, the CSV tables that /api/v1/datasets and /predict take. Without it every
generated string would be sent as a "CSV file", and most strings are not tables."""
from hypothesis import strategies as st

import schemathesis

_names = st.lists(st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,7}\Z"), min_size=1, max_size=5, unique_by=str.lower)
_cells = st.one_of(
    st.integers(min_value=-10**6, max_value=10**6).map(str),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(repr),
    st.from_regex(r"\A[A-Za-z][A-Za-z ]{0,9}\Z").map(str.strip).filter(bool),
    st.just(""),
)


@st.composite
def _tables(draw):
    names = draw(_names)
    rows = draw(st.lists(st.lists(_cells, min_size=len(names), max_size=len(names)), min_size=1, max_size=8))
    return "\n".join([",".join(names)] + [",".join(row) for row in rows]) + "\n"


schemathesis.openapi.format("csv", _tables())
