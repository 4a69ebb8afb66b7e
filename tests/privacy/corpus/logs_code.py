# ruff: noqa: E501  (chat text and pasted code lines are kept as a user would type them)
"""Coding logs: a fix or a function worth sharing, with private values in prose, code and config."""

from __future__ import annotations

from tests.privacy.corpus.registry import corpus_log
from tests.privacy.corpus.values import Vault

F = "```"


@corpus_log(
    "code-slugify-de",
    "coding",
    "slugify a title for URLs, with a length cap",
    examples=[(["Über Straße"], "ueber-strasse"), (["  Hello, World!  "], "hello-world")],
    entrypoint="slugify",
)
def _(v: Vault):
    name = v.person("Jürgen Weiß")
    mail = v.email("juergen.weiss", "weiss-moebel.de")
    key = v.openai()
    tel = v.phone("de")
    return [
        (
            "user",
            f"Hallo, ich bin {name} ({mail}, {tel}). I need a Python function that turns an "
            "article title into a URL slug: lower case, umlauts transliterated (ä -> ae), "
            f"at most 50 characters, no trailing dash. Our OpenAI key is {key} if you need it.",
        ),
        (
            "assistant",
            f"Here is a version without dependencies:\n{F}python\nimport re\nimport unicodedata\n\n"
            f"AUTHOR = '{mail}'\nUMLAUTS = {{'ä': 'ae', 'ö': 'oe', 'ü': 'ue', 'ß': 'ss'}}\n\n"
            "def slugify(title, limit=50):\n"
            "    text = ''.join(UMLAUTS.get(c, c) for c in title.lower())\n"
            "    text = unicodedata.normalize('NFKD', text).encode('ascii', 'ignore').decode()\n"
            "    slug = re.sub(r'[^a-z0-9]+', '-', text).strip('-')\n"
            "    return slug[:limit].rstrip('-')\n"
            f"{F}\nTransliterate first, then drop the remaining accents, then collapse "
            "everything else to single dashes and cut at the limit.",
        ),
        ("user", f"Perfekt, danke! Gruß, {name.split()[0].upper()}"),
    ]


@corpus_log("code-retry-cy", "coding", "retry an HTTP call with exponential backoff and jitter")
def _(v: Vault):
    name = v.person("Siân Llewelyn")
    token = v.github()
    host = v.host("llewelyn-build01.internal.caerdydd.io")
    return [
        (
            "user",
            "Our deploy script calls the GitHub API and sometimes gets 502s. Can you wrap the "
            "call in a retry with exponential backoff? This is what I have:\n"
            f'{F}python\nimport requests\n\nTOKEN = "{token}"\n\n'
            "def get_repo(owner, repo):\n"
            "    r = requests.get(f'https://api.github.com/repos/{owner}/{repo}',\n"
            "                     headers={'Authorization': f'token {TOKEN}'}, timeout=10)\n"
            f"    r.raise_for_status()\n    return r.json()\n{F}\n"
            f"It runs on {host}. Thanks, {name}",
        ),
        (
            "assistant",
            "Retry only on errors that are worth retrying (5xx and connection errors), double "
            "the wait each time and add jitter so parallel jobs do not retry in lockstep:\n"
            f"{F}python\nimport random\nimport time\n\n"
            "def with_backoff(call, attempts=5, base=0.5, cap=8.0):\n"
            "    for attempt in range(attempts):\n"
            "        try:\n"
            "            return call()\n"
            "        except OSError:\n"
            "            if attempt == attempts - 1:\n"
            "                raise\n"
            "            time.sleep(min(cap, base * 2 ** attempt) * random.uniform(0.5, 1.5))\n"
            f"{F}\nUse it as `with_backoff(lambda: get_repo(owner, repo))`. Also move the token "
            "into an environment variable rather than the source file.",
        ),
        ("user", f"SIÂN LLEWELYN here again - works great on {host.split('.')[0]}, diolch!"),
    ]


