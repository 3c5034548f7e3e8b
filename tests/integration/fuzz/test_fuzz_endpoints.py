"""The short form of the fuzzer: a few hundred cases per property, derandomized so CI is stable.

The long form (100,000 cases) is `python -m orchestrator_dev.bench.fuzz`. Cases go to the endpoints
below WebApp's catch-all, so a bug raises here instead of hiding behind a 500.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator_dev.bench import fuzz_mutations as mutations
from orchestrator_dev.bench.fuzz import run_fuzz
from orchestrator_dev.bench.fuzz_targets import INTERACTIONS, Case, FuzzTargets
from tests.integration.fuzz.conftest import vendored_deliveries

SHORT = settings(max_examples=300, deadline=None, derandomize=True, database=None)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8")),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
HEADER_NAMES = st.sampled_from(
    ["x-signature-ed25519", "x-signature-timestamp", "x-hub-signature-256", "x-github-event", "x-github-delivery"]
)


def answer(targets: FuzzTargets, case: Case) -> int:
    status = targets.run(case)
    assert status < 500, case
    return status


@SHORT
@given(st.integers(min_value=0, max_value=2**64))
def test_mutated_signed_payloads_get_an_answer_below_500(targets: FuzzTargets, seed: int) -> None:
    answer(targets, targets.make_case(random.Random(seed)))


@SHORT
@given(st.data())
def test_any_json_value_in_any_field_of_a_real_payload(targets: FuzzTargets, data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(targets.seeds))
    path = data.draw(st.sampled_from(mutations.paths(seed.payload)))
    payload = mutations.replaced(seed.payload, path, data.draw(JSON_VALUES))
    body = mutations.encode(payload)
    answer(targets, Case(seed.route, targets.signed_headers(seed, body), body))


@SHORT
@given(st.data())
def test_any_header_values_on_a_real_payload(targets: FuzzTargets, data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(targets.seeds))
    body = mutations.encode(seed.payload)
    headers: dict[str, Any] = targets.signed_headers(seed, body)
    headers.update(data.draw(st.dictionaries(HEADER_NAMES, st.text(st.characters(exclude_categories=())), max_size=3)))
    answer(targets, Case(seed.route, headers, body))


@SHORT
@given(st.binary(max_size=2048), st.booleans())
def test_arbitrary_signed_bytes(targets: FuzzTargets, body: bytes, to_interactions: bool) -> None:
    seed = next(s for s in targets.seeds if (s.route == INTERACTIONS) == to_interactions)
    assert answer(targets, Case(seed.route, targets.signed_headers(seed, body), body)) >= 200


def test_the_long_form_in_short_is_clean() -> None:
    report = run_fuzz(1500, seed=7, webhook_payloads=vendored_deliveries())
    assert report.cases == 1500
    assert report.clean, "\n".join(report.lines())
    assert report.by_status_class.get("2xx", 0) > 0 and report.by_status_class.get("4xx", 0) > 0
