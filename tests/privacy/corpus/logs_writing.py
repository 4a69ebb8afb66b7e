"""Writing and communication logs: the reusable part is the structure of the text."""

from __future__ import annotations

from tests.privacy.corpus.registry import corpus_log
from tests.privacy.corpus.values import Vault


@corpus_log("write-landlord-repair-cy", "communication", "a firm, polite repair request letter")
def _(v: Vault):
    me, partner = v.person("Carys Rhiannon Evans"), v.person("Osian")
    addr, pc = v.address("Ffordd Pengam"), v.postcode()
    landlord = v.person("Mr Gareth Prosser-Hale")
    tel = v.phone("uk_local")
    return [
        (
            "user",
            f"Can you help me write to my landlord {landlord}? The boiler at {addr}, Cardiff "
            f"{pc} has been broken for 3 weeks, {partner} and I have no hot water and he ignores "
            f"texts to {tel}. I want it firm but polite and with a deadline.",
        ),
        (
            "assistant",
            "Structure that works for repair requests:\n1. State the problem and when it started.\n"
            "2. List the dates you already reported it.\n3. Name the landlord's legal duty to "
            "repair heating and hot water.\n4. Give a clear deadline (e.g. 7 days) and say what "
            "you will do next (contact the council's housing team).\n5. Ask for written "
            "confirmation. Keep it factual, no emotion, and keep a copy.",
        ),
        (
            "user",
            f"Sent it to {v.email('gareth.prosserhale', 'prosser-lettings.co.uk')}. Thanks — {me}",
        ),
    ]


@corpus_log(
    "write-cover-letter-pt", "communication", "tighten a cover letter around one achievement"
)
def _(v: Vault):
    name = v.person("Beatriz Conceição Antunes")
    mail = v.email("beatriz.antunes", "outlook.pt")
    tel = v.phone("pt")
    link = v.profile("linkedin.com/in/beatriz-conceicao-antunes-7a1b22")
    return [
        (
            "user",
            f"Please make my cover letter shorter. Header: {name} | {mail} | {tel} | {link}. "
            "Body: I have worked as a data analyst for six years, I like numbers, I built a "
            "churn dashboard that cut churn by 12%, I am a team player and hard working...",
        ),
        (
            "assistant",
            "Lead with the one result that matters and cut the adjectives:\n"
            "- Opening: the role you want and the single strongest result (the churn dashboard, "
            "12% lower churn).\n- Middle: two sentences on how you did it (data, tools, who you "
            "worked with).\n- Close: why this company, and an invitation to talk.\n"
            "Drop 'team player' and 'hard working'; show them through the result instead.",
        ),
        (
            "user",
            "Much better, 180 words now. Should I add my portfolio "
            f"{v.profile('github.com/beatriz-antunes')} too?",
        ),
    ]


@corpus_log(
    "write-itinerary-vn", "travel", "summarise a flight booking into a one-screen itinerary"
)
def _(v: Vault):
    name = v.person("Lê Hoàng Phúc")
    pnr = v.pnr()
    fl1, fl2 = v.flight("VN"), v.flight("QR")
    pp = v.passport("pl")
    mail = v.email("phuc.le", "yahoo.com.vn")
    return [
        (
            "user",
            f"Booking confirmation for {name}: PNR {pnr}. Outbound {fl1} Hanoi-Doha 14 Apr, "
            f"connecting {fl2} Doha-Warsaw. Passport {pp}. Receipt sent to {mail}. Make me a "
            "short itinerary I can read on my phone.",
        ),
        (
            "assistant",
            "A phone-friendly itinerary works best as one block per leg:\n"
            "- Leg: date, flight number, from -> to, departure and arrival local times.\n"
            "- Connection: minimum connection time and terminal change.\n"
            "- Documents: passport validity (6 months), visa or transit rules.\n"
            "- Booking reference on top so check-in desks can find it.\nKeep times in local "
            "time and say so.",
        ),
        ("user", "Perfect, saved as a note."),
    ]


@corpus_log("write-discharge-summary", "health", "explain a discharge letter in plain language")
def _(v: Vault):
    name = v.person("Bronwen Ellis-Vaughan")
    nhs = v.nhs()
    dob = v.dob("uk")
    med = v.medical("NSTEMI treated with a drug-eluting stent to the LAD")
    drug = v.medical("ticagrelor 90 mg twice daily")
    return [
        (
            "user",
            f"My mum {name} (DOB {dob}, NHS {nhs}) came home with a letter saying {med}, and "
            f"{drug} for 12 months. Can you explain it in plain English for the family?",
        ),
        (
            "assistant",
            "A plain-language explanation of a discharge letter can follow this order:\n"
            "1. What happened (a heart attack caused by a narrowed artery).\n2. What was done "
            "(a small mesh tube keeps the artery open).\n3. The medicines, what each one is "
            "for and for how long; never stop the blood thinners early.\n4. Warning signs that "
            "mean calling 999.\n5. Follow-up appointments and cardiac rehab.",
        ),
        ("user", "That helped the whole family, thank you."),
    ]


