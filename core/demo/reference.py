"""The demo clinic's reference data: users, payers, providers, fees, names, profiles, wording.

Users (``demo``, an admin; clerk work is done as ``clerk1``, supervisor work as
``super1``); Medicare, Medicaid, four commercial plans, a Medigap supplement, two
workers' comp carriers; clinical providers and the administrative provider
"Office"; CPT/HCPCS codes with realistic fees, office fee codes (RCFEE returned-check
fee, NOSHOW, RECORDS) and zero-fee codes (G8553, 99211-NC).

Fixed settings, not rows: :mod:`.clinic_setup` writes the users, payers, providers
and service codes from these tables; the simulation draws names, profiles, denials
and the clerk's messages from them. Changing a value changes the generated clinic.
"""

from __future__ import annotations

import datetime as dt

from claimdesk.core.claim_rules import make_npi

DEFAULT_SEED = 1
#: The demo's "today": the last simulated day (a Monday).
DEFAULT_TODAY = dt.date(2026, 11, 2)
#: Months of simulated history by default.
MONTHS = 18
#: Patients at scale 1.
BASE_PATIENTS = 240
#: Daysheets older than this many days before ``today`` are closed.
OPEN_DAYSHEET_DAYS = 7

#: Who builds the demo (an admin), who does the clerk's work, who the supervisor's.
DEMO_USER = "demo"
CLERK = "clerk1"
SUPERVISOR = "super1"

USERS = [
    (DEMO_USER, "Demo Administrator", "admin"),
    (CLERK, "Casey Morgan", "clerk"),
    ("clerk2", "Robin Patel", "clerk"),
    (SUPERVISOR, "Jordan Alvarez", "supervisor"),
]

#: key -> payer settings. ratio = allowed as % of fee; deductible per calendar year
#: (dict by year, cents); copay on E/M lines (cents); coins = coinsurance % after
#: the deductible; remit = weekdays the payer's checks arrive; lag = days from claim
#: sent to remit; deny = % of claims with a random denial.
PAYERS = {
    "medicare": dict(name="Medicare Part B", kind="medicare", code="MCR01", ratio=54,
                     deductible={2025: 257_00, 2026: 283_00}, copay=0, coins=20,
                     remit=(1, 3), lag=(14, 21), deny=4, phone="(800) 555-0101",
                     address="PO Box 1000, Capital City, OR 97301"),
    "medicaid": dict(name="State Medicaid", kind="medicaid", code="MCD01", ratio=41,
                     deductible={}, copay=0, coins=0, remit=(2,), lag=(18, 40), deny=6,
                     phone="(800) 555-0102", address="PO Box 2000, Capital City, OR 97301"),
    "evergreen": dict(name="Evergreen Blue PPO", kind="commercial", code="EBP10", ratio=72,
                      deductible={2025: 750_00, 2026: 800_00}, copay=30_00, coins=20,
                      remit=(0,), lag=(15, 30), deny=5, phone="(800) 555-0110",
                      address="PO Box 3100, Portland, OR 97208"),
    "apex": dict(name="Apex Health Plan", kind="commercial", code="APX22", ratio=68,
                 deductible={2025: 1000_00, 2026: 1200_00}, copay=25_00, coins=20,
                 remit=(2,), lag=(18, 35), deny=7, phone="(800) 555-0111",
                 address="PO Box 4100, Salem, OR 97309"),
    "united": dict(name="United Mutual Health", kind="commercial", code="UMH31", ratio=75,
                   deductible={2025: 500_00, 2026: 500_00}, copay=40_00, coins=10,
                   remit=(4,), lag=(20, 40), deny=6, phone="(800) 555-0112",
                   address="PO Box 5100, Eugene, OR 97440"),
    "cedar": dict(name="Cedar Care HMO", kind="commercial", code="CCH44", ratio=64,
                  deductible={}, copay=20_00, coins=0, remit=(3,), lag=(21, 45), deny=8,
                  phone="(800) 555-0113", address="PO Box 6100, Bend, OR 97708"),
    "medigap": dict(name="Liberty Medigap Supplement", kind="medigap", code="LMS50", ratio=100,
                    deductible={}, copay=0, coins=0, remit=(0, 3), lag=(10, 20), deny=2,
                    phone="(800) 555-0114", address="PO Box 7100, Medford, OR 97501"),
    "keystone_wc": dict(name="Keystone Workers' Comp Insurance", kind="workers_comp", code="KWC01",
                        ratio=88, deductible={}, copay=0, coins=0, remit=(4,), lag=(30, 55), deny=0,
                        phone="(800) 555-0120", address="PO Box 8100, Portland, OR 97208"),
    "harbor_wc": dict(name="Harborline Casualty Workers' Comp", kind="workers_comp", code="HWC02",
                      ratio=85, deductible={}, copay=0, coins=0, remit=(1,), lag=(35, 60), deny=0,
                      phone="(800) 555-0121", address="PO Box 9100, Salem, OR 97309"),
}
COMMERCIAL = ("evergreen", "apex", "united", "cedar")
WC_CARRIERS = ("keystone_wc", "harbor_wc")