@corpus_log("code-csv-dedupe-pt", "data_analysis", "deduplicate CSV rows by normalised e-mail")
def _(v: Vault):
    me = v.person("João Gonçalves")
    a, b = v.person("Inês Carvalho"), v.person("Rui Magalhães")
    ea = v.email("ines.carvalho", "gmail.com")
    ea2 = "Ines.Carvalho@GMAIL.com"
    eb = v.email("rmagalhaes", "sapo.pt")
    pa, pb = v.phone("pt"), v.phone("pt")
    return [
        (
            "user",
            "I export our newsletter list every week and people appear twice with different "
            "capitalisation. How do I drop duplicates by e-mail, keeping the newest row? Sample:\n"
            f"{F}csv\nname,email,phone,signed_up\n{a},{ea},{pb},2026-03-02\n"
            f"{b},{eb},{pa},2026-03-04\n{a},{ea2},{pb},2026-05-19\n{F}\n— {me}",
        ),
        (
            "assistant",
            "Normalise the key before comparing (strip and lower-case), sort by date, and keep "
            "the last occurrence:\n"
            f"{F}python\nimport pandas as pd\n\n"
            "def dedupe_by_email(df):\n"
            "    key = df['email'].str.strip().str.lower()\n"
            "    ordered = df.assign(_key=key).sort_values('signed_up')\n"
            "    return ordered.drop_duplicates('_key', keep='last').drop(columns='_key')\n"
            f"{F}\nIn your sample the two rows for the same person collapse into the May one.",
        ),
        ("user", f"Obrigado! The {a.split()[0]} rows are merged now."),
    ]


@corpus_log("code-debounce-js-no", "coding", "debounce a JavaScript handler")
def _(v: Vault):
    name = v.person("Søren Kjærgaard")
    key = v.google()
    host = v.host("soren-kjaergaard-mbp.local")
    return [
        (
            "user",
            "My search box fires a Maps autocomplete request on every keystroke and we are "
            "burning quota. How do I debounce it?\n"
            f"{F}javascript\nconst MAPS_KEY = '{key}';\n"
            "input.addEventListener('input', e => lookup(e.target.value, MAPS_KEY));\n"
            f"{F}\nI'm testing on http://{host}:5173. Hilsen, {name}",
        ),
        (
            "assistant",
            "Wrap the handler so it only runs once typing pauses:\n"
            f"{F}javascript\nfunction debounce(fn, wait = 300) {{\n  let timer;\n"
            "  return (...args) => {\n    clearTimeout(timer);\n"
            "    timer = setTimeout(() => fn(...args), wait);\n  };\n}\n"
            "input.addEventListener('input', debounce(e => lookup(e.target.value), 300));\n"
            f"{F}\nEvery keystroke resets the timer; only the last one within 300 ms calls "
            "lookup. Keep the key on the server side and restrict it by HTTP referrer.",
        ),
        ("user", f"Tak! /{name.split()[0]}"),
    ]


@corpus_log("config-compose-env-pl", "coding", "docker compose not loading variables from .env")
def _(v: Vault):
    name = v.person("Zofia Wiśniewska")
    access, secret = v.aws()
    pw = v.password("Wisła#2019!")
    stripe = v.stripe()
    host = v.host("db-wisniewska.prod.internal")
    return [
        (
            "user",
            "docker compose up starts, but inside the container DATABASE_URL is empty. My .env:\n"
            f"{F}dotenv\nDATABASE_URL=postgres://zofia:{pw}@{host}:5432/shop\n"
            f"AWS_ACCESS_KEY_ID={access}\nAWS_SECRET_ACCESS_KEY={secret}\n"
            f"STRIPE_SECRET={stripe}\n{F}\nand compose.yaml:\n"
            f"{F}yaml\nservices:\n  web:\n    image: shop:latest\n    environment:\n"
            f"      - DATABASE_URL\n{F}",
        ),
        (
            "assistant",
            "The .env file next to compose.yaml only feeds variable substitution in the compose "
            "file; it is not passed into containers. Either list it with `env_file`, or "
            "substitute explicitly:\n"
            f"{F}yaml\nservices:\n  web:\n    image: shop:latest\n    env_file: .env\n"
            "    environment:\n      DATABASE_URL: ${DATABASE_URL}\n"
            f"{F}\nThen check with `docker compose config` and `docker compose exec web env`. "
            "Rotate the keys you pasted here, and keep .env out of git.",
        ),
        ("user", f"That was it, thanks. Zofia ({name})"),
    ]