@corpus_log(
    "write-insurance-claim", "communication", "a clear insurance claim after a car accident"
)
def _(v: Vault):
    name = v.person("Ahmet Korkmaz")
    plate, other = v.plate(), v.plate()
    policy = v.plant("PASSWORD", "POL-77-K#4410-AK")  # the portal login doubles as policy ref
    addr = v.address("Llandaff Road")
    return [
        (
            "user",
            f"Someone reversed into my car ({plate}) outside {addr} yesterday; their plate was "
            f"{other}. My insurer's portal login is {policy}. Help me write the claim "
            f"description. — {name}",
        ),
        (
            "assistant",
            "A claim description should be factual and in time order:\n- Date, time and exact "
            "place.\n- What each vehicle was doing (yours parked, theirs reversing).\n- The "
            "damage you can see, with photos.\n- The other driver's details and any witnesses.\n"
            "- Whether police were called. Avoid admitting or assigning blame beyond the facts. "
            "And never share a portal login; change it.",
        ),
        ("user", "Claim submitted."),
    ]


@corpus_log("write-bank-dispute-pl", "finance", "dispute an unrecognised card charge")
def _(v: Vault):
    name = v.person("Katarzyna Wójcik-Zięba")
    card = v.card("visa")
    iban = v.iban("PL")
    tel = v.phone("pl")
    return [
        (
            "user",
            f"There's a 249.99 EUR charge on my card {card} I never made. Account {iban}, phone "
            f"{tel}. What should I write to the bank? {name}",
        ),
        (
            "assistant",
            "For a card dispute, write: the transaction date, amount and merchant name as shown; "
            "that you did not authorise it and still hold the card; that you ask for a "
            "chargeback and a new card; and the date you first noticed it. Ask for a reference "
            "number. Freeze the card in the app first.",
        ),
        ("user", "Bank refunded it provisionally."),
    ]


@corpus_log(
    "write-security-questions", "security", "choose security answers that cannot be guessed"
)
def _(v: Vault):
    mail = v.email("tamsin.polglase", "btinternet.com")
    name = v.person("Tamsin Polglase")
    pet = v.security_answer("Mr Whiskerton")
    town = v.security_answer("Mevagissey")
    pw = v.password()
    return [
        (
            "user",
            f"Setting up account recovery for {mail}. My answers would be first pet "
            f"'{pet}', birth town '{town}', and password `{pw}`. Are those safe? — {name}",
        ),
        (
            "assistant",
            "Real answers to security questions are often findable (social media, public "
            "records). Better practice: treat each answer as a second password, generate a "
            "random phrase per question and keep it in your password manager. Use a long "
            "unique passphrase for the account itself and turn on an authenticator app.",
        ),
        ("user", "Changed all three, thanks."),
    ]


@corpus_log(
    "write-meeting-notes", "communication", "turn raw meeting notes into decisions and actions"
)
def _(v: Vault):
    a, b, c = v.person("Radka"), v.person("Wojciech"), v.person("Maëlle")
    mail = v.email("radka.novotna", "helix-labs.eu")
    return [
        (
            "user",
            f"Notes from today: {a} thinks we should delay the release, {b} disagrees, "
            f"{c} will check the crash numbers by Friday. {b} to email {mail} with the "
            "decision. Release moved to the 14th. Summarise please.",
        ),
        (
            "assistant",
            "Meeting summaries are most useful in three parts:\n**Decisions**: the release moves "
            "to the 14th.\n**Actions**: one line each with owner and due date (check crash "
            "numbers by Friday; email the decision).\n**Open questions**: what would make the "
            "team delay again.\nPut actions first if people only skim.",
        ),
        (
            "user",
            "Posted in the channel, recording at "
            f"{v.plant('URL', 'https://drive.helix-labs.eu/u/radka.novotna/rec-0311')}.",
        ),
    ]


@corpus_log("write-maintenance-notice", "communication", "announce planned downtime to users")
def _(v: Vault):
    host, host2 = (
        v.host("pg-primary-ams3.helix-labs.internal"),
        v.host("grafana.ops.helix-labs.internal"),
    )
    ip = v.ip()
    name = v.person("Jens Haugland")
    return [
        (
            "user",
            f"We're failing over {host} ({ip}) on Saturday 02:00-03:00 UTC. Dashboards on "
            f"{host2}. Write the user-facing announcement. Signed {name}, SRE.",
        ),
        (
            "assistant",
            "A good downtime notice says, in order: what will be unavailable (in user terms, "
            "not host names), when (with time zone and duration), why in one line, what users "
            "should do before and after, and where status updates appear. Send it a week ahead "
            "and again one hour before.",
        ),
        ("user", f"Posted. I'll run the failover as {v.login('jhaugland', host)}."),
    ]


