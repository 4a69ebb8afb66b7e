# ruff: noqa: E501  (chat text and pasted code lines are kept as a user would type them)
"""Operations logs: tool-assisted workflows, credentials in config, the logs that should be
refused (nothing reusable), and list tasks that reach the miner's program solver."""

from __future__ import annotations

import base64

from tests.privacy.corpus.registry import corpus_log
from tests.privacy.corpus.values import Vault

F = "```"


@corpus_log(
    "ops-rollback-runbook", "devops", "roll back a bad deploy: check, drain, revert, verify"
)
def _(v: Vault):
    login = v.login("deploy", "app-03.eu-west.kvasir-internal.net")
    ip1, ip2 = v.ip(), v.ip()
    name = v.person("Astrid Nøkleby")
    mail = v.email("astrid.nokleby", "kvasir.no")
    return [
        ("user", f"Release 4.2 is throwing 500s, roll it back. I'm on call ({name}, {mail})."),
        (
            "tool",
            f"$ ssh {login} 'systemctl status shop'\nactive (running) since 09:02; errors 37%",
        ),
        (
            "assistant",
            "Error rate confirms the release is bad. Next I take the node out of the load "
            "balancer so no new requests reach it while it is rolled back.",
        ),
        ("tool", f"$ lbctl drain {ip1}\ndrained {ip1} (0 active connections)"),
        (
            "assistant",
            "Drained. Now I switch the symlink back to the previous release and restart the "
            "service, then watch the error rate before putting it back.",
        ),
        (
            "tool",
            f"$ ssh {login} 'ln -sfn /srv/releases/4.1 /srv/current && systemctl restart shop'\nok",
        ),
        (
            "assistant",
            f"Restarted on 4.1. Health check passes and errors are at 0.1%. I re-enabled the "
            f"node and the second one ({ip2}) is next; write a short incident note afterwards.",
        ),
        ("user", "Thanks, all good."),
    ]


@corpus_log("ops-rotate-aws-keys", "devops", "rotate cloud access keys without downtime")
def _(v: Vault):
    old_a, old_s = v.aws()
    new_a, new_s = v.aws()
    name = v.person("Siddharth Iyengar")
    return [
        (
            "user",
            f"Security flagged our access key {old_a} (secret {old_s}) as 400 days old. How do I "
            f"rotate it without breaking the upload job? — {name}",
        ),
        (
            "assistant",
            "Rotate with two keys overlapping:\n1. Create a second key for the same user.\n"
            "2. Deploy it to every consumer (secret store, CI variables).\n3. Watch "
            "`aws iam get-access-key-last-used` on the old key until it stays unused.\n"
            "4. Deactivate the old key, wait a day, then delete it.",
        ),
        (
            "user",
            f"New key is {new_a} / {new_s}, deployed. Old one shows last used 3 days ago.",
        ),
        (
            "assistant",
            "Then something still uses the old key: search the CI variables and cron hosts "
            "for it, update them, and deactivate only when last-used stops moving. Do not paste "
            "new secrets into chats either.",
        ),
        ("user", "Found a forgotten cron job; old key deactivated."),
    ]


@corpus_log("ops-onboarding-uk", "hr", "an onboarding checklist for a new employee")
def _(v: Vault):
    name = v.person("Olamide Fashola-Brierley")
    nino = v.nino()
    iban = v.iban("GB")
    addr, pc = v.address("Albany Road"), v.postcode()
    dob = v.dob("uk")
    return [
        (
            "user",
            f"New starter Monday: {name}, NI {nino}, DOB {dob}, salary to {iban}, lives at "
            f"{addr}, {pc}. What do I need to set up before day one?",
        ),
        (
            "assistant",
            "Before day one: contract and right-to-work check; payroll record (NI number, tax "
            "code from the P45 or starter checklist, bank details); pension auto-enrolment; "
            "laptop, accounts and building pass; a buddy and a first-week plan with meetings "
            "booked. Store identity documents in the HR system only, not in email.",
        ),
        ("user", "Checklist saved for next time."),
    ]


@corpus_log("ops-ssh-config", "devops", "an ssh config with a jump host")
def _(v: Vault):
    bastion = v.host("bastion.mwangi-family.net")
    ip = v.ip()
    login = v.login("wanjiru", bastion)
    name = v.person("Wanjiru Mwangi")
    return [
        (
            "user",
            f"I do `ssh {login}` then `ssh admin@{ip}` every time. Can ssh do it in one step? "
            f"— {name}",
        ),
        (
            "assistant",
            "Yes, with ProxyJump in ~/.ssh/config:\n"
            f"{F}sshconfig\nHost bastion\n    HostName bastion.example.net\n    User jump-user\n\n"
            "Host inner\n    HostName 10.0.0.5\n    User admin\n    ProxyJump bastion\n"
            f"{F}\nThen `ssh inner` goes through the bastion. Use keys with a passphrase "
            "and an agent, not passwords.",
        ),
        ("user", "Works, and scp goes through too."),
    ]