@corpus_log("config-gha-cache-tr", "coding", "GitHub Actions cache for pip keyed on lock file")
def _(v: Vault):
    name = v.person("Mehmet Yılmaz")
    gl = v.gitlab()
    slack = v.slack()
    mail = v.email("mehmet.yilmaz", "kuzeyyazilim.com.tr")
    return [
        (
            "user",
            "Our CI reinstalls every dependency on each run, 6 minutes wasted. Workflow:\n"
            f"{F}yaml\nname: test\non: [push]\nenv:\n  GITLAB_MIRROR_TOKEN: {gl}\n"
            f"  SLACK_BOT_TOKEN: {slack}\n  NOTIFY: {mail}\njobs:\n  test:\n"
            "    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
            "      - run: pip install -r requirements.txt\n      - run: pytest -q\n"
            f"{F}\nMehmet",
        ),
        (
            "assistant",
            "Let setup-python cache pip's download directory, keyed on the requirements file, "
            "so the cache is reused until the file changes:\n"
            f"{F}yaml\n      - uses: actions/setup-python@v5\n        with:\n"
            "          python-version: '3.11'\n          cache: pip\n"
            "          cache-dependency-path: requirements.txt\n"
            f"      - run: pip install -r requirements.txt\n{F}\n"
            "Move the two tokens into repository secrets (`${{ secrets.SLACK_BOT_TOKEN }}`): "
            "anything in `env:` is visible in the logs of forks.",
        ),
        ("user", f"Down to 50 seconds. Teşekkürler — {name}"),
    ]


@corpus_log("sql-window-vi", "data_analysis", "running monthly revenue per customer (SQL window)")
def _(v: Vault):
    name = v.person("Nguyễn Thị Minh Khai")
    iban1, iban2 = v.iban("DE"), v.iban("NL")
    card = v.card("mastercard", grouped=False)
    c1, c2 = v.person("Trần Văn Bảo"), v.person("Phạm Thu Hằng")
    return [
        (
            "user",
            "I need each customer's revenue per month and a running total. Table rows look like:\n"
            f"{F}sql\nINSERT INTO payments (customer, iban, card, amount, paid_at) VALUES\n"
            f"  ('{c1}', '{iban1}', NULL, 120.00, '2026-01-14'),\n"
            f"  ('{c2}', '{iban2}', '{card}', 75.50, '2026-01-20');\n{F}\n"
            f"Postgres 16. — {name}",
        ),
        (
            "assistant",
            "Aggregate per month first, then run a window over the monthly rows:\n"
            f"{F}sql\nWITH monthly AS (\n"
            "  SELECT customer, date_trunc('month', paid_at) AS month, sum(amount) AS revenue\n"
            "  FROM payments GROUP BY customer, month\n)\n"
            "SELECT customer, month, revenue,\n"
            "       sum(revenue) OVER (PARTITION BY customer ORDER BY month) AS running_total\n"
            f"FROM monthly ORDER BY customer, month;\n{F}\n"
            "Doing the window over the raw payments would give a running total per payment, "
            "not per month.",
        ),
        ("user", f"Cảm ơn! {name.split()[-1]} here, works."),
    ]


