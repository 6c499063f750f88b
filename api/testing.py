"""pytest fixtures for plugin authors, and the one clinic builder claimdesk's own tests use too.

Loaded automatically by pytest (the ``pytest11`` entry point ``claimdesk``)::

    def test_my_action(claimdesk_db, claimdesk_host):
        claimdesk_host.register(my_plugin_module, "my_plugin")
        enc, charges = claimdesk_db.encounter(fees=["120.00"])
        assert "my_action" in claimdesk_db.offers(enc)
        result = claimdesk_db.apply(enc, "my_action", {...})
        assert claimdesk_db.encounter_balance(enc) == 100_00

``claimdesk_db`` is a fresh, upgraded SQLite database in a temp dir, the current user
"plugin-tester" (a supervisor), with a :class:`ClinicBuilder` attached; ``claimdesk_host``
is the plugin host with every installed plugin loaded (yours too, once your package is
installed); a plugin you register is gone after the test.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any, Callable

import pytest

from claimdesk.core import db, migrations, users, workflow
from claimdesk.core.context import as_user
from claimdesk.core.models import Charge, Encounter, Patient, Payer, Provider, ServiceCode
from claimdesk.core.money import Cents, cents
from claimdesk.core.plugins.host import PluginHost, reset_host
from claimdesk.core.services import actions, balances, billing, common, eobs, payments

DOS = dt.date(2026, 3, 2)


class ClinicBuilder:
    """Makes patients, payers, providers, codes, encounters and vouchers through the core
    services (the ledger is real; set-up that posts money is one audited workflow)."""

    def __init__(self, prefix: str = "PT"):
        self.prefix = prefix
        self._seq = itertools.count(1)

    # -- reference data -------------------------------------------------------------------
    def patient(self, last: str = "Doe", first: str = "Jan", *, dob: dt.date | None = dt.date(1970, 1, 1)) -> Patient:
        """A patient with a unique account number."""
        with db.write_transaction():
            return Patient.create(account_no=f"{self.prefix}{next(self._seq):05d}", last_name=last,
                                  first_name=first, dob=dob)

    def payer(self, name: str, kind: str = "commercial") -> Payer:
        """An insurance payer (made once per name)."""
        with db.write_transaction():
            return Payer.get_or_create(name=name, defaults={"kind": kind})[0]

    def provider(self, name: str = "Dr. Rivera", kind: str = "clinical") -> Provider:
        """A provider (made once per name)."""
        with db.write_transaction():
            return Provider.get_or_create(name=name, defaults={"kind": kind})[0]

    def code(self, code: str = "99213", fee: int = 110_00) -> ServiceCode:
        """A service code with its default fee in cents (made once per code)."""
        with db.write_transaction():
            return ServiceCode.get_or_create(code=code, defaults={"default_fee": fee, "description": code})[0]

    # -- money -------------------------------------------------------------------------------
    def audited(self, fn: Callable[[], Any], action: str = "test.setup", **where) -> Any:
        """Run set-up that posts to the ledger as one audited workflow (``claimdesk verify``
        checks every journal entry belongs to an audit event); ``fn``'s return value."""
        made = {}

        def body():
            made["value"] = fn()
            return {}

        workflow.run(action, body, notify=False, **where)
        return made["value"]

    def encounter(self, patient: Patient | None = None, fees=("100.00",), *, payers=(), dos: dt.date = DOS,
                  codes: list[str] | None = None) -> tuple[Encounter, list[Charge]]:
        """An encounter with one charge per fee (cents, or money text like ``"12.50"``), its
        payers in rank order; made by one audited workflow. Returns ``(encounter, charges)``."""
        patient = patient or self.patient()
        prov = self.provider()
        codes = list(codes or ["99213"] * len(fees))

        def make():
            enc = billing.create_encounter(patient=patient, provider=prov, dos=dos, payers=[(p, None) for p in payers])
            return enc, [billing.add_charge(enc, self.code(c), fee=int(cents(fee))) for fee, c in zip(fees, codes)]

        return self.audited(make, "test.encounter", patient_id=patient.id)

    def voucher(self, payer: Payer | None, amount: int, method: str = "check", **details) -> int:
        """A voucher of ``amount`` cents from ``payer`` (None: the patient) through the workflow
        (the payment-method plugin validates ``details``); its id."""
        payer = payer or common.patient_payer()
        if method == "check" and not details:
            details = {"check_number": str(1000 + next(self._seq))}
        res = payments.create_voucher({"payer_id": payer.id, "method": method,
                                       "amount": f"{amount // 100}.{amount % 100:02d}", "details": details})
        return res["voucher_id"]

    def denied(self, payers: list[Payer], fees=(100_00, 50_00)) -> tuple[Patient, Encounter, list[Charge]]:
        """A new patient's encounter whose first payer denied every charge (CARC 27: it lands on
        the Denied queue); ``(patient, encounter, charges)``."""
        pat = self.patient()
        enc, charges = self.encounter(pat, list(fees), payers=payers)
        eobs.post_eob({"encounter_id": enc.id, "payer_id": payers[0].id,
                       "lines": [{"charge_id": c.id, "denied": True, "denial_code": "27"} for c in charges]})
        return pat, Encounter.get_by_id(enc.id), charges

    # -- driving actions as the Advanced Actions tool does --------------------------------------
    def offers(self, encounter) -> list[str]:
        """Keys of the actions offered for ``encounter`` (an encounter or its id)."""
        return [o["key"] for o in actions.assess(_id(encounter))["offers"]]

    def apply(self, encounter, key: str, data: dict | None = None) -> dict:
        """Apply action ``key`` to ``encounter``: one audited transaction; the result (``report`` is
        what the plugin returned, ``audit_id`` the audit event)."""
        return actions.apply(_id(encounter), key, data or {})

    def encounter_balance(self, encounter) -> Cents:
        """The encounter's open balance, recomputed from the ledger."""
        return Cents(balances.encounter_balance(_id(encounter)))

    def audit_action(self, audit_id: int) -> str:
        """The action an audit event records (``action.<key>`` for an advanced action)."""
        from claimdesk.core.models import AuditEvent

        return AuditEvent.get_by_id(audit_id).action


def _id(record) -> int:
    return int(getattr(record, "id", record))


@pytest.fixture
def claimdesk_db(tmp_path):
    """A fresh claimdesk database (SQLite), current user "plugin-tester" (a supervisor); yields a ClinicBuilder."""
    db.connect(str(tmp_path / "claimdesk-test.db"))
    migrations.upgrade()
    users.bootstrap("plugin-tester", "supervisor")
    with as_user("plugin-tester"):
        yield ClinicBuilder()
    db.close()


@pytest.fixture
def claimdesk_host():
    """The plugin host with installed plugins loaded; restored after the test."""
    host = PluginHost().load_entrypoints()
    reset_host(host)
    yield host
    reset_host(None)