@corpus_log(
    "ops-wireguard", "devops", "diagnose a WireGuard tunnel that connects but passes no traffic"
)
def _(v: Vault):
    priv = v.plant("PRIVATE_KEY", "eL3q+Vh8pXk2sT9wYbN4cJ7mR1uZ6aD0fG5hK8oQ2iM=")
    ip = v.ip(private=False)
    name = v.person("Bogdan Ionescu")
    return [
        (
            "user",
            "Handshake succeeds but no traffic. Config:\n"
            f"{F}ini\n[Interface]\nPrivateKey = {priv}\nAddress = 10.8.0.2/24\n\n[Peer]\n"
            f"Endpoint = {ip}:51820\nAllowedIPs = 10.8.0.0/24\n{F}\n{name}",
        ),
        (
            "assistant",
            "A handshake with no traffic is usually routing or forwarding: check AllowedIPs "
            "covers what you want to reach (0.0.0.0/0 for everything), enable "
            "net.ipv4.ip_forward on the server, and add a NAT rule for the tunnel subnet. "
            "`wg show` should show the transfer counters growing. Regenerate the private key: "
            "it was posted here.",
        ),
        ("user", "ip_forward was off. Fixed."),
    ]


@corpus_log("ops-coldkey-backup", "crypto", "a safe backup procedure for a wallet seed phrase")
def _(v: Vault):
    words = v.mnemonic()
    addr = v.ss58(words)
    pw = v.password()
    name = v.person("Kwabena Asante-Darko")
    return [
        (
            "user",
            f"Before I reinstall my server: my coldkey {addr} seed is '{words}' and the keyfile "
            f"password is {pw}. What's the safest way to back them up? — {name}",
        ),
        (
            "assistant",
            "You have just exposed both: treat that wallet as compromised, create a new one "
            "offline and move the funds. For the new seed: write it on paper or steel, never "
            "photograph it or store it online; keep two copies in separate places; test a "
            "restore on an offline machine; keep the keyfile password in a password manager, "
            "separate from the seed.",
        ),
        ("user", "Funds moved, new seed on steel."),
    ]


@corpus_log("ops-crm-import", "data_analysis", "map a contacts export onto a CRM import template")
def _(v: Vault):
    rows = [
        (v.person("Hélène Dupont-Moreau"), v.email("helene.dupont", "orange.fr"), v.phone("es")),
        (v.person("Đỗ Minh Tuấn"), v.email("tuan.do", "fpt.vn"), v.phone("vn")),
        (v.person("Gülşen Aydın"), v.email("gulsen.aydin", "hotmail.com.tr"), v.phone("tr")),
        (v.person("Seren Vaughan-Pugh"), v.email("seren.vp", "sky.com"), v.phone("uk")),
    ]
    body = "\n".join(f'"{n}";{e};{p}' for n, e, p in rows)
    return [
        (
            "user",
            f"Our CRM wants first_name,last_name,email,phone_e164. Export:\n{F}csv\n"
            f"full_name;email;phone\n{body}\n{F}\nHow do I convert it?",
        ),
        (
            "assistant",
            "Read with the right delimiter, split names on the first space (and review the "
            "multi-part ones by hand), and normalise phones to E.164 with the phonenumbers "
            "library:\n"
            f"{F}python\nimport csv\n\nimport phonenumbers\n\n"
            "def to_crm_rows(lines, default_region='GB'):\n"
            "    for row in csv.DictReader(lines, delimiter=';'):\n"
            "        first, _, last = row['full_name'].partition(' ')\n"
            "        number = phonenumbers.parse(row['phone'], default_region)\n"
            "        yield {'first_name': first, 'last_name': last, 'email': row['email'].lower(),\n"
            "               'phone_e164': phonenumbers.format_number(\n"
            f"                   number, phonenumbers.PhoneNumberFormat.E164)}}\n{F}",
        ),
        ("user", "Imported 2,300 contacts."),
    ]


@corpus_log("ops-password-policy", "security", "rules for a password strength check")
def _(v: Vault):
    p1 = v.password()
    p2 = v.password("letmein2024")
    p3 = v.password("Ch@rlotte#1987!")
    name = v.person("Charlotte Pennington-Rowse")
    return [
        (
            "user",
            f'Our signup accepted `{p2}` and {p1}. My own is "{p3}". What rules should the '
            f"strength check use? ({name})",
        ),
        (
            "assistant",
            "Follow NIST SP 800-63B: minimum 12 characters (allow 64+), no composition rules, "
            "reject passwords found in breach lists (check k-anonymously against the Pwned "
            "Passwords range API), reject the user's name or e-mail inside the password, allow "
            "paste and password managers, and rate-limit attempts instead of forcing rotation.",
        ),
        ("user", "Implemented the breach-list check."),
    ]


