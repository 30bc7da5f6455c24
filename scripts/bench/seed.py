#!/usr/bin/env python3
"""Seeds a running `qnet serve` through its HTTP API, for scripts/bench-api.

Standard library only. Creates organisations (as admin), then case studies of
realistic quality-improvement prose (as a member) and publishes each (as a
moderator), over keep-alive connections from a small thread pool. Then walks the
published lists to collect real cursors, and writes the request mixes the load
generator replays:

  OUT/list_paths.txt     GET /case-studies?limit=20 ... (no filter, topic,
                         organisation, or a cursor from a real page), one a line
  OUT/get_paths.txt      GET /case-studies/{id} over every seeded id
  OUT/post_bodies.jsonl  bodies for POST /case-studies, one JSON a line
  OUT/health_paths.txt   /health

Tokens come from the environment: QNET_ADMIN_TOKEN, QNET_MODERATOR_TOKEN,
QNET_MEMBER_TOKEN. The text never contains 10-digit numbers or day-month-year
dates, so the patient data guard holds nothing; a hold fails the seeding.
"""

import argparse
import http.client
import json
import os
import random
import signal
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

# --------------------------------------------------------------------------- HTTP


class ApiError(Exception):
    pass


class Client:
    """One keep-alive connection per thread."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        self.local = threading.local()

    def _conn(self, fresh=False):
        c = getattr(self.local, "conn", None)
        if c is None or fresh:
            if c is not None:
                c.close()
            c = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.local.conn = c
        return c

    def call(self, method, path, body=None, token=None, expect=(200,), headers=None):
        headers = {"Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        for attempt in (0, 1):
            try:
                c = self._conn(fresh=attempt > 0)
                c.request(method, path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, ConnectionError, OSError):
                if attempt:
                    raise
        if r.status not in expect:
            raise ApiError(f"{method} {path} answered {r.status}: {raw[:400].decode(errors='replace')}")
        return r.status, (json.loads(raw) if raw else None)


# ---------------------------------------------------------------- organisations

ORGANISATIONS = [
    ("Northvale Teaching Hospitals NHS Trust", "nhs", ["northvale-th.nhs.uk"]),
    ("Eastmoor Community Health NHS Trust", "nhs", ["eastmoor-ch.nhs.uk"]),
    ("Riverside Mental Health and Wellbeing NHS Foundation Trust", "nhs", ["riverside-mh.nhs.uk"]),
    ("Westfield and Brook Primary Care Network", "nhs", ["westfield-pcn.nhs.uk", "brook-surgery.nhs.uk"]),
    ("Harbour City Council Adult Social Care", "local_authority", ["harbourcity.gov.uk"]),
    ("Upper Dale County Council Public Health", "local_authority", ["upperdale.gov.uk"]),
    ("Carers Together Harbour", "voluntary", ["carerstogether.org.uk"]),
    ("Hillside Hospice", "voluntary", ["hillsidehospice.org.uk"]),
    ("Northvale University School of Healthcare", "education", ["northvale.ac.uk"]),
    ("Ambulance Service of the Northern Counties NHS Trust", "nhs", ["ancnt.nhs.uk"]),
    ("Kingsgate Care Homes Partnership", "other", ["kingsgatecare.co.uk"]),
    ("Eastmoor Recovery College", "education", ["eastmoor-recovery.ac.uk"]),
]

# ------------------------------------------------------------------ vocabulary

SETTINGS = [
    "the acute medical unit", "the emergency department", "the surgical assessment unit",
    "a community nursing team", "three practices in the primary care network", "the stroke rehabilitation ward",
    "the children's ward", "the maternity triage unit", "the discharge lounge",
    "the adult mental health inpatient unit", "the district nursing service", "the outpatient phlebotomy clinic",
    "the intensive care unit", "the frailty assessment unit", "the care home liaison team",
    "the memory assessment service", "the orthopaedic trauma ward", "the renal dialysis unit",
    "the respiratory ward", "the community mental health team", "the urgent treatment centre",
    "the hospital at home service", "the diabetes specialist nursing team", "the neonatal unit",
]
TEAMS = [
    "nurses, healthcare assistants and the ward pharmacist",
    "a multidisciplinary team of physiotherapists, occupational therapists and doctors",
    "the ward manager and two matrons", "receptionists, practice nurses and GPs",
    "the patient flow team", "peer support workers and people with lived experience",
    "the improvement coach and the clinical lead", "resident doctors on the medical rota",
    "volunteers and the patient experience team", "social workers and the discharge coordinators",
    "the pharmacy technicians", "the night shift nursing staff", "allied health professionals",
    "the care home managers and their senior carers", "health visitors and school nurses",
]
PROBLEMS = [
    "patients waited too long for their discharge medicines",
    "falls were rising among older inpatients",
    "handover between shifts was inconsistent and often interrupted",
    "pressure ulcers were being found late",
    "too many outpatient appointments were missed",
    "sepsis screening was not completed within the hour",
    "people with a learning disability were not getting their annual health checks",
    "staff reported high levels of burnout and low morale",
    "referrals to the memory service sat unread for weeks",
    "insulin errors kept recurring on the medical wards",
    "carers felt left out of discharge planning",
    "the time from referral to first contact was drifting upwards",
    "medicines reconciliation was rarely done within a day of admission",
    "ambulances queued outside the department at busy times",
    "patients at the end of life were often moved between wards in their last days",
    "young people waited months for a first appointment",
    "delirium was not being recognised until it was severe",
    "blood samples were frequently rejected by the laboratory as mislabelled",
]
CHANGES = [
    "a daily safety huddle at the start of each shift",
    "a discharge checklist started on the day of admission",
    "a falls risk bay with enhanced observation",
    "a text message reminder the day before each appointment",
    "a standardised handover template based on SBAR",
    "a red bag scheme for transfers from care homes",
    "criteria-led discharge agreed on the morning ward round",
    "pharmacy technicians joining the board round",
    "a 'what matters to you' board at every bedside",
    "a nurse-led sepsis trigger on the electronic observations chart",
    "a single point of access for all referrals",
    "a weekly multidisciplinary review of every patient staying longer than a week",
    "protected time for staff wellbeing conversations",
    "skin inspection prompts added to the comfort round",
    "an insulin safety checklist kept on the drug trolley",
    "a delirium screening prompt in the admission paperwork",
    "label printers at the bedside for blood samples",
    "a co-designed welcome pack written with carers",
    "a triage clinician at the front door during the evening peak",
    "an anticipatory medicines box for people in their last weeks of life",
]
OUTCOMES = [
    "falls per thousand occupied bed days", "the percentage of discharges before noon",
    "the median length of stay", "the did-not-attend rate",
    "the proportion of patients screened for sepsis within an hour", "hospital-acquired pressure ulcers a month",
    "days between falls", "staff survey scores for feeling valued",
    "the percentage of referrals triaged within two working days", "medication incidents reported a month",
    "ambulance handover times", "the proportion of people who died in their preferred place",
    "the waiting time for a first appointment", "rejected blood samples a week",
]
PROCESSES = [
    "checklist completion", "huddle attendance", "the share of handovers using the template",
    "the number of bedside boards filled in", "screening prompt completion",
    "the proportion of patients with an expected date of discharge", "reminder messages delivered",
    "the time from decision to discharge to the patient leaving the ward",
]
BALANCING = [
    "readmissions within a month", "staff overtime", "time nurses spent on documentation",
    "complaints", "incident reports about delayed care", "bed moves after ten at night",
]
CHARTS = ["a run chart", "a statistical process control chart", "an XmR chart", "a p-chart", "a weekly run chart"]
SEASONS = ["spring", "summer", "autumn", "winter"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
LESSONS = [
    "Start small: one bay, one shift, one week was enough to learn what would not work.",
    "Involving patients and carers from the first meeting changed which problem we chose to work on.",
    "Data collection has to be part of the job, not an extra form at the end of a long shift.",
    "The run chart on the staff room wall did more for engagement than any email.",
    "Several ideas that looked obvious failed their first PDSA cycle, and that was useful to know early.",
    "Senior sponsorship mattered most when we needed time released for the team to meet.",
    "Spreading the change to a second ward needed adapting, not copying.",
    "We underestimated how long it would take to agree the operational definitions of our measures.",
    "Celebrating small wins kept people going through the months when the chart did not move.",
    "Turnover in the team meant we had to keep re-explaining the aim; a one-page driver diagram helped.",
    "Balancing measures reassured managers that we were not simply moving the problem elsewhere.",
    "The people closest to the work had the best change ideas; our job was to test them properly.",
]
CONNECTIVES = ["Meanwhile,", "In parallel,", "Alongside this,", "At the same time,", "Separately,", "Later,", "Crucially,", "In practice,"]


class Prose:
    """Varied QI prose from a seeded RNG."""

    def __init__(self, rng):
        self.r = rng

    def c(self, seq):
        return self.r.choice(seq)

    def pct(self, lo=5, hi=95):
        return self.r.randint(lo, hi)

    def year(self):
        return self.r.randint(2018, 2025)

    def when(self):
        # Month and year only, or a season: never a day, so no date of birth pattern.
        if self.r.random() < 0.5:
            return f"{self.c(MONTHS)} {self.year()}"
        return f"the {self.c(SEASONS)} of {self.year()}"

    def aim(self, s):
        r = self.r
        forms = [
            f"We aimed to reduce {s['outcome']} on {s['setting']} by {self.pct(20, 60)}% within {r.randint(6, 18)} months.",
            f"Our aim was to increase {s['process']} to {self.pct(80, 98)}% by {self.when()}.",
            f"By {self.when()}, {self.pct(60, 95)}% of patients on {s['setting']} would benefit from {s['change']}.",
            f"The team set out to halve {s['outcome']} without increasing {s['balancing']}.",
        ]
        return " ".join(r.sample(forms, r.randint(1, 2)))

    def background(self, s):
        r = self.r
        parts = [
            f"Before the project, {s['problem']}.",
            f"Staff on {s['setting']} told us that the problem was worst at weekends and during the evening.",
            f"A baseline audit of {r.randint(30, 400)} sets of notes showed that only {self.pct(15, 60)}% met the standard.",
            f"Incident reports had highlighted the issue {r.randint(3, 40)} times in the previous year.",
            f"Patients and families described the experience as confusing and slow, and a carers' group asked us to look at it.",
            f"The local system had made {s['topic_name'].lower()} a priority, which gave us a mandate and some protected time.",
            f"A process mapping session with {s['team']} found {r.randint(6, 30)} separate steps, of which {r.randint(2, 9)} added no value.",
        ]
        return " ".join(r.sample(parts, r.randint(3, len(parts))))

    def pdsa(self, s, k):
        r = self.r
        change = self.c(CHANGES) if r.random() < 0.4 else s["change"]
        plan = self.c([
            f"we planned to test {change} with {self.c(TEAMS)} on a single shift",
            f"we predicted that {change} would improve {self.c(PROCESSES)} within a fortnight",
            f"we tested {change} for {r.randint(2, 4)} weeks on one bay",
            f"we adapted {change} after feedback from {self.c(TEAMS)}",
        ])
        study = self.c([
            f"The data showed {self.c(PROCESSES)} rising from {self.pct(10, 50)}% to {self.pct(55, 95)}%",
            f"Completion was patchy at first, at around {self.pct(20, 60)}%, mostly because of staffing",
            f"Feedback from staff was positive, although night shifts found it harder to fit in",
            f"Patients noticed the difference, and {r.randint(5, 40)} of them commented on it in the feedback cards",
            f"The change made little difference on its own, which told us we had the wrong driver",
        ])
        act = self.c(["so we adopted it", "so we adapted the wording and tested again", "so we abandoned it and went back to the driver diagram", "so we scaled it up to the whole ward", "so we spread it to a second team"])
        return f"In PDSA cycle {k}, {plan}. {study}, {act}."

    def what_we_did(self, s):
        r = self.r
        cycles = [self.pdsa(s, k) for k in range(1, r.randint(2, 6) + 1)]
        intro = self.c([
            f"We formed a small improvement team of {s['team']}, met weekly for half an hour and used the Model for Improvement.",
            f"Using a driver diagram, {s['team']} identified {r.randint(3, 7)} secondary drivers and a long list of change ideas.",
            f"The work followed the Model for Improvement, with {s['team']} leading the testing and a coach supporting them.",
        ])
        return intro + " " + " ".join(cycles)

    def measures(self, s):
        r = self.r
        return (
            f"Our outcome measure was {s['outcome']}. Process measures included {s['process']} and {self.c(PROCESSES)}. "
            f"As a balancing measure we tracked {s['balancing']}. Data were collected {self.c(['daily', 'weekly', 'every shift', 'monthly'])} "
            f"by {self.c(TEAMS)} and plotted on {self.c(CHARTS)}, with the median taken from {r.randint(8, 20)} baseline points."
        )

    def results(self, s):
        r = self.r
        before, after = self.pct(30, 80), self.pct(5, 29)
        parts = [
            f"After {r.randint(6, 30)} weeks the chart showed a shift of {r.randint(6, 12)} consecutive points below the baseline median.",
            f"{s['outcome'][0].upper() + s['outcome'][1:]} improved from a baseline median of {before} to {after}.",
            f"{s['process'][0].upper() + s['process'][1:]} reached {self.pct(80, 99)}% and has been sustained for {r.randint(3, 14)} months.",
            f"There was no rise in {s['balancing']}.",
            f"Staff confidence scores rose from {r.randint(2, 5)} to {r.randint(6, 9)} out of ten.",
            f"We estimate the change released {r.randint(40, 900)} bed days over the year.",
        ]
        return " ".join(r.sample(parts, r.randint(2, len(parts))))

    def lessons(self, s):
        return " ".join(self.r.sample(LESSONS, self.r.randint(2, 5)))

    def contact(self, s):
        return self.c([
            "Contact the quality improvement team through the Qnet network to ask about this work.",
            "We are happy to share our driver diagram, measures and PDSA templates; message the team on Qnet.",
            "Ask for the improvement lead via the organisation's QI hub; resources are available on request.",
        ])

    def paragraph(self, s):
        r = self.r
        kind = r.randrange(7)
        text = [self.aim, self.background, self.what_we_did, self.measures, self.results, self.lessons, self.what_we_did][kind](s)
        if r.random() < 0.3:
            text = self.c(CONNECTIVES) + " " + text[0].lower() + text[1:]
        return text

    def body(self, s, target):
        headings = ["Aim", "Background", "What we did", "Measures", "Results", "Lessons learned", "Next steps", "Spread"]
        out, size = [], 0
        while size < target:
            p = self.paragraph(s)
            if self.r.random() < 0.25:
                p = f"## {self.c(headings)}\n\n{p}"
            out.append(p)
            size += len(p) + 2
        text = "\n\n".join(out)
        return text[:10_000].rsplit(" ", 1)[0] if len(text) > 10_000 else text


def scenario(rng, topics, org_ids):
    """The facts one case study is about."""
    chosen = rng.sample(topics, rng.randint(1, 3))
    return {
        "setting": rng.choice(SETTINGS), "team": rng.choice(TEAMS), "problem": rng.choice(PROBLEMS),
        "change": rng.choice(CHANGES), "outcome": rng.choice(OUTCOMES), "process": rng.choice(PROCESSES),
        "balancing": rng.choice(BALANCING), "topics": [t["id"] for t in chosen], "topic_name": chosen[0]["name"],
        "organisation_id": rng.choice(org_ids),
    }


def case_study_body(seed, topics, org_ids):
    rng = random.Random(seed)
    s = scenario(rng, topics, org_ids)
    p = Prose(rng)
    verb = rng.choice(["Reducing", "Improving", "Testing", "Spreading", "Sustaining", "Co-designing"])
    title = rng.choice([
        f"{verb} {s['outcome']} on {s['setting']}",
        f"{s['change'][0].upper() + s['change'][1:]}: {rng.randint(2, 6)} PDSA cycles on {s['setting']}",
        f"How {s['team'].split(',')[0]} tackled why {s['problem']}",
        f"{verb} care on {s['setting']} with {s['change']}",
    ])[:200]
    doc = {
        "title": title,
        "body": p.body(s, rng.randint(2_000, 10_000)),
        "organisation_id": s["organisation_id"],
        "topics": s["topics"],
    }
    if rng.random() < 0.85:
        doc["summary"] = (f"{s['team'][0].upper() + s['team'][1:]} on {s['setting']} tested {s['change']} because {s['problem']}. "
                          + p.results(s))[:1000]
    builders = {"aim": p.aim, "background": p.background, "what_we_did": p.what_we_did, "measures": p.measures,
                "results": p.results, "lessons_learned": p.lessons, "contact": p.contact}
    names = rng.sample(list(builders), rng.randint(0, len(builders)))
    if names:
        doc["sections"] = {n: builders[n](s)[:20_000] for n in names}
    return doc


# -------------------------------------------------------------------- seeding


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    ap.add_argument("--out", required=True, help="directory for the request mixes")
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--post-bodies", type=int, default=300)
    a = ap.parse_args()
    tok = {k: os.environ[f"QNET_{k.upper()}_TOKEN"] for k in ("admin", "moderator", "member")}
    api = Client(a.base)
    os.makedirs(a.out, exist_ok=True)

    _, t = api.call("GET", "/topics")
    topics = t["items"]

    started = time.monotonic()
    org_ids = []
    for name, kind, domains in ORGANISATIONS:
        _, o = api.call("POST", "/organisations", {"name": name, "type": kind, "email_domains": domains},
                        token=tok["admin"], expect=(201,))
        org_ids.append(o["id"])
    print(f"  {len(org_ids)} organisations, {len(topics)} topics", flush=True)

    done = [0]
    lock = threading.Lock()

    def seed_one(i):
        body = case_study_body(a.seed * 1_000_003 + i, topics, org_ids)
        # Submitted by the moderator: only a moderator may name any organisation.
        _, cs = api.call("POST", "/case-studies", body, token=tok["moderator"], expect=(201,))
        if cs.get("hold"):
            raise ApiError(f"case study {i} was held by the patient data guard: {cs['hold']}")
        # Publishing names the version reviewed (If-Match is required).
        api.call("POST", f"/case-studies/{cs['id']}/publish", token=tok["moderator"], expect=(200,),
                 headers={"If-Match": f'"{cs["version"]}"'})
        with lock:
            done[0] += 1
            if done[0] % 1000 == 0:
                el = time.monotonic() - started
                print(f"  {done[0]:>6} published ({done[0] / el:.0f}/s)", flush=True)
        return cs["id"], len(body["body"])

    with ThreadPoolExecutor(a.threads) as pool:
        seeded = list(pool.map(seed_one, range(a.count)))
    ids = [i for i, _ in seeded]
    sizes = sorted(n for _, n in seeded)
    el = time.monotonic() - started
    print(f"  {len(ids)} case studies created and published in {el:.1f} s ({2 * len(ids) / el:.0f} requests/s); "
          f"body sizes {sizes[0]}..{sizes[-1]} bytes, median {sizes[len(sizes) // 2]}", flush=True)

    # Real cursors: walk the published lists page by page.
    def walk(query, pages):
        out, cursor = [], None
        for _ in range(pages):
            path = "/case-studies?limit=20" + (f"&{query}" if query else "") + (f"&cursor={cursor}" if cursor else "")
            _, page = api.call("GET", path)
            cursor = page.get("next_cursor")
            if not cursor:
                break
            out.append("/case-studies?limit=20" + (f"&{query}" if query else "") + f"&cursor={urllib.parse.quote(cursor)}")
        return out

    filters = [("", 150)] + [(f"topic={urllib.parse.quote(t['id'])}", 12) for t in topics] + [(f"organisation_id={o}", 12) for o in org_ids]
    with ThreadPoolExecutor(a.threads) as pool:
        cursor_paths = [p for ps in pool.map(lambda f: walk(*f), filters) for p in ps]
    print(f"  {len(cursor_paths)} cursors collected from {len(filters)} lists", flush=True)

    # The list mix: a quarter each of no filter, topic, organisation, cursor.
    rng = random.Random(a.seed)
    mix = []
    for _ in range(500):
        mix.append("/case-studies?limit=20")
        mix.append(f"/case-studies?limit=20&topic={rng.choice(topics)['id']}")
        mix.append(f"/case-studies?limit=20&organisation_id={rng.choice(org_ids)}")
        mix.append(rng.choice(cursor_paths))
    rng.shuffle(mix)
    for p in rng.sample(mix, 40):  # every kind answers 200 before it is replayed
        api.call("GET", p)
    with open(os.path.join(a.out, "list_paths.txt"), "w") as f:
        f.write("\n".join(mix) + "\n")
    with open(os.path.join(a.out, "get_paths.txt"), "w") as f:
        f.write("\n".join(f"/case-studies/{i}" for i in ids) + "\n")
    with open(os.path.join(a.out, "health_paths.txt"), "w") as f:
        f.write("/health\n")
    with open(os.path.join(a.out, "post_bodies.jsonl"), "w") as f:
        for i in range(a.post_bodies):
            f.write(json.dumps(case_study_body(a.seed * 7 + 1_000_000_000 + i, topics, org_ids)) + "\n")
    print(f"  request mixes written: {len(mix)} list paths ({len(set(mix))} distinct), {len(ids)} ids, "
          f"{a.post_bodies} POST bodies", flush=True)


if __name__ == "__main__":
    # Stop at once on Ctrl-C: the pool would otherwise drain its whole queue first.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: os._exit(130))
    try:
        main()
    except ApiError as e:
        print(f"seed.py: {e}", file=sys.stderr)
        sys.exit(1)