@corpus_log("shell-rsync-nl", "coding", "nightly rsync backup with retention, run from cron")
def _(v: Vault):
    name = v.person("Pieter van der Berg")
    login = v.login("pvdberg", "nas.vanderberg.thuis")
    ip = v.ip()
    pem = v.pem()
    return [
        (
            "user",
            "I want a nightly backup of /srv/photos to my NAS with 14 days of snapshots. "
            f"I can ssh as {login} (it is at {ip}). Key below in case it matters:\n"
            f"{F}\n{pem}\n{F}",
        ),
        (
            "assistant",
            "Never paste a private key anywhere: generate a new one and remove this one from "
            "authorized_keys. For the backup, use rsync's --link-dest so each night is a full "
            "snapshot that only stores changed files:\n"
            f"{F}bash\n#!/usr/bin/env bash\nset -euo pipefail\nSRC=/srv/photos/\n"
            'DEST="$1"   # user@host:/backups/photos\ntoday=$(date +%F)\n'
            'rsync -a --delete --link-dest=../latest "$SRC" "$DEST/$today"\n'
            'ssh "${DEST%%:*}" "cd ${DEST#*:} && ln -sfn $today latest && '
            'ls -1d 20* | head -n -14 | xargs -r rm -rf"\n'
            f"{F}\nRun it from cron at 02:30 with the destination as the argument.",
        ),
        ("user", f"Done, new key is in. Groeten, {name}"),
    ]


@corpus_log("code-jwt-es", "coding", "inspect a JWT's claims without verifying (debugging)")
def _(v: Vault):
    name = v.person("María José de la Fuente")
    mail = v.email("mjdelafuente", "clinicasol.es")
    token = v.jwt("user-4471", mail)
    return [
        (
            "user",
            f"I'm {name} ({mail}). Our API says my token is expired but I think the clock is "
            f"wrong. How can I see what's inside it? Token: {token}",
        ),
        (
            "assistant",
            "A JWT is three base64url parts; the middle one is the claims. For debugging you can "
            "decode it without verifying (never trust it for authorisation this way):\n"
            f"{F}python\nimport base64\nimport json\n\n"
            "def jwt_claims(token):\n"
            "    payload = token.split('.')[1]\n"
            "    payload += '=' * (-len(payload) % 4)\n"
            "    return json.loads(base64.urlsafe_b64decode(payload))\n"
            f"{F}\nCompare `exp` with `int(time.time())` on the server; a skew of minutes "
            "usually means NTP is not running there.",
        ),
        ("user", f"exp is fine, it was NTP. Gracias — {name.split()[0]} {name.split()[-1]}"),
    ]


@corpus_log("code-twilio-cy", "coding", "send an SMS with Twilio's REST API and check the result")
def _(v: Vault):
    name = v.person("Ffion Pritchard")
    sid, key_sid = v.twilio()
    secret = v.secret(32)
    to, frm = v.phone("uk"), v.phone("us")
    return [
        (
            "user",
            f"Trying to send a text to {to} from our Twilio number {frm}. Account {sid}, "
            f"API key {key_sid}, secret {secret}. I get 401 every time. Code:\n"
            f"{F}python\nimport requests\nrequests.post(URL, data=body, auth=('{sid}', '{secret}'))\n{F}",
        ),
        (
            "assistant",
            "With an API key the basic-auth user is the key SID (SK...), not the account SID; "
            "the account SID goes in the URL. A helper that reports Twilio's error clearly:\n"
            f"{F}python\nimport requests\n\n"
            "def send_sms(account_sid, key_sid, key_secret, sender, to, text):\n"
            "    url = f'https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Messages.json'\n"
            "    r = requests.post(url, data={'From': sender, 'To': to, 'Body': text},\n"
            "                      auth=(key_sid, key_secret), timeout=10)\n"
            "    if r.status_code >= 400:\n"
            "        raise RuntimeError(f\"twilio {r.status_code}: {r.json().get('message')}\")\n"
            f"    return r.json()['sid']\n{F}",
        ),
        ("user", f"Sorted. Diolch yn fawr! Ffion\n{name}"),
    ]