PROVIDERS = [
    ("Elena Marsh, MD", "clinical"),
    ("Samuel Ortiz, DO", "clinical"),
    ("Priya Natarajan, NP", "clinical"),
    ("Jordan Lee, PT", "clinical"),
    ("Office", "administrative"),
]
#: provider name -> (last name, first name, taxonomy code); "Office" is the practice itself.
PROVIDER_DETAILS = {
    "Elena Marsh, MD": ("Marsh", "Elena", "207Q00000X"),      # family medicine
    "Samuel Ortiz, DO": ("Ortiz", "Samuel", "207Q00000X"),
    "Priya Natarajan, NP": ("Natarajan", "Priya", "363LF0000X"),  # nurse practitioner, family
    "Jordan Lee, PT": ("Lee", "Jordan", "225100000X"),        # physical therapist
    "Office": ("Riverbend Family Medicine", "", "261QP2300X"),  # clinic/center, primary care
}
#: The made-up NPIs: provider i gets make_npi(NPI_BASE + NPI_STEP * i).
NPI_BASE, NPI_STEP = 123_450_000, 37

PCPS = (0, 0, 1, 1, 2)  # index into PROVIDERS, weighted
PT_PROVIDER = 3
OFFICE = 4

#: The clinic as billing provider: the ``[clinic]`` config section for the demo (its NPI is the
#: practice's, the "Office" provider's; providers bill under its tax id, at its address).
CLINIC = {
    "name": "Riverbend Family Medicine", "npi": make_npi(NPI_BASE + NPI_STEP * OFFICE), "tax_id": "93-1234567",
    "taxonomy": "261QP2300X", "address": "1200 Riverbend Parkway", "city": "Riverbend", "state": "OR",
    "zip": "97402-1234", "phone": "(541) 555-0100",
}

#: code -> (description, kind, fee in cents, allowed factor % of the payer ratio)
CODES = {
    "99202": ("Office visit, new patient, straightforward", "cpt", 95_00, 100),
    "99203": ("Office visit, new patient, low complexity", "cpt", 150_00, 100),
    "99204": ("Office visit, new patient, moderate complexity", "cpt", 230_00, 100),
    "99212": ("Office visit, established, straightforward", "cpt", 75_00, 100),
    "99213": ("Office visit, established, low complexity", "cpt", 110_00, 100),
    "99214": ("Office visit, established, moderate complexity", "cpt", 165_00, 100),
    "99215": ("Office visit, established, high complexity", "cpt", 225_00, 100),
    "G0439": ("Annual wellness visit, subsequent", "hcpcs", 175_00, 100),
    "97110": ("Therapeutic exercise, each 15 minutes", "cpt", 45_00, 95),
    "97140": ("Manual therapy, each 15 minutes", "cpt", 48_00, 95),
    "36415": ("Routine venipuncture", "cpt", 12_00, 60),
    "81002": ("Urinalysis, non-automated, without microscopy", "cpt", 10_00, 60),
    "85025": ("Complete blood count (CBC) with differential", "cpt", 22_00, 55),
    "80053": ("Comprehensive metabolic panel", "cpt", 32_00, 50),
    "83036": ("Hemoglobin A1c", "cpt", 28_00, 55),
    "93000": ("Electrocardiogram, 12 lead, with interpretation", "cpt", 60_00, 50),
    "20610": ("Arthrocentesis/injection, major joint", "cpt", 135_00, 80),
    "J1030": ("Methylprednisolone acetate, 40 mg", "hcpcs", 18_00, 40),
    "90471": ("Immunization administration, one vaccine", "cpt", 25_00, 90),
    "90686": ("Influenza vaccine, quadrivalent, preservative free", "cpt", 38_00, 90),
    "G8553": ("Quality reporting: prescription(s) sent via e-prescribing", "hcpcs", 0, 0),
    "99211-NC": ("Nurse visit, no charge (blood pressure check)", "office", 0, 0),
    "RCFEE": ("Returned check fee", "office", 35_00, 0),
    "NOSHOW": ("Missed appointment fee", "office", 25_00, 0),
    "RECORDS": ("Copy of medical records", "office", 15_00, 0),
}
EM_CODES = frozenset({"99202", "99203", "99204", "99212", "99213", "99214", "99215", "G0439"})