@corpus_log("write-translate-pt", "communication", "translate a message and keep its register")
def _(v: Vault):
    name = v.person("Conceição Magalhães")
    tel = v.phone("pt")
    addr = v.address("Rua da Boavista")
    return [
        (
            "user",
            f"Translate to European Portuguese, formal: 'Dear Mrs {name.split()[-1]}, the "
            f"parcel will arrive at {addr} on Tuesday between 9 and 12. If you are not home "
            f"please call {tel}.' It's for {name}.",
        ),
        (
            "assistant",
            "For formal European Portuguese use 'Exma. Senhora' and the third person "
            "(a senhora), not 'você' or 'tu'; put the date before the time window; keep the "
            "phone number as written.",
        ),
        ("user", "Obrigada!"),
    ]


@corpus_log(
    "write-reference-letter", "communication", "a reference letter built on specific evidence"
)
def _(v: Vault):
    name = v.person("Đặng Thùy Trang")
    mail = v.email("trang.dang", "saigonsoft.vn")
    me = v.person("Henrik Lindqvist")
    return [
        (
            "user",
            f"I'm {me}, and I need a reference for my former intern {name} ({mail}) applying "
            "for a master's. She rewrote our ETL tests and found two data-loss bugs.",
        ),
        (
            "assistant",
            "Strong references follow: how you know the candidate and for how long; two or three "
            "specific achievements with their effect (rewrote the ETL tests, found two bugs "
            "that lost data); a comparison with peers; a clear recommendation; your contact "
            "details for follow-up.",
        ),
        (
            "user",
            f"Sent, thank you. Her portfolio {v.profile('trangdang.dev/projects')} is linked.",
        ),
    ]


@corpus_log("write-customer-apology", "support", "an apology reply to a customer complaint")
def _(v: Vault):
    name = v.person("Yusuf Demirci")
    mail = v.email("yusuf.demirci", "gmail.com")
    order = v.plant("ORDER_ID", "ORD-7Q4K9X")
    addr = v.address("Hoogstraat")
    return [
        (
            "user",
            f"Customer {name} ({mail}) says order {order} arrived broken at {addr}, Rotterdam. "
            "Draft a reply that apologises and offers a replacement.",
        ),
        (
            "assistant",
            "A good apology reply: thank them and name the problem; apologise without excuses; "
            "say exactly what you will do (replacement shipped within 2 days, no need to "
            "return the broken item); give a direct contact; close warmly. Keep it under 120 "
            "words.",
        ),
        ("user", "Customer replied happy."),
    ]


@corpus_log("write-visa-checklist", "travel", "a document checklist for a visa application")
def _(v: Vault):
    name = v.person("Arjun Subramaniam")
    pp = v.passport("in")
    dob = v.dob("iso")
    addr, pc = v.address("Cowley Road"), v.postcode()
    return [
        (
            "user",
            f"Applying for a Schengen visa: {name}, passport {pp}, born {dob}, living at {addr}, "
            f"Oxford {pc}. What documents should I prepare?",
        ),
        (
            "assistant",
            "Schengen checklist: application form signed; passport valid 3 months beyond the "
            "trip with two blank pages; two photos to ICAO spec; travel insurance of at least "
            "EUR 30,000; flight and hotel bookings; bank statements for 3 months; proof of "
            "residence; employer letter. Apply at the consulate of the main destination.",
        ),
        ("user", "Appointment booked."),
    ]


@corpus_log("write-wedding-toast", "communication", "structure a short wedding toast")
def _(v: Vault):
    a, b = v.person("Gwion Tudur"), v.person("Elif Şahin")
    place = v.plant("ADDRESS", "Plas Glyn-y-Weddw")
    return [
        (
            "user",
            f"I'm best man for {a} and {b}, reception at {place}. Need a 3 minute toast, "
            "funny but not embarrassing.",
        ),
        (
            "assistant",
            "Three-minute toast structure: 1) who you are and how you know the groom (15 s); "
            "2) one short story that shows his character (60 s); 3) how the couple met and what "
            "changed in him (45 s); 4) something kind about the partner (30 s); 5) raise the "
            "glass with both names. One story, not five; no exes.",
        ),
        ("user", "Got big laughs!"),
    ]


@corpus_log("write-gdpr-request", "communication", "a data subject access request letter")
def _(v: Vault):
    name = v.person("Aleksandra Dąbrowska")
    mail = v.email("ola.dabrowska", "wp.pl")
    addr, pc = v.address("Kingsland Road"), v.postcode()
    cust = v.ssn()
    return [
        (
            "user",
            f"Write a GDPR access request to a gym that keeps emailing {mail}. My details: "
            f"{name}, {addr}, London {pc}; they also have my old US SSN {cust} from when I "
            "lived in Boston.",
        ),
        (
            "assistant",
            "A subject access request should: cite Article 15 UK GDPR; ask for all personal "
            "data, the purposes, recipients, retention period and source; give enough details "
            "to identify you (not more); note the one-month deadline; and ask them to confirm "
            "receipt. You can add an erasure request under Article 17 in the same letter.",
        ),
        ("user", "Sent by email and post."),
    ]