@corpus_log("ops-k8s-secret", "devops", "read a Kubernetes secret value and stop committing it")
def _(v: Vault):
    pw = v.password()
    v.items.remove(("PASSWORD", pw))  # only its base64 form is in the log
    b64 = base64.b64encode(pw.encode()).decode()
    v.plant("PASSWORD", b64)
    host = v.host("mysql-0.mysql.ottesen-prod.svc.cluster.local")
    name = v.person("Ragnhild Ottesen")
    return [
        (
            "user",
            f"This is committed in our repo:\n{F}yaml\napiVersion: v1\nkind: Secret\nmetadata:\n"
            f"  name: db\ndata:\n  password: {b64}\n  host: {host}\n{F}\n"
            f"Is base64 encryption enough? — {name}",
        ),
        (
            "assistant",
            "Base64 is an encoding, not encryption: anyone with the repo can read it "
            "(`base64 -d`). Keep secrets out of git: use Sealed Secrets or SOPS to commit "
            "encrypted values, or an external secret store with the External Secrets "
            "operator; rotate the password now and purge it from git history.",
        ),
        ("user", "Moved to SOPS."),
    ]


@corpus_log("ops-sql-migration-conn", "devops", "add a NOT NULL column to a big table safely")
def _(v: Vault):
    pw = v.password()
    host = v.host("pg-orders-1.srv.lindqvist-handel.se")
    conn = f"postgresql://migrator:{pw}@{host}:5432/orders"
    v.plant("URL", conn)
    return [
        (
            "user",
            f"Migration to add `region text NOT NULL DEFAULT 'eu'` to orders (80M rows) locked "
            f"the table for 20 minutes. We connect with {conn}. How to do it safely?",
        ),
        (
            "assistant",
            "On PostgreSQL 11+ adding a column with a constant default is metadata-only; the "
            "lock came from something else, usually a long transaction holding the table. "
            "Safe pattern:\n"
            f"{F}sql\nSET lock_timeout = '5s';\n"
            "ALTER TABLE orders ADD COLUMN region text DEFAULT 'eu';\n"
            "-- backfill old rows in batches if needed, then:\n"
            "ALTER TABLE orders ADD CONSTRAINT region_nn CHECK (region IS NOT NULL) NOT VALID;\n"
            f"ALTER TABLE orders VALIDATE CONSTRAINT region_nn;\n{F}\nRetry on lock timeout "
            "instead of queueing behind long queries.",
        ),
        ("user", "Ran in 40 ms this time."),
    ]


@corpus_log(
    "task-dedupe-list", "coding", "remove repeated numbers from a list, keeping first order"
)
def _(v: Vault):
    name = v.person("Małgorzata Szymańska")
    mail = v.email("gosia.szymanska", "interia.pl")
    return [
        ("user", f"Hi, {name} ({mail}). Remove duplicates, keep order: [3, 1, 3, 2, 1]"),
        ("assistant", "[3, 1, 2]"),
        ("user", "And [5, 5, 4, 5, 6]"),
        ("assistant", "[5, 4, 6]"),
        ("user", "And [9, 8, 9, 7, 8, 7]"),
        ("assistant", "[9, 8, 7]"),
    ]


@corpus_log("task-top-three", "coding", "the three largest numbers of a list, largest first")
def _(v: Vault):
    name = v.person("Thorbjørn Ødegård")
    tel = v.phone("se")
    return [
        (
            "user",
            f"{name} here, call {tel} if unclear. Three largest of [5, 1, 9, 3], biggest first",
        ),
        ("assistant", "[9, 5, 3]"),
        ("user", "Same for [2, 8, 4, 7]"),
        ("assistant", "[8, 7, 4]"),
        ("user", "And [10, 3, 6, 1, 12]"),
        ("assistant", "[12, 10, 6]"),
    ]


@corpus_log(
    "refuse-save-my-details", "personal", "nothing: the user stores their own data", refuse=True
)
def _(v: Vault):
    name = v.person("Niamh Ó Súilleabháin")
    tel = v.phone("uk")
    pp = v.passport("uk")
    nino = v.nino()
    return [
        ("user", f"Save these for me: {name}, {tel}, passport {pp}, NI {nino}."),
        ("assistant", "Saved."),
    ]


@corpus_log(
    "refuse-what-is-my-key", "personal", "nothing: the user asks for their own key", refuse=True
)
def _(v: Vault):
    key = v.openai()
    gh = v.github()
    return [
        ("user", "What were my keys again?"),
        ("assistant", f"OpenAI: {key}\nGitHub: {gh}"),
        ("user", "ta"),
    ]


@corpus_log("refuse-chitchat", "personal", "nothing: a greeting and contact details", refuse=True)
def _(v: Vault):
    name = v.person("Kasia")
    tel = v.phone("pl")
    mail = v.email("kasia.zielinska", "onet.pl")
    return [
        ("user", f"hey it's {name}! new number {tel}, mail {mail}"),
        ("assistant", f"Hi {name}! Noted."),
    ]
