"""Claims out, remits in: the evening claim batch and the payers' checks with their EOBs.

Payer remits arrive on each payer's check days: EOBs with payments, CO-45
contractual adjustments, PR-1/PR-2/PR-3 patient responsibility moved to the next
payer or the patient, OA-23 on secondary remits, denials left on the split flagged
denied (see :mod:`.payer_answers`), checks with undistributed remainders. The copay
taken at check-in then pays the patient's share; a secondary that was never on the
claim sends a check anyway (left undistributed).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from claimdesk.core import clock
from claimdesk.core.demo.reference import DEMO_USER, PAYERS, WC_CARRIERS
from claimdesk.core.demo.state import RANK_BIT, EncounterState, Task
from claimdesk.core.models import ChargeSplit, Claim, ClaimBatch, Credit, Encounter, Eob, Payer, Voucher
from claimdesk.core.posting import eobs as posting_eobs
from claimdesk.core.services import eobs, payments


class Remits:
    """Claims and remits (a mixin of :class:`~.simulation.ClinicSimulation`)."""

    def claim_batch(self, day: dt.date) -> dict:
        """The evening batch sends every queued claim; each payer answers after its lag (or never)."""
        rng = self.rng
        rows = list(Claim.select(Claim.id, Claim.encounter, Claim.payer, Claim.rank)
                    .where(Claim.status == "queued").order_by(Claim.id).tuples())
        if not rows:
            return {}
        batch = ClaimBatch.create(created_at=clock.now(), created_by=DEMO_USER,
                                  export_path=f"batches/{day:%Y%m%d}.837")
        ids = [r[0] for r in rows]
        for i in range(0, len(ids), 500):
            Claim.update(status="sent", sent_at=clock.now(), batch=batch.id).where(
                Claim.id.in_(ids[i:i + 500])).execute()
        for _cid, enc_id, payer_id, rank in rows:
            key = self.payer_key.get(payer_id)
            if key is None or enc_id not in self.encs:
                continue
            if rng.random() < (0.07 if rank != "primary" else 0.01):
                continue  # never answered: material for "Resend Secondary Claim" and follow-up
            lo, hi = PAYERS[key]["lag"]
            self.at(self.remit_day(key, day + dt.timedelta(days=rng.randint(lo, hi))), 20, "remit",
                    key, enc_id, rank)
        return {"batch_id": batch.id, "claims_sent": len(rows)}

    def do_remits(self, day: dt.date, todo: list[Task]) -> dict:
        """The morning's remits, payer by payer (one check each), then the other remit-time tasks."""
        by_payer: dict[str, list] = defaultdict(list)
        out: dict = {}
        for t in todo:
            if t.kind == "remit":
                by_payer[t.args[0]].append(t.args[1:])
        for key in sorted(by_payer, key=list(PAYERS).index):
            out[key] = self.remit(day, key, by_payer[key])
        for t in todo:
            if t.kind != "remit":
                getattr(self, "task_" + t.kind)(day, *t.args)
        return out

    def remit(self, day: dt.date, key: str, items: list) -> dict:
        """One payer's check (or a zero-pay remit) with the EOBs it explains."""
        rng = self.rng
        payer = self.payer[key]
        planned, seen, todo = [], set(), []
        for enc_id, rank in items:
            state = self.encs[enc_id]
            if (enc_id, rank) in seen or state.payers.get(rank) != key or not state.billable:
                continue  # a duplicate, or the payer left the claim since (advanced action)
            seen.add((enc_id, rank))
            todo.append((state, rank))
        # this payer's splits on every charge of the check, in one query
        ids = [c[0] for state, _r in todo for c in state.charges]
        by_rank: dict[tuple, ChargeSplit] = {}
        for i in range(0, len(ids), 500):
            for sp in ChargeSplit.select().where(ChargeSplit.charge.in_(ids[i:i + 500])
                                                 & (ChargeSplit.payer == payer.id)):
                by_rank[sp.charge_id, sp.rank] = sp
        for state, rank in todo:
            splits = {c[0]: by_rank[c[0], rank] for c in state.charges if (c[0], rank) in by_rank}
            bit = RANK_BIT[rank]
            if state.remitted & bit and not state.resend & bit and not sum(sp.balance for sp in splits.values()):
                continue  # a second claim with nothing left to explain
            state.resend &= ~bit
            lines = self.eob_lines(state, key, rank, splits)
            if lines:
                state.remitted |= bit
                planned.append((state, rank, lines, splits))
        paid = sum(ln["paid"] for p in planned for ln in p[2])
        extra = 0
        if paid and rng.random() < 0.08:  # the check also pays claims not on these EOBs
            extra = rng.randint(15, 300) * 100 + rng.choice([0, 25, 50, 75])
        voucher = None
        if paid + extra:
            num = self.next_check(key)
            voucher = payments.make_voucher(payer, "check", paid + extra, reference=num,
                                            details={"check_number": num})
            voucher.undistributed = paid + extra
        refs = [f"{PAYERS[key]['code']}{day:%y%j}{s.id:07d}{rank[0].upper()}" for s, rank, _l, _s in planned]
        results = (self.post_eobs_fast if self.fast else self.post_eobs_exact)(day, payer, voucher, planned, refs)
        for (state, rank, _l, _s), result in zip(planned, results):
            self.after_eob(day, state, rank, key, result)
        self.counts["eobs"] += len(planned)
        return {"voucher_id": voucher.id if voucher else None, "eobs": len(planned), "paid": paid,
                "undistributed": extra}

    def post_eobs_fast(self, day: dt.date, payer: Payer, voucher: Voucher | None, planned: list,
                       refs: list[str]) -> list[dict]:
        """The whole check's EOBs at once through the money engine (one entry per kind), as the
        835 importer posts a file (:func:`claimdesk.core.posting.eobs.post_eobs`)."""
        results = posting_eobs.post_eobs(payer.id, voucher, [
            posting_eobs.EobToPost(state.id, state.pat.id, rank, lines, ref, day)
            for (state, rank, lines, _splits), ref in zip(planned, refs)])
        if voucher is not None:
            voucher.undistributed -= sum(r["paid"] for r in results)
        return results

    def post_eobs_exact(self, day: dt.date, payer: Payer, voucher: Voucher | None, planned: list,
                        refs: list[str]) -> list[dict]:
        """One EOB at a time through ``eobs.post_lines`` (a check exactly when something is paid)."""
        results = []
        for (state, rank, lines, _s), ref in zip(planned, refs):
            eob = Eob.create(encounter=state.id, payer=payer, rank=rank, voucher=voucher,
                             received_on=day, claim_ref=ref)
            results.append(eobs.post_lines(eob, Encounter.get_by_id(state.id), payer, rank, lines, voucher))
            voucher and setattr(voucher, "undistributed", voucher.undistributed - results[-1]["paid"])
        return results

    def next_check(self, key: str) -> str:
        """Payer ``key``'s next check number (each payer's numbers run up from a random start)."""
        if key not in self.check_no:
            self.check_no[key] = self.rng.randint(10_000, 90_000) * 100
        self.check_no[key] += self.rng.randint(1, 9)
        return f"{self.check_no[key]:08d}"

    def after_eob(self, day: dt.date, state: EncounterState, rank: str, key: str, result: dict) -> None:
        """What an EOB sets off: the copay applied, zero-fee splits to mark paid, an off-file secondary's check."""
        rng = self.rng
        if key in WC_CARRIERS and not result["denied"]:
            self.unqueue(state.id, "workers_comp")
        if state.copay_credit:
            self.apply_copay(state)
        if rank == "primary" and "secondary" in state.payers and any(c[3] == 0 for c in state.charges) \
                and rng.random() < 0.35:
            self.at(self.later(day, 10, 40), 40, "mark_zero_paid", state.id)
        if state.scenario == "off_file" and rank == "primary" and not result["denied"] and state.pr:
            pr = sum(sum(p) for p in state.pr.values())
            if pr and rng.random() < 0.7:
                okey = state.pat.off_file[0]
                self.at(self.remit_day(okey, day + dt.timedelta(days=rng.randint(12, 28))), 20,
                        "orphan_check", state.id, pr * 80 // 100)

    def apply_copay(self, state: EncounterState) -> None:
        """The copay taken at check-in pays the patient share the EOB moved to the patient."""
        credit = Credit.get_by_id(state.copay_credit)
        if credit.unapplied <= 0:
            state.copay_credit = None
            return
        ids = [c[0] for c in state.charges]
        plan, left = [], credit.unapplied
        for s in ChargeSplit.select().where(ChargeSplit.charge.in_(ids) & (ChargeSplit.rank == "patient")
                                            & (ChargeSplit.balance > 0)).order_by(ChargeSplit.id):
            take = min(left, s.balance)
            if take:
                plan.append((s, take))
                left -= take
        if plan:
            payments.apply_to_splits(credit, plan, memo=f"copay applied to encounter {state.id}")

    def task_orphan_check(self, day: dt.date, enc_id: int, amount: int) -> None:
        """A secondary's check for a claim with no secondary on file: it stays undistributed."""
        state = self.encs[enc_id]
        key = state.pat.off_file[0]
        num = self.next_check(key)
        payments.make_voucher(self.payer[key], "check", amount, reference=num, details={"check_number": num})
        Encounter.update(queue=self.queues["needs_secondary"].id).where(Encounter.id == enc_id).execute()
        if self.rng.random() < 0.6:
            self.at(self.later(day, 1, 4), 40, "message", enc_id, "off_file")