@corpus_log("code-hf-download-se", "coding", "download one file from a private Hugging Face repo")
def _(v: Vault):
    name = v.person("Björn Åkesson")
    tok = v.hf()
    login = v.login("bjorn", "gpu-akesson-02")
    return [
        (
            "user",
            f"On {login} I want to fetch only config.json from our private model repo, "
            f"not the whole 14 GB. Token {tok}. /{name}",
        ),
        (
            "assistant",
            "hf_hub_download fetches one file and caches it; pass the token from the "
            "environment instead of the code:\n"
            f"{F}python\nimport os\n\nfrom huggingface_hub import hf_hub_download\n\n"
            "def fetch_file(repo_id, filename, revision='main'):\n"
            "    return hf_hub_download(repo_id, filename, revision=revision,\n"
            "                           token=os.environ.get('HF_TOKEN'))\n"
            f"{F}\nSet HF_TOKEN in the shell (or `huggingface-cli login`) and it returns "
            "the cached path.",
        ),
        ("user", "Tack, 2 seconds instead of 20 minutes."),
    ]


@corpus_log("code-anthropic-retry-cy", "coding", "handle rate limits from an LLM API client")
def _(v: Vault):
    name = v.person("Dafydd ap Gruffydd")
    key = v.anthropic()
    mail = v.email("dafydd", "gruffydd.cymru")
    return [
        (
            "user",
            "Batch job summarising 10k tickets dies with 429 after a few hundred. Client setup:\n"
            f'{F}python\nimport anthropic\nclient = anthropic.Anthropic(api_key="{key}")\n{F}\n'
            f"Reports go to {mail}.",
        ),
        (
            "assistant",
            "Respect the server's `retry-after` and cap concurrency. The SDK already retries; "
            "raise its max_retries and bound your own parallelism:\n"
            f"{F}python\nimport concurrent.futures as cf\n\n"
            "def run_bounded(items, work, workers=4):\n"
            "    with cf.ThreadPoolExecutor(max_workers=workers) as pool:\n"
            "        return list(pool.map(work, items))\n"
            f"{F}\nCreate the client with `anthropic.Anthropic(max_retries=8)` and the key from "
            "ANTHROPIC_API_KEY; four workers stay well under the default rate limit.",
        ),
        ("user", f"All 10k done overnight. Hwyl, {name}"),
    ]


@corpus_log(
    "docker-multistage-pl", "coding", "multi-stage Dockerfile that keeps secrets out of layers"
)
def _(v: Vault):
    name = v.person("Łukasz Brzęczyszczykiewicz")
    access, secret = v.aws()
    host = v.host("registry.brzeczyszczykiewicz.pl")
    return [
        (
            "user",
            f"Our image on {host} is 1.9 GB and trivy says it contains AWS keys. Dockerfile:\n"
            f"{F}dockerfile\nFROM python:3.11\nENV AWS_ACCESS_KEY_ID={access}\n"
            f"ENV AWS_SECRET_ACCESS_KEY={secret}\nCOPY . /app\n"
            f'RUN pip install -r /app/requirements.txt\nCMD ["python", "/app/main.py"]\n{F}\n'
            f"Łukasz",
        ),
        (
            "assistant",
            "ENV values are baked into the image metadata. Build in one stage, copy only the "
            "installed packages into a slim stage, and pass credentials at run time:\n"
            f"{F}dockerfile\nFROM python:3.11 AS build\nCOPY requirements.txt .\n"
            "RUN pip install --prefix=/install -r requirements.txt\n\n"
            "FROM python:3.11-slim\nCOPY --from=build /install /usr/local\nCOPY . /app\n"
            'CMD ["python", "/app/main.py"]\n'
            f"{F}\nUse `--secret` mounts for build-time credentials and an IAM role or "
            "`docker run -e` at run time. Rotate those keys now.",
        ),
        ("user", f"312 MB and clean. Dzięki! {name}"),
    ]