FIRST_NAMES = [
    "Avery", "Blake", "Camila", "Dorothy", "Elias", "Fatima", "Gideon", "Harriet", "Imani", "Jasper",
    "Keiko", "Lionel", "Marisol", "Nolan", "Odette", "Percy", "Quinn", "Rosalind", "Silas", "Tamsin",
    "Ulises", "Vivian", "Wendell", "Ximena", "Yusuf", "Zelda", "Agnes", "Bernard", "Cora", "Desmond",
    "Esme", "Felix", "Gloria", "Hector", "Iris", "Julian", "Kendra", "Leonard", "Mabel", "Nadia",
    "Otis", "Pearl", "Rafael", "Sadie", "Thaddeus", "Una", "Vernon", "Wilma", "Arlo", "Beatrix",
    "Cyrus", "Delphine", "Emmett", "Flora", "Gus", "Hazel", "Ivan", "June", "Kai", "Lorena",
    "Milo", "Nell", "Orson", "Priscilla", "Reuben", "Stella", "Tobias", "Vera", "Walter", "Yvette",
]
LAST_NAMES = [
    "Abernathy", "Birchwood", "Castellano", "Dunmore", "Eastwick", "Fairbanks", "Galloway", "Hollister",
    "Ingleby", "Jaramillo", "Kettering", "Lindqvist", "Marchetti", "Northcott", "Okonkwo", "Pemberton",
    "Quintero", "Ravenscroft", "Sandoval", "Thistlewood", "Underhill", "Valdivia", "Whitcombe", "Yarborough",
    "Zamora", "Ashdown", "Brightwater", "Coldiron", "Delacroix", "Ellsworth", "Fenwick", "Greenhalgh",
    "Hathaway", "Iverson", "Juarez", "Kowalczyk", "Larkspur", "Merriweather", "Nakamura", "Oyelaran",
    "Prudhomme", "Rosenthal", "Stroud", "Tiernan", "Umberger", "Vasquez", "Winterbourne", "Yamada",
    "Achterberg", "Beaumont", "Chandrasekar", "Duquesne", "Esposito", "Fitzwilliam", "Gutierrez", "Holloway",
]
STREETS = ["Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Hawthorn", "Juniper", "Laurel", "Madrona",
           "Oak", "Pine", "Spruce", "Willow", "Sycamore", "Maple", "Aspen", "Hemlock"]
STREET_KINDS = ["St", "Ave", "Ln", "Rd", "Ct", "Way", "Dr", "Pl"]
TOWNS = [("Millbrook", "97401"), ("Riverbend", "97402"), ("Cedar Hollow", "97405"), ("Fernridge", "97408"),
         ("Oakmont", "97477"), ("Pine Crossing", "97478")]
EMPLOYERS = ["Riverside Logistics", "Summit Builders", "Harborview Freight", "Greenleaf Grocers",
             "Northway Manufacturing", "Bluewater Packaging"]
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"

#: patient profile -> (weight per 1000, minimum count at any scale)
PROFILES = {
    "medicare": (90, 3),
    "medicare_medigap": (110, 3),
    "dual": (45, 3),
    "tertiary": (15, 2),
    "medicaid": (140, 3),
    "commercial": (370, 5),
    "commercial_secondary": (65, 3),
    "self_pay": (85, 5),
    "terminated": (30, 3),
    "secondary_off_file": (20, 2),
    "secondary_terminated": (15, 2),
    "workers_comp": (15, 2),
}

#: random denials: code -> (whole claim?, follow-up)
DENIALS = {
    "CO-16": (True, "resubmit"),      # missing information: corrected claim
    "CO-50": (False, "bill_or_writeoff"),  # not medically necessary
    "CO-29": (True, "writeoff"),      # timely filing limit expired
    "CO-97": (False, "writeoff"),     # bundled into another service
    "CO-197": (True, "writeoff"),     # precertification absent
}


#: the clerk's questions to the administrator: topic -> (subject, text with {payer}, {other}...)
MESSAGES = {
    "work_injury": ("Work injury?",
                    "Patient says this shoulder injury happened at work (lifting at the warehouse). "
                    "{payer} denied the claim CO-19 (work related). Do we have the employer's workers' "
                    "comp carrier and claim number, or should I call the employer?"),
    "off_file": ("Secondary EOB but no secondary on file",
                 "We received an EOB and a check from {other} for this visit, but the claim has no "
                 "secondary payer. The card on file for the spouse's plan is {other}, member {member}. "
                 "OK to add it as secondary and post the EOB?"),
    "terminated": ("Coverage terminated",
                   "{payer} says coverage ended {term}. The patient has not given us a new card yet. "
                   "Should these visits go to self-pay or do we wait?"),
    "co50": ("Appeal or bill patient?",
             "{payer} denied a line as not medically necessary (CO-50). The note supports it. "
             "I billed the patient for now; should we appeal instead?"),
    "dispute": ("Patient disputes balance",
                "Patient called: says the copay was paid at check-in and the statement is wrong. "
                "Can you review the credits on this account?"),
    "returned": ("Returned check fee",
                 "The patient's check came back NSF. I flagged it returned and added the $35.00 "
                 "returned check fee (RCFEE, provider Office). Please confirm that is our policy."),
}
#: the administrator's answer per topic
ANSWERS = {
    "work_injury": "Yes - convert it to a workers' comp claim once the employer sends the claim number.",
    "off_file": "Yes, add the secondary from the card on file and post the EOB.",
    "terminated": "Wait 30 days for a new card, then bill as self-pay.",
    "co50": "Billing the patient is fine for this code; no appeal.",
    "dispute": "The copay is on an unapplied credit; apply it to this visit.",
    "returned": "Confirmed, $35 is our returned check fee.",
}
