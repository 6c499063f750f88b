"""pytest fixtures for plugin authors (loaded automatically: the ``pytest11`` entry point).

    def test_my_action(claimdesk_db, claimdesk_host):
        claimdesk_host.register(my_plugin_module, "my_plugin")
        enc = claimdesk_db.encounter(fees=["120.00"])
        result = actions.apply(enc.id, "my_action", {...})

``claimdesk_db`` is a fresh, upgraded SQLite database in a temp dir with a small
clinic builder attached; ``claimdesk_host`` is the plugin host with every
installed plugin loaded (yours too, once your package is installed) and any
plugin you register removed after the test.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from claimdesk.core import db, migrations, workflow
from claimdesk.core.context import as_user
from claimdesk.core.models import Patient, Payer, Provider, ServiceCode, User
from claimdesk.core.money import to_cents
from claimdesk.core.plugins.host import PluginHost, reset_host
from claimdesk.core.services import billing


class ClinicBuilder:
    """Makes patients, payers and encounters through the core services."""

    def __init__(self):
        self._seq = itertools.count(1)

    def patient(self, last: str = "Test", first: str = "Pat") -> Patient:
        with db.write_transaction():
            return Patient.create(account_no=f"PT{next(self._seq):05d}", last_name=last, first_name=first)

    def payer(self, name: str, kind: str = "commercial") -> Payer:
        with db.write_transaction():
            return Payer.get_or_create(name=name, defaults={"kind": kind})[0]

    def encounter(self, fees=("100.00",), *, patient: Patient | None = None, payers=(),
                  dos: dt.date = dt.date(2026, 3, 2), code: str = "99213"):
        """An encounter with one charge per fee (decimal strings); payers in rank order."""
        patient = patient or self.patient()
        made = {}

        def body():  # one audited workflow: every journal entry belongs to an audit event
            prov = Provider.get_or_create(name="Dr. Test")[0]
            sc = ServiceCode.get_or_create(code=code, defaults={"description": code})[0]
            made["enc"] = enc = billing.create_encounter(patient=patient, provider=prov, dos=dos,
                                                         payers=[(p, None) for p in payers])
            for fee in fees:
                billing.add_charge(enc, sc, fee=to_cents(fee))
            return {"encounter_id": enc.id}

        workflow.run("test.encounter", body, patient_id=patient.id, notify=False)
        return made["enc"]


@pytest.fixture
def claimdesk_db(tmp_path):
    """A fresh claimdesk database (SQLite), current user "plugin-tester" (a supervisor); yields a ClinicBuilder."""
    db.connect(str(tmp_path / "claimdesk-test.db"))
    migrations.upgrade()
    with db.write_transaction():
        User.create(username="plugin-tester", role="supervisor")
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