@corpus_log("code-btcli-register", "coding", "register a hotkey and check it with a script")
def _(v: Vault):
    name = v.person("Tomasz")
    words = v.mnemonic()
    cold = v.ss58(words)
    hot = v.ss58()
    return [
        (
            "user",
            f"{name} here. I restored my coldkey from `{words}` and the address is {cold}. "
            f"How do I check from Python that my hotkey {hot} is registered on netuid 42?",
        ),
        (
            "assistant",
            "First: that phrase controls your funds; anyone who read this chat can move them. "
            "Create a new coldkey and transfer everything now. For the check, read the "
            "metagraph and look the hotkey up:\n"
            f"{F}python\ndef is_registered(metagraph, hotkey_ss58):\n"
            "    return any(n.hotkey == hotkey_ss58 for n in metagraph.neurons)\n"
            f"{F}\nFetch the metagraph with the SDK client for the netuid and pass it in.",
        ),
        ("user", f"Moved the funds to a new key. Thanks. {name.upper()}"),
    ]


@corpus_log("code-eth-balance-tr", "coding", "read an ERC-20 token balance with web3")
def _(v: Vault):
    name = v.person("Çağla Öztürk")
    eth = v.eth()
    btc = v.btc()
    return [
        (
            "user",
            f"How do I get the USDC balance of my wallet {eth} with web3.py? I also hold BTC at "
            f"{btc} but that's for later. — {name}",
        ),
        (
            "assistant",
            "Call the token contract's balanceOf and divide by 10**decimals:\n"
            f"{F}python\nERC20_ABI = [\n"
            "    {'name': 'balanceOf', 'type': 'function', 'stateMutability': 'view',\n"
            "     'inputs': [{'name': 'owner', 'type': 'address'}],\n"
            "     'outputs': [{'name': '', 'type': 'uint256'}]},\n"
            "    {'name': 'decimals', 'type': 'function', 'stateMutability': 'view',\n"
            "     'inputs': [], 'outputs': [{'name': '', 'type': 'uint8'}]},\n]\n\n"
            "def token_balance(w3, token_address, owner):\n"
            "    token = w3.eth.contract(address=token_address, abi=ERC20_ABI)\n"
            "    raw = token.functions.balanceOf(owner).call()\n"
            f"    return raw / 10 ** token.functions.decimals().call()\n{F}",
        ),
        ("user", f"Works, teşekkürler. {name.split()[0]}"),
    ]


@corpus_log("config-json-schema-no", "coding", "validate a JSON config against a schema at startup")
def _(v: Vault):
    name = v.person("Ingrid Bjørnstad")
    slack = v.slack()
    host = v.host("ingrid-bjornstad.vpn.fjordhavn.no")
    ip = v.ip()
    cfg = (
        f'{{\n  "service": "alerts",\n  "slack_token": "{slack}",\n'
        f'  "upstream": "https://{host}/api",\n  "bind": "{ip}:8443",\n  "retries": "3"\n}}'
    )
    return [
        (
            "user",
            f"Our alert service crashed in production because `retries` was a string. Config:\n"
            f"{F}json\n{cfg}\n{F}\nCan we fail at startup instead? /Ingrid",
        ),
        (
            "assistant",
            "Validate the parsed config against a JSON Schema before using it, and report every "
            "problem with its path:\n"
            f"{F}python\nimport jsonschema\n\nSCHEMA = {{\n    'type': 'object',\n"
            "    'required': ['service', 'upstream', 'retries'],\n"
            "    'properties': {'retries': {'type': 'integer', 'minimum': 0}},\n}\n\n"
            "def config_errors(config):\n"
            "    validator = jsonschema.Draft202012Validator(SCHEMA)\n"
            "    return [f\"{'/'.join(map(str, e.path))}: {e.message}\"\n"
            f"            for e in validator.iter_errors(config)]\n{F}\n"
            "Exit with the list when it is not empty.",
        ),
        ("user", f"It now says `retries: '3' is not of type 'integer'`. Takk! {name}"),
    ]


