"""The last simulated day: work in every queue, even in a tiny clinic.

:meth:`LastDay.ensure_cases` makes sure there is a claim on the "Patient"
placeholder primary (for "Add Primary Payer") and a non-billable claim (for
"billable"); :meth:`LastDay.task_finish` fills the Review, Admin and Workers' comp
queues when nothing else did.
"""

from __future__ import annotations

from claimdesk.core.models import AdminMessage, Charge, ChargeSplit, Encounter, EncounterPayer, ServiceCode


class LastDay:
    """The last day's checks (a mixin of :class:`~.simulation.ClinicSimulation`)."""

    def task_finish(self, day) -> None:
        """The last day: make sure the review and admin queues have work even in a tiny clinic."""
        recent = (Encounter.select(Encounter.id).join(Charge, on=(Charge.encounter == Encounter.id))
                  .join(ServiceCode, on=(Charge.service_code == ServiceCode.id))
                  .where(Encounter.queue.is_null() & ServiceCode.code.in_(["99214", "99215", "99204"])
                         & (Encounter.status == "active"))
                  .order_by(Encounter.dos.desc(), Encounter.id.desc()).limit(6))
        ids = sorted({e.id for e in recent})
        q = self.queues
        self.ensure_cases(day)
        if ids and not Encounter.select().where(Encounter.queue == q["review"].id).exists():
            Encounter.update(queue=q["review"].id).where(Encounter.id.in_(ids[-2:])).execute()
        if not Encounter.select().where(Encounter.queue == q["admin"].id).exists():
            waiting = (AdminMessage.select(AdminMessage.encounter).join(Encounter)
                       .where((AdminMessage.status == "open") & Encounter.queue.is_null()))
            if not Encounter.update(queue=q["admin"].id).where(Encounter.id.in_(waiting)).execute() and ids:
                self.task_message(day, ids[0], "dispute")
        if not Encounter.select().where(Encounter.queue == q["workers_comp"].id).exists():
            wc = (Encounter.select(Encounter.id).where((Encounter.claim_type == "workers_comp")
                                                       & (Encounter.status == "active"))
                  .order_by(Encounter.dos.desc(), Encounter.id.desc()).first())
            if wc is not None:
                Encounter.update(queue=q["workers_comp"].id).where(Encounter.id == wc.id).execute()

    def ensure_cases(self, day) -> None:
        """Even a tiny clinic leaves a claim on the "Patient" placeholder and a non-billable claim."""
        pseudo = self.pseudo.id
        placeholder = (EncounterPayer.select().join(Encounter)
                       .where(EncounterPayer.placeholder & (EncounterPayer.rank == "primary")
                              & (EncounterPayer.payer == pseudo) & (Encounter.status == "active")))
        if not placeholder.exists():
            denied = (Encounter.select(Encounter.id).join(Charge).join(ChargeSplit)
                      .where((ChargeSplit.rank == "primary") & ChargeSplit.denied & (ChargeSplit.balance > 0)
                             & ChargeSplit.denial_code.in_(["PR-27", "CO-109"]) & (Encounter.status == "active"))
                      .order_by(Encounter.dos, Encounter.id).first())
            if denied is not None:
                self.task_primary_invalid(day, denied.id)
        if not Encounter.select().where(Encounter.billable == False).exists():  # noqa: E712
            noshow = (Encounter.select(Encounter.id).join(Charge).join(ServiceCode)
                      .switch(Charge).join(ChargeSplit)
                      .where((ServiceCode.code == "NOSHOW") & (ChargeSplit.balance > 0)
                             & (Encounter.status == "active"))
                      .order_by(Encounter.dos.desc(), Encounter.id.desc()).first())
            if noshow is not None:  # the office waives a missed-appointment fee
                self.make_non_billable(noshow.id, "no-show fee waived (first miss)")
