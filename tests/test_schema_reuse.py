"""One instance of each input schema serves every load (marshmallow deep-copies a schema's
fields each time one is made): loads through it keep nothing from one to the next."""

from __future__ import annotations

import threading

import pytest
from marshmallow import Schema, fields

from claimdesk.core.errors import InputError
from claimdesk.core.services.payments import CreditInput
from claimdesk.core.validation import Money, load, schema_instance


class _Line(Schema):
    code = fields.String(required=True)
    amount = Money(required=True)


class _Form(Schema):
    amount = Money(required=True)
    lines = fields.List(fields.Nested(_Line), load_default=list)


def test_a_schema_class_is_made_once_and_its_loads_keep_nothing_of_each_other():
    assert schema_instance(_Form) is schema_instance(_Form)
    first = load(_Form, {"amount": "12.50", "lines": [{"code": "99213", "amount": "12.50"}]})
    second = load(_Form, {"amount": "3.00"})
    assert first == {"amount": 1250, "lines": [{"code": "99213", "amount": 1250}]}
    assert second == {"amount": 300, "lines": []}
    with pytest.raises(InputError) as refused:
        load(_Form, {"amount": "1.00", "lines": [{"code": "99213"}]})
    assert refused.value.messages == {"lines": {0: {"amount": ["Missing data for required field."]}}}
    assert load(_Form, {"amount": "1.00"}) == {"amount": 100, "lines": []}  # (the refusal left nothing behind)


def test_a_schema_instance_given_is_used_as_it_is_and_a_class_with_its_own_init_is_made_each_time():
    given = _Form(partial=True)
    assert schema_instance(given) is given and load(given, {}) == {}  # (partial: no field required, none filled in)

    made = []

    class Live(Schema):
        amount = Money(required=True)

        def __init__(self, *args, **kwargs):
            made.append(1)
            super().__init__(*args, **kwargs)

    load(Live, {"amount": "1.00"})
    load(Live, {"amount": "2.00"})
    assert len(made) == 2 and schema_instance(Live) is not schema_instance(Live)


def test_one_instance_loads_from_many_threads_each_its_own_input():
    results: dict[int, object] = {}

    def work(i: int) -> None:
        try:
            results[i] = [load(CreditInput, {"patient_id": i, "voucher_id": 7, "amount": f"{i}.00"})["amount"] for _ in range(200)]
        except InputError as exc:
            results[i] = exc.messages

    threads = [threading.Thread(target=work, args=(i,)) for i in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: [i * 100] * 200 for i in range(1, 9)}