@corpus_log("code-stripe-webhook-br", "coding", "verify a webhook signature with HMAC (Node)")
def _(v: Vault):
    name = v.person("Thiago Araújo")
    sk = v.stripe()
    whsec = "whsec_" + v.secret(32)
    mail = v.email("thiago.araujo", "lojadoaraujo.com.br")
    return [
        (
            "user",
            f"Stripe webhooks to our Express app fail signature checks. Keys: {sk}, webhook "
            f"secret {whsec}. Alerts to {mail}.\n"
            f"{F}javascript\napp.use(express.json());\napp.post('/hook', (req, res) => {{\n"
            "  stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], SECRET);\n"
            f"}});\n{F}",
        ),
        (
            "assistant",
            "The signature is over the raw bytes; express.json() already parsed them. Use the "
            "raw body for that route only:\n"
            f"{F}javascript\napp.post('/hook', express.raw({{ type: 'application/json' }}), (req, res) => {{\n"
            "  let event;\n  try {\n"
            "    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'],\n"
            "                                           process.env.STRIPE_WEBHOOK_SECRET);\n"
            "  } catch (err) {\n    return res.status(400).send(`bad signature: ${err.message}`);\n"
            f"  }}\n  res.json({{ received: true }});\n}});\n{F}\nRegister it before express.json().",
        ),
        ("user", f"Passing now. Valeu, {name}!"),
    ]


@corpus_log("code-nginx-logs", "coding", "parse nginx access log lines with a regex")
def _(v: Vault):
    ip1, ip2 = v.ip(private=False), v.ip(private=False)
    mail = v.email("k.okonkwo", "fastmail.com")
    name = v.person("Kelechi Okonkwo")
    line1 = f'{ip1} - - [02/Mar/2026:10:12:01 +0000] "GET /login?email={mail} HTTP/1.1" 200 512'
    line2 = f'{ip2} - - [02/Mar/2026:10:12:04 +0000] "POST /api/cart HTTP/1.1" 502 0'
    return [
        (
            "user",
            f"I want status codes per path from our nginx logs. Lines look like:\n{F}\n{line1}\n"
            f"{line2}\n{F}\nThe first one is me ({name}) testing.",
        ),
        (
            "assistant",
            "A regex with named groups for the combined format, and a Counter:\n"
            f"{F}python\nimport re\nfrom collections import Counter\n\n"
            "LINE = re.compile(r'(?P<ip>\\S+) \\S+ \\S+ \\[(?P<time>[^\\]]+)\\] '\n"
            '                  r\'"(?P<method>\\S+) (?P<path>[^ ?"]+)\\S* [^"]*" (?P<status>\\d{3})\')\n\n'
            "def status_by_path(lines):\n"
            "    counts = Counter()\n"
            "    for line in lines:\n"
            "        m = LINE.match(line)\n"
            "        if m:\n"
            "            counts[(m['path'], m['status'])] += 1\n"
            f"    return counts\n{F}\nDropping the query string also keeps e-mails in URLs "
            "out of your report.",
        ),
        ("user", "Great, that's exactly the table I wanted."),
    ]


@corpus_log("code-git-token-url-vi", "coding", "stop a token leaking through a git remote URL")
def _(v: Vault):
    name = v.person("Vũ Quang Huy")
    gl = v.gitlab()
    host = v.host("gitlab.vuquanghuy.dev")
    return [
        (
            "user",
            f"`git remote -v` shows https://oauth2:{gl}@{host}/huy/shop.git and our build log "
            "prints it. How do I clone without the token in the URL?",
        ),
        (
            "assistant",
            "Remove it from the remote and let a credential helper supply it:\n"
            f"{F}bash\ngit remote set-url origin https://{'{host}'}/group/project.git\n"
            "git config --global credential.helper store   # or 'cache', or your OS keychain\n"
            'printf \'protocol=https\\nhost=%s\\nusername=oauth2\\npassword=%s\\n\' "$HOST" "$TOKEN" \\\n'
            f"  | git credential approve\n{F}\nIn CI, use the job token variable instead and "
            "revoke the token that was printed.",
        ),
        ("user", f"Log is clean now. Cảm ơn — {name.split()[-1]} ({name})"),
    ]


