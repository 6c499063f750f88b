"""What a payer says about each charge of a claim: allowed, paid, adjustments, denials.

Primary payers allow a share of the fee (their fee schedule), apply the calendar
year deductible (PR-1), the copay on the first E/M line (PR-3) or coinsurance
(PR-2), and adjust the rest off (CO-45). Secondaries pay what is left their way
(Medigap plan G all but the Part B deductible, Medicaid up to its own rate with
OA-23, commercial 80% with OA-23 and PR-2). Denials (CO-50, CO-16, CO-29, CO-97,
CO-197, PR-27, CO-109, CO-19, CO-214, CO-22; PR-27 on a secondary whose coverage
ended) are drawn per payer and scenario; a denied claim schedules its follow-up (:mod:`.denials`).
"""

from __future__ import annotations

from claimdesk.core.demo.reference import DENIALS, EM_CODES, PAYERS, WC_CARRIERS
from claimdesk.core.demo.state import EncounterState


class PayerAnswers:
    """Adjudication (a mixin of :class:`~.simulation.ClinicSimulation`)."""

    def eob_lines(self, state: EncounterState, key: str, rank: str, splits: dict) -> list[dict]:
        """What the payer says about each charge (allowed, paid, CO/PR/OA, denial)."""
        rng = self.rng
        denial = None
        if rank == "primary":
            if state.scenario == "invalid_primary":
                denial = ("PR-27" if rng.random() < 0.65 else "CO-109", True)
            elif state.scenario == "should_be_wc":
                denial = ("CO-19", True)
            elif key in WC_CARRIERS:
                if rng.random() < 0.08:
                    denial = ("CO-214", True)
            elif rng.random() * 100 < PAYERS[key]["deny"]:
                code = rng.choices(list(DENIALS), [30, 30, 10, 15, 15])[0]
                denial = (code, DENIALS[code][0])
        elif state.scenario == "secondary_terminated" and rank == "secondary":
            denial = ("PR-27", True)  # coverage ended: the patient's to pay
        elif rng.random() < 0.03:
            denial = (rng.choice(["CO-22", "CO-16"]), True)
        denied_line = None
        if denial and not denial[1]:  # one line: a non-visit service if there is one
            cands = [c for c in state.charges if c[3] and c[1] not in EM_CODES] or [c for c in state.charges if c[3]]
            denied_line = rng.choice(cands)[0] if cands else None
        lines, pr_parts, em_done = [], {}, False
        for cid, code, units, _fee in state.charges:
            split = splits.get(cid)
            bal = split.balance if split else 0
            if split is None or (rank != "primary" and bal <= 0):
                continue
            if denial and (denial[1] or cid == denied_line) and bal > 0:
                lines.append({"charge_id": cid, "allowed": 0, "paid": 0, "denied": True,
                              "denial_code": denial[0], "adjustments": []})
            elif bal == 0:  # a zero-fee line: reported, nothing paid
                lines.append({"charge_id": cid, "allowed": 0, "paid": 0, "denied": False, "denial_code": "",
                              "adjustments": []})
            elif rank == "primary":
                line, pr_parts[cid] = self.primary_line(state, key, cid, code, units, bal, em_done)
                em_done = em_done or code in EM_CODES
                lines.append(line)
            else:
                lines.append(self.secondary_line(state, key, rank, cid, bal))
        if rank == "primary":
            state.pr = pr_parts
        if denial and any(ln["denied"] for ln in lines):
            self.plan_denial_followup(state, rank, key, denial[0])
        return lines

    def primary_line(self, state: EncounterState, key: str, cid: int, code: str, units: int, bal: int,
                     em_done: bool) -> tuple[dict, tuple]:
        """A primary's line: allowed, CO-45, deductible / copay / coinsurance; and those three PR parts."""
        cfg = PAYERS[key]
        allowed = min(bal, self.allowed[key, code] * units)
        adj = [{"group_code": "CO", "reason_code": "45", "amount": bal - allowed}] if bal > allowed else []
        ded = coins = copay = 0
        rest = allowed
        year_ded = cfg["deductible"].get(state.dos.year, 0)
        if year_ded and rest:
            used = state.pat.deductible.get((key, state.dos.year), 0)
            ded = min(rest, max(0, year_ded - used))
            state.pat.deductible[key, state.dos.year] = used + ded
            rest -= ded
        if cfg["copay"] and code in EM_CODES and not em_done and rest:
            copay = min(rest, cfg["copay"])
            rest -= copay
        elif cfg["coins"] and rest:
            coins = rest * cfg["coins"] // 100
            rest -= coins
        adj += [{"group_code": "PR", "reason_code": r, "amount": a}
                for r, a in (("1", ded), ("2", coins), ("3", copay)) if a]
        return ({"charge_id": cid, "allowed": allowed, "paid": rest, "denied": False, "denial_code": "",
                 "adjustments": adj}, (ded, coins, copay))

    def secondary_line(self, state: EncounterState, key: str, rank: str, cid: int, bal: int) -> dict:
        """A secondary's (or tertiary's) line on what the earlier payers left."""
        adj = []
        if key == "medigap":  # plan G: pays all but the Part B deductible
            ded = min(bal, (state.pr or {}).get(cid, (0, 0, 0))[0])
            paid = bal - ded
            if ded:
                adj.append({"group_code": "PR", "reason_code": "1", "amount": ded})
        elif PAYERS[key]["kind"] == "medicaid":  # up to its own rate; the rest is the prior payer's effect
            paid = bal * (55 if rank == "tertiary" else 45) // 100
            if bal - paid:
                adj.append({"group_code": "OA", "reason_code": "23", "amount": bal - paid})
        else:
            paid, oa = bal * 80 // 100, bal * 5 // 100
            if oa:
                adj.append({"group_code": "OA", "reason_code": "23", "amount": oa})
            if bal - paid - oa:
                adj.append({"group_code": "PR", "reason_code": "2", "amount": bal - paid - oa})
        return {"charge_id": cid, "allowed": bal, "paid": paid, "denied": False, "denial_code": "",
                "adjustments": adj}