@corpus_log("code-settings-env-many", "coding", "typed settings from environment, failing on gaps")
def _(v: Vault):
    keys = {
        "OPENAI_API_KEY": v.openai(),
        "ANTHROPIC_API_KEY": v.anthropic(),
        "HF_TOKEN": v.hf(),
        "GOOGLE_MAPS_KEY": v.google(),
        "STRIPE_SECRET_KEY": v.stripe(),
        "SLACK_BOT_TOKEN": v.slack(),
        "GITHUB_TOKEN": v.github(),
    }
    sid, key_sid = v.twilio()
    keys |= {"TWILIO_ACCOUNT_SID": sid, "TWILIO_API_KEY": key_sid}
    env = "\n".join(f"{k}={val}" for k, val in keys.items())
    owner = v.person("Ngozi Eze-Okoli")
    return [
        (
            "user",
            f"Our app reads 8 keys with os.getenv and silently gets None when one is missing. "
            f".env on my laptop:\n{F}bash\n{env}\n{F}\nHow do I make startup fail clearly? "
            f"({owner})",
        ),
        (
            "assistant",
            "Declare the settings once with types; pydantic-settings reads the environment (and "
            ".env) and raises a single error listing every missing or malformed value:\n"
            f"{F}python\nfrom pydantic import SecretStr\nfrom pydantic_settings import BaseSettings, "
            "SettingsConfigDict\n\n\nclass Settings(BaseSettings):\n"
            "    model_config = SettingsConfigDict(env_file='.env')\n\n"
            "    openai_api_key: SecretStr\n    anthropic_api_key: SecretStr\n"
            "    hf_token: SecretStr\n    stripe_secret_key: SecretStr\n"
            f"{F}\nSecretStr keeps the values out of reprs and logs.",
        ),
        ("user", f"Startup now names the missing key. Thanks, {owner.split()[0]}."),
    ]


@corpus_log("code-pytest-fixtures", "coding", "parametrised tests for a sign-up form validator")
def _(v: Vault):
    people = [
        (v.person("Gráinne Ní Mhurchú"), v.email("grainne.nimhurchu", "eircom.net"), v.phone("uk")),
        (
            v.person("Bartholomäus Österreicher"),
            v.email("b.oesterreicher", "gmx.at"),
            v.phone("de"),
        ),
        (v.person("Nguyễn Văn Thành"), v.email("thanh.nguyen", "vnpt.vn"), v.phone("vn")),
        (v.person("Ayşe Çelik"), v.email("ayse.celik", "yandex.com.tr"), v.phone("tr")),
    ]
    dob = v.dob("iso")
    rows = ",\n".join(f'    ("{n}", "{e}", "{p}")' for n, e, p in people)
    return [
        (
            "user",
            "I copied real sign-ups into our test file, which I now regret. Test:\n"
            f"{F}python\nimport pytest\n\nCASES = [\n{rows},\n]\n\n"
            "@pytest.mark.parametrize('name,email,phone', CASES)\n"
            "def test_signup(name, email, phone):\n"
            f"    assert validate(name, email, phone)\n{F}\n"
            f"The first one signed up with birth date {dob}. How should these tests look?",
        ),
        (
            "assistant",
            "Generate synthetic data with the shapes you care about (accents, long names, "
            "international numbers) instead of real people, and test the failures too:\n"
            f"{F}python\nimport pytest\n\nVALID = [\n"
            "    ('Zoë Ångström', 'zoe@example.com', '+44 20 7946 0000'),\n"
            "    ('Nguyễn A', 'a@example.org', '+84 24 0000 0000'),\n]\n"
            "INVALID = [('', 'a@example.com', '+44 20 7946 0000'), ('Ann', 'not-an-email', '1')]\n\n"
            "@pytest.mark.parametrize('name,email,phone', VALID)\n"
            "def test_accepts(name, email, phone):\n    assert validate(name, email, phone)\n\n"
            "@pytest.mark.parametrize('name,email,phone', INVALID)\n"
            "def test_rejects(name, email, phone):\n"
            f"    assert not validate(name, email, phone)\n{F}\n"
            "Use example.com/example.org domains and the reserved drama number ranges.",
        ),
        ("user", "Rewrote the file and purged the history."),
    ]
